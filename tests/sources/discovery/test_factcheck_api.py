from __future__ import annotations

from datetime import date

import pytest

from sources.discovery.base import AdapterMisconfigured, BadAnswer, SourceUnreachable
from sources.discovery.factcheck_api import FactCheckApiAdapter
from tests.sources.discovery.conftest import Answer
from tests.sources.discovery.support import request_for

SEARCH = "/v1alpha1/claims:search"


def claims_answer() -> dict[str, object]:
    """The shape of a real `claims:search` answer (two claims, three reviews)."""
    return {
        "claims": [
            {
                "text": "North Korea offered direct talks with the US for the first time",
                "claimant": "State media",
                "claimDate": "2018-03-05T00:00:00Z",
                "claimReview": [
                    {
                        "publisher": {"name": "PolitiFact", "site": "politifact.com"},
                        "url": "https://www.politifact.com/factchecks/2018/mar/07/nk/",
                        "title": "No, not the first offer",
                        "reviewDate": "2018-03-07T00:00:00Z",
                        "textualRating": "Mostly False",
                        "languageCode": "en",
                    },
                    {
                        "publisher": {"site": "factcheck.example"},
                        "url": "https://factcheck.example/nk-talks",
                        "textualRating": "Misleading",
                        "languageCode": "en",
                    },
                ],
            },
            {
                "text": "Pyongyang proposed talks",
                "claimReview": [
                    {
                        "publisher": {"name": "AFP Fact Check", "site": "factcheck.afp.com"},
                        "url": "https://factcheck.afp.com/nk",
                        "reviewDate": "not a date",
                        "textualRating": "True",
                    },
                    {"publisher": "broken", "title": "a review without a URL is skipped"},
                ],
            },
        ],
        "nextPageToken": "CAo",
    }


def test_reviews_become_fact_checks_and_candidates(api, settings, run_adapter):
    base = api.json(SEARCH, claims_answer())
    out = run_adapter(
        FactCheckApiAdapter(base, settings=settings),
        request_for("North Korea talks", max_results=5),
    )
    asked = api.asked(SEARCH)[0]
    assert asked == {"query": "North Korea talks", "pageSize": "5", "key": "test-key-123"}
    first = out.fact_checks[0]
    assert first.publisher == "PolitiFact"
    assert first.rating == "Mostly False"
    assert first.url == "https://www.politifact.com/factchecks/2018/mar/07/nk/"
    assert first.review_date == date(2018, 3, 7)
    assert first.claimant == "State media"
    assert first.claim_reviewed.startswith("North Korea offered")
    assert out.fact_checks[1].publisher == "factcheck.example"  # no name: the site
    assert out.fact_checks[2].review_date is None
    assert len(out.fact_checks) == 3
    assert [(c.url, c.rank, c.adapter) for c in out.candidates] == [
        (f.url, i, "factcheck-api") for i, f in enumerate(out.fact_checks, start=1)
    ]
    assert out.candidates[0].meta["rating"] == "Mostly False"


def test_the_same_review_found_by_two_queries_is_listed_once(api, settings, run_adapter):
    api.json(SEARCH, claims_answer())
    out = run_adapter(
        FactCheckApiAdapter(api.url(SEARCH), settings=settings), request_for("one", "two")
    )
    assert len(api.asked(SEARCH)) == 2
    assert len(out.fact_checks) == 3


def test_empty_answer_is_nothing(api, settings, run_adapter):
    api.json(SEARCH, {})
    out = run_adapter(FactCheckApiAdapter(api.url(SEARCH), settings=settings), request_for("x"))
    assert out.candidates == () and out.fact_checks == ()


def test_without_a_key_the_adapter_fails_clearly_and_asks_nothing(api, settings, run_adapter):
    api.json(SEARCH, claims_answer())
    keyless = settings.model_copy(update={"factcheck_api_key": ""})
    with pytest.raises(AdapterMisconfigured, match="FACTCHECK_FACTCHECK_API_KEY"):
        run_adapter(FactCheckApiAdapter(api.url(SEARCH), settings=keyless), request_for("x"))
    assert api.asked(SEARCH) == []


def test_a_refused_key_is_reported_without_the_key(api, settings, run_adapter):
    error = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
        }
    }
    api.json(SEARCH, error, status=400)
    with pytest.raises(SourceUnreachable) as caught:
        run_adapter(FactCheckApiAdapter(api.url(SEARCH), settings=settings), request_for("x"))
    assert "API key not valid" in str(caught.value)
    assert "(HTTP 400)" in str(caught.value)
    assert "test-key-123" not in str(caught.value)


@pytest.mark.parametrize(
    "answer,error,fragment",
    [
        (Answer(b"", status=500, content_type="text/plain"), SourceUnreachable, "500"),
        (
            Answer(b"<!doctype html><title>Sorry</title>", content_type="text/html"),
            BadAnswer,
            "HTML",
        ),
        (Answer(b'{"claims": [}'), BadAnswer, "malformed"),
        (Answer(b'{"claims": ["text"]}'), BadAnswer, "not a JSON object"),
    ],
    ids=["500", "html", "malformed", "wrong-shape"],
)
def test_error_answers(api, settings, run_adapter, answer, error, fragment):
    api.route(SEARCH, answer)
    with pytest.raises(error, match=fragment) as caught:
        run_adapter(FactCheckApiAdapter(api.url(SEARCH), settings=settings), request_for("x"))
    assert "test-key-123" not in str(caught.value)
