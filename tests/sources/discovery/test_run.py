from __future__ import annotations

import asyncio
import json
import time

import pytest

from sources.discovery import ADAPTERS, SourceSpec, parse_source
from sources.discovery.base import Adapter, Candidate, DiscoveryOutput, DiscoveryRequest
from sources.discovery.plan import PlannedQuery, QueryPlan
from sources.discovery.run import (
    FAILURE_KINDS,
    DiscoveryResult,
    discover,
    make_request,
    merge,
    request_for_plan,
)
from sources.fetch import AsyncFetcher
from tests.sources.discovery.conftest import Answer
from tests.sources.discovery.support import request_for
from tests.sources.discovery.test_mediawiki import search_answer

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://f/</link>
<description>d</description><item><title>North Korea offers talks</title>
<link>https://feed.example/nk</link></item></channel></rss>"""


def run_discover(settings, request, specs) -> DiscoveryResult:
    async def go() -> DiscoveryResult:
        async with AsyncFetcher(settings) as fetcher:
            return await discover(request, specs, fetcher, settings)

    return asyncio.run(go())


class CrashingAdapter(Adapter):
    kind = "test-crash"
    needs_target = False

    async def discover(self, request, fetcher):
        raise ZeroDivisionError("division by zero")


class GarbageAdapter(Adapter):
    kind = "test-garbage"
    needs_target = False

    async def discover(self, request, fetcher):
        return ["https://not-a-candidate.example/"]

    async def run(self, request, fetcher):
        return DiscoveryOutput(candidates=tuple(await self.discover(request, fetcher)))


def test_failing_sources_are_recorded_and_the_others_still_answer(api, settings, monkeypatch):
    monkeypatch.setitem(ADAPTERS, CrashingAdapter.kind, CrashingAdapter)
    monkeypatch.setitem(ADAPTERS, GarbageAdapter.kind, GarbageAdapter)
    api.json("/w/api.php", search_answer("Kim Jong Un"))
    api.route("/gdelt", Answer(b"boom", status=500, content_type="text/plain"))
    api.route("/feed.xml", Answer(RSS.encode(), content_type="application/rss+xml", delay_s=3))
    api.route("/sitemap.xml", Answer(b"<html>garbage</html>", content_type="text/html"))
    fast = settings.model_copy(update={"adapter_timeout_s": 0.5, "factcheck_api_key": ""})
    specs = [
        parse_source(f"mediawiki={api.url('/w/api.php')}"),
        parse_source(f"gdelt={api.url('/gdelt')}"),
        parse_source(f"rss={api.url('/feed.xml')}"),
        parse_source(f"sitemap={api.url('/sitemap.xml')}"),
        parse_source(f"factcheck-api={api.url('/fc')}"),
        parse_source("url=https://given.example/page"),
        SourceSpec(CrashingAdapter.kind),
        SourceSpec(GarbageAdapter.kind),
    ]
    started = time.perf_counter()
    result = run_discover(fast, request_for("North Korea offers talks"), specs)
    elapsed = time.perf_counter() - started

    assert elapsed < 2.5  # the hanging feed did not hold the others up
    assert [c.url for c in result.candidates] == [
        f"{api.base}/wiki/Kim_Jong_Un",
        "https://given.example/page",
    ]
    kinds = {f.adapter: f.kind for f in result.failures}
    assert kinds == {
        "gdelt": "fetch",
        "rss": "timeout",
        "sitemap": "bad_answer",
        "factcheck-api": "config",
        "test-crash": "crash",
        "test-garbage": "invalid_output",
    }
    assert set(kinds.values()) <= set(FAILURE_KINDS)
    by_adapter = {f.adapter: f for f in result.failures}
    assert by_adapter["rss"].message == "no answer within 0.5 s."
    assert by_adapter["rss"].source == f"rss={api.url('/feed.xml')}"
    assert "500" in by_adapter["gdelt"].message
    assert "ZeroDivisionError" in by_adapter["test-crash"].message
    assert all(f.message.endswith(".") or f.kind == "crash" for f in result.failures)
    assert result.sources == tuple(str(s) for s in specs)


def test_duplicates_merge_on_the_normalised_url_keeping_every_proposal(api, settings):
    api.json("/w/api.php", search_answer("Kim Jong Un"))
    same_page = f"{api.base}/wiki/Kim_Jong_Un"
    specs = [
        parse_source(f"mediawiki={api.url('/w/api.php')}"),
        parse_source(f"url={same_page}?utm_source=x#section"),
        parse_source(f"url={same_page.replace('http://', 'HTTP://')}#top"),
    ]
    result = run_discover(settings, request_for("Kim Jong Un"), specs)
    assert [c.url for c in result.candidates] == [same_page]
    merged = result.candidates[0]
    assert merged.adapter == "mediawiki" and merged.rank == 1
    proposals = merged.meta["proposals"]
    assert [(p["adapter"], p["rank"]) for p in proposals] == [
        ("mediawiki", 1),
        ("url", 1),
        ("url", 1),
    ]
    assert proposals[0]["query"] == "Kim Jong Un"


def test_default_ports_fragments_and_tracking_parameters_merge():
    out = DiscoveryOutput(
        (
            Candidate("HTTPS://News.Example:443/a?utm_campaign=x&b=2&a=1#top", "rss", "q", 2),
            Candidate("https://news.example/a?a=1&b=2", "gdelt", "q", 1),
            Candidate("ftp://news.example/file", "gdelt", "q", 2),
            Candidate(
                "file:///archive/page.html", "dir", "q", 3, meta={"path": "/archive/page.html"}
            ),
        )
    )
    merged, dropped = merge([(SourceSpec("rss", "https://f"), out)])
    assert [c.url for c in merged] == [
        "https://news.example/a?a=1&b=2",
        "file:///archive/page.html",
    ]
    assert merged[0].adapter == "gdelt" and merged[0].rank == 1
    assert dropped == 1
    assert merged[1].meta["path"] == "/archive/page.html"


def test_origin_candidates_come_first_then_the_fused_ranking():
    def output(kind, *urls, start=1):
        return DiscoveryOutput(
            tuple(Candidate(u, kind, "q", i) for i, u in enumerate(urls, start=start))
        )

    merged, _ = merge(
        [
            (SourceSpec("mediawiki"), output("mediawiki", "https://w/1", "https://w/2")),
            (SourceSpec("gdelt"), output("gdelt", "https://g/1", "https://g/2", "https://w/2")),
            (SourceSpec("origin"), output("origin", "https://o/", "https://o/link", start=0)),
        ]
    )
    # w/2, proposed by both sources, leads; then the two tops of one source each (the
    # earlier source first), then the rest by rank
    assert [c.url for c in merged] == [
        "https://o/",
        "https://o/link",
        "https://w/2",
        "https://w/1",
        "https://g/1",
        "https://g/2",
    ]


def test_candidates_are_capped_per_claim_and_budgeted_per_source(api, settings):
    api.json("/w/api.php", search_answer(*(f"Page {i}" for i in range(12))))
    capped = settings.model_copy(
        update={"max_candidates": 5, "candidate_budgets": {"mediawiki": 8}}
    )
    request = make_request("Kim Jong Un visited Beijing", settings=capped)
    result = run_discover(capped, request, [parse_source(f"mediawiki={api.url('/w/api.php')}")])
    assert len(result.candidates) == 5
    assert result.capped == 3  # the wiki's budget is 8; the 5 best of the fused ranking stay
    assert {q["srlimit"] for q in api.asked("/w/api.php")} == {"8"}
    many = settings.model_copy(update={"max_candidates": 3})
    result = run_discover(
        many,
        request_for("a", "b", max_results=10),
        [parse_source(f"mediawiki={api.url('/w/api.php')}")],
    )
    assert len(result.candidates) == 3 and result.capped == 7


def test_make_request_plans_queries_and_sizes_the_request(settings):
    request = make_request(
        "North Korea made its first direct offer of talks to the US",
        settings=settings,
        origin_url="https://news.example/nk",
    )
    assert request.plan is not None and request.queries == request.plan.texts
    families = [q.family for q in request.plan.queries]
    assert families[0] == "origin" and "refutation" in families
    assert set(families) == {"origin", "topic", "refutation"}
    assert request.queries[0] == '"North Korea" "first direct offer"'
    assert request.max_results == settings.max_candidates
    assert request.origin_url == "https://news.example/nk"


def test_no_sources_at_all_is_an_empty_result(settings):
    result = run_discover(settings, DiscoveryRequest("x", ("x",)), [])
    assert result.candidates == () and result.failures == ()


def test_the_origin_source_is_added_when_the_claim_has_a_url():
    from sources.discovery.run import with_origin

    request = DiscoveryRequest("x", ("x",), origin_url="https://o.example/")
    assert with_origin([SourceSpec("url", "https://u/")], request)[0] == SourceSpec("origin")
    assert with_origin([SourceSpec("origin", "https://p/")], request) == [
        SourceSpec("origin", "https://p/")
    ]
    assert with_origin([], DiscoveryRequest("x", ("x",))) == []


@pytest.mark.parametrize("kind", sorted(FAILURE_KINDS))
def test_failure_kinds_are_explained(kind):
    assert FAILURE_KINDS[kind].strip()


def test_failure_as_json_round_trips(api, settings):
    api.route("/gdelt", Answer(b"boom", status=500, content_type="text/plain"))
    result = run_discover(
        settings, request_for("North Korea"), [parse_source(f"gdelt={api.url('/gdelt')}")]
    )
    payload = json.loads(json.dumps(result.failures[0].as_json()))
    assert payload["adapter"] == "gdelt" and payload["kind"] == "fetch"


def test_the_claims_own_page_leads_even_when_no_origin_source_is_configured(api, settings):
    from tests.sources.discovery.test_origin import article

    page = api.route(
        "/news/nk",
        Answer(
            article('see <a href="https://wire.example/x">x</a>').encode(), content_type="text/html"
        ),
    )
    api.json("/w/api.php", search_answer("Kim Jong Un"))
    request = make_request("North Korea offers talks", settings=settings, origin_url=page)
    result = run_discover(settings, request, [parse_source(f"mediawiki={api.url('/w/api.php')}")])
    assert result.sources[0] == "origin"
    assert [c.adapter for c in result.candidates][:2] == ["origin", "origin"]
    assert result.candidates[0].url == page
    assert result.candidates[-1].adapter == "mediawiki"


def test_each_source_gets_its_budget_and_every_search_is_listed(api, settings):
    api.json("/w/api.php", search_answer(*(f"Page {i}" for i in range(50))))
    api.route("/feed.xml", Answer(RSS.encode(), content_type="application/rss+xml"))
    budgets = settings.model_copy(
        update={"candidate_budgets": {"mediawiki": 6, "rss": 2}, "max_candidates": 100}
    )
    specs = [
        parse_source(f"mediawiki={api.url('/w/api.php')}"),
        parse_source(f"rss={api.url('/feed.xml')}"),
    ]
    request = make_request("North Korea offers talks to Kim Jong Un", settings=budgets)
    result = run_discover(budgets, request, specs)
    by_adapter = [c.adapter for c in result.candidates]
    assert by_adapter.count("mediawiki") == 6 and by_adapter.count("rss") == 1
    assert {q["srlimit"] for q in api.asked("/w/api.php")} == {"6"}
    wiki_searches = [s for s in result.searches if s["adapter"] == "mediawiki"]
    assert [s["query"] for s in wiki_searches] == [q["srsearch"] for q in api.asked("/w/api.php")]
    assert {s["family"] for s in wiki_searches} >= {"topic", "refutation"}
    assert all(s["hits"] == 50 for s in wiki_searches)
    kept = {url for s in result.searches for url in s["kept"]}
    assert kept == {c.url for c in result.candidates}
    assert result.plan is request.plan and result.round == 1


def test_what_the_sources_say_about_a_page_counts_in_the_fused_ranking(api, settings):
    # one search ranks Weather above Summit; Summit's snippet holds the claim's terms, so
    # the fused ranking (engine rank + listed text) fetches it first
    api.json(
        "/w/api.php",
        {
            "query": {
                "search": [
                    {"title": "Weather", "snippet": "rain and sun"},
                    {"title": "Summit", "snippet": "Kim Jong Un offers talks"},
                ]
            }
        },
    )
    one = QueryPlan("Kim Jong Un offers talks", (PlannedQuery("topic", ("Kim Jong Un", "talks")),))
    request = request_for_plan(one, settings)
    result = run_discover(settings, request, [parse_source(f"mediawiki={api.url('/w/api.php')}")])
    assert [(c.title, c.rank) for c in result.candidates] == [("Summit", 2), ("Weather", 1)]
    assert result.candidates[0].meta["text"] == "Summit Kim Jong Un offers talks"
