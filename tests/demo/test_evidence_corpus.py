"""The labelled evidence set and the multi-host news corpus served from it: the set's
format, every page over HTTP on its own host with its gold kept, feeds and sitemaps, the
GDELT DOC 2.0 endpoint's query semantics and refusals, and our gdelt adapter reading it."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import lxml.etree
import pytest

from demo.corpus.gdeltapi import DOC_PATH, MAX_QUERY_CHARS
from demo.evidence_corpus import (
    EVIDENCE_SET,
    GDELT_KEY,
    KINDS,
    LABELS,
    RATINGS,
    EvidenceCorpus,
    EvidenceSetError,
    LabelledPage,
    counts,
    evidence_corpus,
    load_evidence_set,
    parse_claim,
)
from demo.server import CorpusServer
from evidence.settings import Settings
from sources.discovery.base import DiscoveryOutput
from sources.discovery.gdelt import GdeltAdapter
from sources.discovery.run import make_request
from sources.extract import extract
from sources.fetch import AsyncFetcher

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ARTICLE_KEYS = {
    "url",
    "url_mobile",
    "title",
    "seendate",
    "domain",
    "language",
    "sourcecountry",
    "socialimage",
}
_WORD = re.compile(r"\w+")


@pytest.fixture(scope="module")
def evidence() -> EvidenceCorpus:
    return evidence_corpus()


@pytest.fixture(scope="module")
def server(evidence: EvidenceCorpus) -> Iterator[CorpusServer]:
    with CorpusServer(evidence.corpus) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _news_pages(evidence: EvidenceCorpus) -> list[LabelledPage]:
    """The pages the news search indexes: every outlet's, not the encyclopedia's."""
    return [p for c in evidence.claims for p in c.pages if not p.path.startswith("/wiki/")]


def _words(page: LabelledPage) -> list[str]:
    text = " ".join([page.title, *(p.text for p in page.passages)])
    return [w.casefold() for w in _WORD.findall(text)]


def _has_phrase(page: LabelledPage, phrase: str) -> bool:
    words, wanted = _words(page), [w.casefold() for w in _WORD.findall(phrase)]
    return any(words[i : i + len(wanted)] == wanted for i in range(len(words)))


def _search(client: httpx.Client, server: CorpusServer, **params: str) -> httpx.Response:
    query = {"mode": "artlist", "format": "json", "maxrecords": "250", **params}
    return client.get(server.url(GDELT_KEY, DOC_PATH), params=query)


def _found(
    client: httpx.Client, server: CorpusServer, evidence: EvidenceCorpus, **params: str
) -> tuple[list[dict[str, str]], set[str]]:
    answer = _search(client, server, **params)
    assert answer.headers["content-type"].startswith("application/json")
    articles = answer.json().get("articles", [])
    pages = []
    for article in articles:
        hit = evidence.page_at(article["url"])
        assert hit is not None, article["url"]
        pages.append(hit[1])
    return articles, {p.url for p in pages}


# -- the labelled set ----------------------------------------------------------------------


def test_the_set_loads_and_keeps_its_vocabulary() -> None:
    claims = load_evidence_set()
    assert len(claims) >= 60
    assert len({c.id for c in claims}) == len(claims)
    assert all(c.gold_rating in RATINGS and set(c.kind) <= set(KINDS) for c in claims)
    labels = {p.label for c in claims for page in c.pages for p in page.passages}
    assert labels == set(LABELS)
    for claim in claims:
        assert 4 <= len(claim.pages) <= 9, claim.id
        assert len({p.host for p in claim.pages}) == len(claim.pages), claim.id
        assert all(3 <= len(p.passages) <= 6 for p in claim.pages), claim.id
        assert any(p.gold for p in claim.pages), claim.id


def test_the_set_has_refutations_and_claims_without_any() -> None:
    claims = load_evidence_set()
    refuted = [c for c in claims if c.passages("R")]
    assert len(refuted) >= 0.4 * len(claims)
    unrefuted = [c for c in claims if not c.passages("R")]
    assert any(c.gold_rating == "true" for c in unrefuted)
    assert any(c.gold_rating == "unverifiable" for c in unrefuted)
    sizes = counts(claims)["sizes"]
    assert sizes["outlets"] >= 40
    assert sizes["claims_with_refutation"] == len(refuted)


def test_the_set_holds_the_hard_cases() -> None:
    claims = load_evidence_set()
    kinds = Counter(k for c in claims for k in c.kind)
    assert all(kinds[k] >= 2 for k in ("first", "only", "never", "number", "quote"))
    # syndicated copies: one passage text word for word on several outlets
    texts = Counter(p.text for c in claims for page in c.pages for p in page.passages if p.gold)
    assert sum(1 for n in texts.values() if n >= 2) >= 5
    # corrections and dated earlier instances are published days or years from the claim
    first = next(c for c in claims if "first" in c.kind and c.passages("R"))
    dates = [p.published for p in first.pages if any(q.label == "R" for q in p.passages)]
    assert first.claim_date is not None
    assert any(d is not None and d.date() != first.claim_date for d in dates)


def test_a_broken_line_is_refused_with_its_reason() -> None:
    raw = json.loads(EVIDENCE_SET.read_text(encoding="utf-8").splitlines()[0])
    parse_claim(raw)  # the real line is fine
    bad_label = json.loads(json.dumps(raw))
    bad_label["pages"][0]["passages"][0]["label"] = "E"
    with pytest.raises(EvidenceSetError, match="label 'E'"):
        parse_claim(bad_label)
    too_few = {**raw, "pages": raw["pages"][:3]}
    with pytest.raises(EvidenceSetError, match="3 pages"):
        parse_claim(too_few)
    with pytest.raises(EvidenceSetError, match="rating"):
        parse_claim({**raw, "gold_rating": "pants-on-fire"})


# -- the served corpus -----------------------------------------------------------------------


def test_every_page_is_served_on_its_outlets_host_with_its_gold(
    evidence: EvidenceCorpus, server: CorpusServer, client: httpx.Client
) -> None:
    addresses: dict[str, str] = {}
    for claim in evidence.claims:
        for page in claim.pages:
            url = server.url(*evidence.served_path(page))
            host = urlsplit(url).hostname or ""
            assert host.startswith("127.0.2.") and host != "127.0.2.1"
            assert addresses.setdefault(page.host, host) == host
            answer = client.get(url)
            assert answer.status_code == 200, url
            found = extract(answer.content, url=url, content_type=answer.headers["content-type"])
            assert found.site_name == page.site
            texts = [p.text for p in found.passages]
            assert [p.text for p in page.passages if p.gold] == [
                t for t in texts if t in {p.text for p in page.passages if p.gold}
            ]
            assert evidence.page_at(url) == (claim, page)
    assert len(set(addresses.values())) == len(addresses) >= 40


def test_articles_carry_news_metadata_and_chrome_to_strip(
    evidence: EvidenceCorpus, server: CorpusServer, client: httpx.Client
) -> None:
    page = evidence.claims[0].pages[1]
    html = client.get(server.url(*evidence.served_path(page))).text
    assert f'<meta property="og:site_name" content="{page.site}">' in html
    assert "article:published_time" in html and "<nav>" in html and "<footer" in html
    found = extract(html.encode(), url=server.url(*evidence.served_path(page)))
    assert found.published is not None and found.published == page.published
    assert not any("cookies" in p.text or "All rights" in p.text for p in found.passages)


def test_each_outlet_has_a_feed_and_a_sitemap_listing_its_pages(
    evidence: EvidenceCorpus, server: CorpusServer, client: httpx.Client
) -> None:
    wire = next(p for c in evidence.claims for p in c.pages if p.host == "www.wirenews.example")
    key, _ = evidence.served_path(wire)
    listed = {p.path for c in evidence.claims for p in c.pages if p.host == wire.host}
    feed = feedparser.parse(client.get(server.url(key, server.site(key).feed_path)).content)
    assert {urlsplit(e.link).path for e in feed.entries} == listed
    root = lxml.etree.fromstring(client.get(server.url(key, "/sitemap.xml")).content)
    assert {urlsplit(loc.text).path for loc in root.iter(f"{SM}loc")} == listed


def test_the_encyclopedia_answers_the_mediawiki_search(
    server: CorpusServer, client: httpx.Client
) -> None:
    wiki = next(s for s in server.corpus.sites if s.wiki_api)
    answer = client.get(
        server.url(wiki.key, "/w/api.php"),
        params={"action": "query", "list": "search", "srsearch": "Agreed Framework Geneva"},
    ).json()
    assert answer["query"]["search"][0]["title"] == "Agreed Framework"


# -- the GDELT endpoint --------------------------------------------------------------------


def test_keywords_are_anded_over_title_and_text(
    evidence: EvidenceCorpus, server: CorpusServer, client: httpx.Client
) -> None:
    articles, found = _found(client, server, evidence, query="Eastline Okafor")
    expected = {p.url for p in _news_pages(evidence) if {"eastline", "okafor"} <= set(_words(p))}
    assert found == expected and len(found) >= 2
    only_one = {p.url for p in _news_pages(evidence) if "eastline" in _words(p)} - expected
    assert only_one  # pages with one keyword exist and were left out
    assert all(set(a) == ARTICLE_KEYS for a in articles)
    assert all(re.fullmatch(r"\d{8}T\d{6}Z", a["seendate"]) for a in articles)
    assert all(a["language"] == "English" and "." in a["domain"] for a in articles)


def test_a_quoted_phrase_matches_in_order(
    evidence: EvidenceCorpus, server: CorpusServer, client: httpx.Client
) -> None:
    _, found = _found(client, server, evidence, query='"interest rate"')
    expected = {p.url for p in _news_pages(evidence) if _has_phrase(p, "interest rate")}
    assert found == expected and found
    loose = {p.url for p in _news_pages(evidence) if {"interest", "rate"} <= set(_words(p))}
    assert loose - found  # the words without the phrase do not match


def test_or_groups_and_exclusions(
    evidence: EvidenceCorpus, server: CorpusServer, client: httpx.Client
) -> None:
    pages = _news_pages(evidence)
    _, either = _found(client, server, evidence, query="Ost (salmon OR concrete)")
    assert either == {
        p.url for p in pages if "ost" in _words(p) and {"salmon", "concrete"} & set(_words(p))
    }
    _, without = _found(client, server, evidence, query="Ost -salmon")
    assert without == {p.url for p in pages if "ost" in _words(p) and "salmon" not in _words(p)}
    assert without and either - without


def test_the_date_window_and_date_sort(
    evidence: EvidenceCorpus, server: CorpusServer, client: httpx.Client
) -> None:
    window = {"startdatetime": "20180309000000", "enddatetime": "20180331235959"}
    articles, found = _found(client, server, evidence, query="Korea", sort="datedesc", **window)
    start, end = datetime(2018, 3, 9, tzinfo=UTC), datetime(2018, 3, 31, 23, 59, 59, tzinfo=UTC)
    expected = {
        p.url
        for p in _news_pages(evidence)
        if "korea" in _words(p) and p.published and start <= p.published <= end
    }
    assert found == expected and found
    _, everything = _found(client, server, evidence, query="Korea")
    assert everything > found  # older Korea pages exist outside the window
    dates = [a["seendate"] for a in articles]
    assert dates == sorted(dates, reverse=True)
    capped = _search(client, server, query="Korea", maxrecords="2").json()["articles"]
    assert len(capped) == 2


def test_relevance_puts_the_densest_match_first(server: CorpusServer, client: httpx.Client) -> None:
    articles = _search(client, server, query="Kessler dam decommissioned").json()["articles"]
    assert "kessler" in articles[0]["title"].casefold()


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("US talks", "The specified phrase is too short."),
        ('"Iran" talks', "The specified phrase is too short."),
        ("", "Your query was too short or too long."),
        ("korea " * (MAX_QUERY_CHARS // 6 + 1), "Your query was too short or too long."),
        ("Korea OR Japan", "Queries containing OR'd terms must be surrounded by ()."),
        ("(Korea) talks", "Parentheses may only be used around OR'd statements."),
    ],
    ids=["short-keyword", "short-phrase", "empty", "too-long", "bare-or", "bad-parens"],
)
def test_refused_queries_get_gdelts_plain_text_sentence(
    server: CorpusServer, client: httpx.Client, query: str, sentence: str
) -> None:
    answer = _search(client, server, query=query)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text.strip() == sentence


def test_no_match_is_an_empty_object(server: CorpusServer, client: httpx.Client) -> None:
    assert _search(client, server, query="zeppelin aardvark").json() == {}


# -- our adapter against it ------------------------------------------------------------------


def test_the_gdelt_adapter_finds_the_claims_pages_end_to_end(
    evidence: EvidenceCorpus, server: CorpusServer, tmp_path: Path
) -> None:
    claim = next(c for c in evidence.claims if "Kessler Dam" in c.claim)
    settings = Settings(
        allowed_networks=["127.0.0.0/8"], per_host_delay_s=0, data_dir=tmp_path, sources=[]
    )
    request = make_request(claim.claim, settings=settings, claim_date=claim.claim_date)
    adapter = GdeltAdapter(server.url(GDELT_KEY, DOC_PATH), settings=settings)

    async def run() -> DiscoveryOutput:
        async with AsyncFetcher(settings) as fetcher:
            return await adapter.run(request, fetcher)

    before = server.hits(GDELT_KEY, DOC_PATH)
    output = asyncio.run(run())
    assert server.hits(GDELT_KEY, DOC_PATH) > before
    hits = [evidence.page_at(c.url) for c in output.candidates]
    assert hits and all(h is not None for h in hits)
    gold = {p.url for p in claim.pages if p.gold}
    assert {h[1].url for h in hits if h is not None and h[0] is claim} & gold
    assert all(c.adapter == "gdelt" and c.rank >= 1 for c in output.candidates)
