from __future__ import annotations

import json

import pytest

from evidence.errors import AdapterError
from sources.discovery.base import BadAnswer, SourceUnreachable
from sources.discovery.mediawiki import MediaWikiAdapter, page_url
from tests.sources.discovery.conftest import Answer
from tests.sources.discovery.support import request_for

API = "/w/api.php"


def search_answer(*titles: str, total: int | None = None) -> dict[str, object]:
    """The shape of a real `action=query&list=search&format=json` answer."""
    return {
        "batchcomplete": "",
        "continue": {"sroffset": len(titles), "continue": "-||"},
        "query": {
            "searchinfo": {"totalhits": total if total is not None else len(titles)},
            "search": [
                {
                    "ns": 0,
                    "title": title,
                    "pageid": 1000 + i,
                    "size": 52_000,
                    "wordcount": 7_000,
                    "snippet": f'<span class="searchmatch">{title}</span> talks',
                    "timestamp": "2024-01-05T18:41:20Z",
                }
                for i, title in enumerate(titles)
            ],
        },
    }


def test_search_asks_the_documented_parameters_and_builds_page_urls(api, settings, run_adapter):
    base = api.json(API, search_answer("North Korea–United States relations", "Kim Jong Un"))
    adapter = MediaWikiAdapter(base, settings=settings)
    out = run_adapter(adapter, request_for("North Korea talks US", max_results=10))

    asked = api.asked(API)
    assert asked[0]["action"] == "query"
    assert asked[0]["list"] == "search"
    assert asked[0]["format"] == "json"
    assert asked[0]["srsearch"] == "North Korea talks US"
    assert [c.url for c in out.candidates] == [
        f"{api.base}/wiki/North_Korea%E2%80%93United_States_relations",
        f"{api.base}/wiki/Kim_Jong_Un",
    ]
    first = out.candidates[0]
    assert (first.adapter, first.query, first.rank) == ("mediawiki", "North Korea talks US", 1)
    assert first.title == "North Korea–United States relations"
    assert first.meta["timestamp"] == "2024-01-05T18:41:20Z"


def test_results_of_several_queries_take_turns_and_keep_their_own_rank(api, settings, run_adapter):
    answers = {"a": search_answer("A1", "A2"), "b": search_answer("B1", "A1")}
    api.route(API, lambda q: Answer(json.dumps(answers[q["srsearch"]]).encode()))
    out = run_adapter(MediaWikiAdapter(api.url(API), settings=settings), request_for("a", "b"))
    assert [(c.title, c.query, c.rank) for c in out.candidates] == [
        ("A1", "a", 1),
        ("B1", "b", 1),
        ("A2", "a", 2),
    ]


def test_only_the_first_queries_are_sent_and_results_are_capped(api, settings, run_adapter):
    api.json(API, search_answer(*(f"Page {i}" for i in range(20))))
    queries = [f"query {i}" for i in range(5)]
    out = run_adapter(
        MediaWikiAdapter(api.url(API), settings=settings), request_for(*queries, max_results=4)
    )
    assert [q["srsearch"] for q in api.asked(API)] == queries[:5]  # QUERIES_PER_SEARCH
    assert api.asked(API)[0]["srlimit"] == "4"
    assert api.asked(API)[0]["srprop"] == "snippet|timestamp"
    assert len(out.candidates) == 4


def test_empty_results_are_no_candidates(api, settings, run_adapter):
    api.json(API, search_answer(total=0))
    out = run_adapter(MediaWikiAdapter(api.url(API), settings=settings), request_for("zzz"))
    assert out.candidates == ()


@pytest.mark.parametrize(
    "answer,error,fragment",
    [
        (Answer(b"oops", status=500, content_type="text/plain"), SourceUnreachable, "500"),
        (
            Answer(b"<html><body>Wiki down</body></html>", content_type="text/html"),
            BadAnswer,
            "HTML page instead of JSON",
        ),
        (
            Answer(b'{"query": {"search": [', content_type="application/json"),
            BadAnswer,
            "malformed JSON",
        ),
        (
            Answer(
                b'{"error": {"code": "nosrsearch", "info": "The \\"srsearch\\" parameter must '
                b'be set."}, "servedby": "mw1"}'
            ),
            BadAnswer,
            "srsearch",
        ),
        (Answer(b'{"query": {"search": [{"ns": 0}]}}'), BadAnswer, "no title"),
        (Answer(b'["not", "an", "object"]'), BadAnswer, "not a JSON object"),
    ],
    ids=["500", "html", "malformed", "api-error", "no-title", "wrong-shape"],
)
def test_error_answers_raise_adapter_errors(api, settings, run_adapter, answer, error, fragment):
    api.route(API, answer)
    with pytest.raises(error) as caught:
        run_adapter(MediaWikiAdapter(api.url(API), settings=settings), request_for("x y"))
    assert isinstance(caught.value, AdapterError)
    assert caught.value.adapter == "mediawiki"
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    "api_url,title,expected",
    [
        (
            "https://en.wikipedia.org/w/api.php",
            "Kim Jong Un",
            "https://en.wikipedia.org/wiki/Kim_Jong_Un",
        ),
        (
            "https://es.wikipedia.org/w/api.php",
            "Pedro Sánchez",
            "https://es.wikipedia.org/wiki/Pedro_S%C3%A1nchez",
        ),
        ("https://wiki.example.org/api.php", "A/B", "https://wiki.example.org/wiki/A/B"),
        ("http://127.0.0.1:8080/mirror/w/api.php", "X", "http://127.0.0.1:8080/mirror/wiki/X"),
    ],
)
def test_page_url_follows_the_api_base(api_url, title, expected):
    assert page_url(api_url, title) == expected
