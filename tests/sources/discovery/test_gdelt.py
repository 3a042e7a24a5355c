from __future__ import annotations

from datetime import date

import pytest

from sources.discovery.base import BadAnswer, SourceUnreachable
from sources.discovery.gdelt import GdeltAdapter, date_window, to_gdelt_query
from tests.sources.discovery.conftest import Answer
from tests.sources.discovery.support import request_for

DOC = "/api/v2/doc/doc"


def artlist(*urls: str) -> dict[str, object]:
    """The shape of a real DOC 2.0 `mode=ArtList&format=json` answer."""
    return {
        "articles": [
            {
                "url": url,
                "url_mobile": "",
                "title": f"Headline {i}",
                "seendate": "20180306T120000Z",
                "socialimage": "",
                "domain": "example.org",
                "language": "English",
                "sourcecountry": "United States",
            }
            for i, url in enumerate(urls)
        ]
    }


def test_artlist_answer_becomes_ranked_candidates(api, settings, run_adapter):
    base = api.json(DOC, artlist("https://a.example/1", "https://b.example/2"))
    request = request_for(
        "North Korea first direct offer talks US", max_results=7, claim_date=date(2018, 3, 6)
    )
    out = run_adapter(GdeltAdapter(base, settings=settings), request)
    asked = api.asked(DOC)[0]
    assert asked["mode"] == "ArtList"
    assert asked["format"] == "json"
    assert asked["maxrecords"] == "7"
    assert asked["query"] == "North Korea first direct offer talks"  # "US" is too short
    # the news window: three years before the claim, sixty days after (corrections)
    assert asked["startdatetime"] == "20150307000000"
    assert asked["enddatetime"] == "20180505235959"
    assert [(c.url, c.rank, c.adapter) for c in out.candidates] == [
        ("https://a.example/1", 1, "gdelt"),
        ("https://b.example/2", 2, "gdelt"),
    ]
    assert out.candidates[0].meta["seendate"] == "20180306T120000Z"
    assert out.candidates[0].title == "Headline 0"


@pytest.mark.parametrize("body", [b"{}", b"", b'{"articles": []}'], ids=["braces", "empty", "list"])
def test_no_hits_is_no_candidates(api, settings, run_adapter, body):
    api.route(DOC, Answer(body))
    out = run_adapter(GdeltAdapter(api.url(DOC), settings=settings), request_for("rare words"))
    assert out.candidates == ()


@pytest.mark.parametrize(
    "answer,error,fragment",
    [
        (
            Answer(b"The specified phrase is too short.", content_type="text/html"),
            BadAnswer,
            "GDELT refused the query: The specified phrase is too short.",
        ),
        (Answer(b"<html><h1>Error</h1></html>", content_type="text/html"), BadAnswer, "HTML"),
        (Answer(b'{"articles": [{"title": "no url"}]}'), BadAnswer, "no URL"),
        (Answer(b'{"articles": {"url": 1}}'), BadAnswer, "not a JSON list"),
        (Answer(b'{"articles": [', content_type="application/json"), BadAnswer, "malformed"),
        (Answer(b"busy", status=503, content_type="text/plain"), SourceUnreachable, "503"),
    ],
    ids=["refusal", "html", "no-url", "wrong-shape", "malformed", "503"],
)
def test_error_answers(api, settings, run_adapter, answer, error, fragment):
    api.route(DOC, answer)
    with pytest.raises(error, match=fragment):
        run_adapter(GdeltAdapter(api.url(DOC), settings=settings), request_for("some words"))


def test_gdelt_query_keeps_phrases_and_drops_short_words():
    assert to_gdelt_query('"we will never raise taxes" UK tax 3.5%') == (
        '"we will never raise taxes" tax'
    )
    assert to_gdelt_query("US UK EU") == ""


def test_query_with_nothing_gdelt_accepts_is_not_sent(api, settings, run_adapter):
    api.json(DOC, artlist("https://a.example/1"))
    out = run_adapter(GdeltAdapter(api.url(DOC), settings=settings), request_for("US UK"))
    assert out.candidates == ()
    assert api.asked(DOC) == []


def test_no_date_window_without_a_claim_date():
    assert date_window(None) == {}
