"""The demo corpus server over real HTTP: sites, feeds, sitemaps, wiki search, robots,
conditional GET, drift, latency, and the synthetic benchmark corpus."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import lxml.etree
import lxml.html
import pytest
from protego import Protego

from demo.corpus import wikiapi
from demo.corpus.model import Corpus
from demo.server import CorpusServer, CorpusServerError
from demo.synthetic import synthetic_corpus
from evidence.claims import parse_import

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
PRIVATE = "/private/drafts/north-korea-first-direct-offer"
_T = datetime(2018, 3, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[CorpusServer]:
    with CorpusServer() as running:
        yield running


@pytest.fixture
def fresh() -> Iterator[CorpusServer]:
    """A server of its own, for tests that mutate the corpus or inject latency."""
    with CorpusServer() as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _robots(client: httpx.Client, server: CorpusServer, site: str) -> Protego:
    return Protego.parse(client.get(server.url(site, "/robots.txt")).text)


def _sitemap_locs(client: httpx.Client, url: str) -> list[str]:
    """Every page URL a sitemap lists, following a sitemap index."""
    root = lxml.etree.fromstring(client.get(url).content)
    if root.tag == f"{SM}sitemapindex":
        return [loc for child in root.iter(f"{SM}loc") for loc in _sitemap_locs(client, child.text)]
    return [loc.text for loc in root.iter(f"{SM}loc")]


def _site_of(server: CorpusServer, url: str) -> str:
    host = urlsplit(url).hostname
    return next(s.key for s in server.corpus.sites if s.address == host)


# -- sites and pages ----------------------------------------------------------------------


def test_each_site_answers_on_its_own_address(server: CorpusServer, client: httpx.Client) -> None:
    addresses = {urlsplit(server.base_url(s.key)).hostname for s in server.corpus.sites}
    assert len(addresses) == len(server.corpus.sites) >= 8
    assert all(a.startswith("127.0.0.") for a in addresses)
    for site in server.corpus.sites:
        front = client.get(server.url(site.key, "/"))
        assert front.status_code == 200 and site.name in front.text
    wire_page = "/world/asia/2018/03/09/trump-accepts-invitation-to-meet-kim-jong-un.html"
    assert client.get(server.url("wire", wire_page)).status_code == 200
    assert client.get(server.url("ledger", wire_page)).status_code == 404


def test_pages_carry_metadata_chrome_and_resolved_links(
    server: CorpusServer, client: httpx.Client
) -> None:
    pages = [(s, e.path) for s in server.corpus.sites for e in s.pages.entries()]
    assert 25 <= len(pages) <= 35
    for site, path in pages:
        if path == PRIVATE:
            continue
        response = client.get(server.url(site.key, path))
        assert response.status_code == 200, path
        assert "{{url:" not in response.text
        doc = lxml.html.fromstring(response.content)
        assert doc.findtext(".//title").strip()
        assert doc.xpath("//meta[@property='og:site_name']/@content")
        assert doc.xpath("//link[@rel='canonical']/@href")[0].startswith("http://127.0.0.")
        dated = doc.xpath(
            "//meta[@property='article:published_time']/@content"
            "|//script[@type='application/ld+json']|//time/@datetime"
        )
        assert dated, path
        footers = " ".join(doc.xpath("//footer//text()|//*[@id='footer']//text()"))
        assert "fictional" in footers.lower(), path
        assert len(doc.xpath("//p")) >= 3, path


def test_syndicated_copy_points_its_canonical_at_the_wire(
    server: CorpusServer, client: httpx.Client
) -> None:
    wire = "/world/asia/2018/03/09/trump-accepts-invitation-to-meet-kim-jong-un.html"
    copy = client.get(
        server.url("courier", "/news/world/2018/03/09/trump-accepts-invitation-to-meet-kim-jong-un")
    )
    doc = lxml.html.fromstring(copy.content)
    assert doc.xpath("//link[@rel='canonical']/@href") == [server.url("wire", wire)]
    original = lxml.html.fromstring(client.get(server.url("wire", wire)).content)
    shared = set(original.xpath("//div[@class='story-text']/p/text()")) & set(
        doc.xpath("//div[@class='story-body']/p/text()")
    )
    assert len(shared) >= 4


def test_fact_check_page_embeds_claim_review(server: CorpusServer, client: httpx.Client) -> None:
    path = "/fact-checks/2018/03/12/north-korea-did-not-make-its-first-direct-offer-of-talks/"
    doc = lxml.html.fromstring(client.get(server.url("claimcheck", path)).content)
    blocks = [json.loads(s) for s in doc.xpath("//script[@type='application/ld+json']/text()")]
    review = next(b for b in blocks if b["@type"] == "ClaimReview")
    assert review["reviewRating"]["alternateName"] == "False"
    assert "first" in review["claimReviewed"]
    appearance = review["itemReviewed"]["appearance"]["url"]
    assert client.get(appearance).status_code == 200


# -- feeds, sitemaps, robots --------------------------------------------------------------


def test_feeds_parse_and_link_to_live_pages(server: CorpusServer, client: httpx.Client) -> None:
    for site in server.corpus.sites:
        response = client.get(server.url(site.key, site.feed_path))
        feed = feedparser.parse(response.content)
        assert not feed.bozo, site.key
        assert feed.version == ("atom10" if site.feed_format == "atom" else "rss20")
        assert feed.entries
        for entry in feed.entries:
            assert entry.get("published_parsed") and entry.title
            assert client.get(entry.link).status_code == 200
        assert all(PRIVATE not in e.link for e in feed.entries)


def test_sitemaps_list_every_page_and_robots_keep_crawlers_out_of_private(
    server: CorpusServer, client: httpx.Client
) -> None:
    before = server.hits("courier", PRIVATE)
    for site in server.corpus.sites:
        robots = _robots(client, server, site.key)
        assert list(robots.sitemaps) == [server.url(site.key, "/sitemap.xml")]
        listed = _sitemap_locs(client, server.url(site.key, "/sitemap.xml"))
        expected = {server.url(site.key, e.path) for e in site.pages.entries()}
        assert set(listed) == expected
        for url in listed:  # a polite crawl of the sitemap
            if robots.can_fetch(url, "factcheck"):
                assert client.get(url).status_code == 200
    private = server.url("courier", PRIVATE)
    assert not _robots(client, server, "courier").can_fetch(private, "factcheck")
    assert server.hits("courier", PRIVATE) == before == 0


def test_wire_sitemap_is_an_index_with_a_news_sitemap(
    server: CorpusServer, client: httpx.Client
) -> None:
    index = lxml.etree.fromstring(client.get(server.url("wire", "/sitemap.xml")).content)
    assert index.tag == f"{SM}sitemapindex"
    children = [loc.text for loc in index.iter(f"{SM}loc")]
    news_url = next(c for c in children if c.endswith("/sitemaps/news.xml"))
    news = lxml.etree.fromstring(client.get(news_url).content)
    dates = [d.text for d in news.iter(f"{NEWS}publication_date")]
    names = {n.text for n in news.iter(f"{NEWS}name")}
    assert len(dates) == 4 and names == {"Meridian Press Agency"}


# -- MediaWiki search ---------------------------------------------------------------------


def _api(client: httpx.Client, server: CorpusServer, **params: str) -> httpx.Response:
    return client.get(server.url("wiki", "/w/api.php"), params={"format": "json", **params})


def test_mediawiki_search_answers_in_the_api_format(
    server: CorpusServer, client: httpx.Client
) -> None:
    response = _api(client, server, action="query", list="search", srsearch="Agreed Framework")
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["batchcomplete"] == ""
    hits = body["query"]["search"]
    assert body["query"]["searchinfo"]["totalhits"] == len(hits) >= 2
    assert hits[0]["title"] == "Agreed Framework"
    assert set(hits[0]) == {"ns", "title", "pageid", "size", "wordcount", "snippet", "timestamp"}
    assert '<span class="searchmatch">Agreed</span>' in hits[0]["snippet"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", hits[0]["timestamp"])
    page = client.get(server.url("wiki", "/wiki/" + hits[0]["title"].replace(" ", "_")))
    assert page.status_code == 200


def test_mediawiki_search_pages_with_continue_and_formatversion_2(
    server: CorpusServer, client: httpx.Client
) -> None:
    first = _api(client, server, action="query", list="search", srsearch="North Korea", srlimit="2")
    body = first.json()
    assert len(body["query"]["search"]) == 2 and body["continue"]["sroffset"] == 2
    second = _api(
        client,
        server,
        action="query",
        list="search",
        srsearch="North Korea",
        srlimit="2",
        sroffset="2",
        formatversion="2",
    ).json()
    assert second["batchcomplete"] is True
    titles = {h["title"] for h in body["query"]["search"]}
    assert not titles & {h["title"] for h in second["query"]["search"]}


def test_mediawiki_generator_search_gives_full_urls(
    server: CorpusServer, client: httpx.Client
) -> None:
    body = _api(
        client,
        server,
        action="query",
        generator="search",
        gsrsearch="Leap Day moratorium",
        prop="info",
        inprop="url",
    ).json()
    pages = body["query"]["pages"]
    assert pages and all(str(p["pageid"]) == key for key, p in pages.items())
    best = min(pages.values(), key=lambda p: p["index"])
    assert best["title"] == "Leap Day deal"
    assert client.get(best["fullurl"]).status_code == 200


def test_mediawiki_errors_come_back_as_api_errors(
    server: CorpusServer, client: httpx.Client
) -> None:
    response = _api(client, server, action="query", list="search")
    assert response.json()["error"]["code"] == "missingparam"
    assert response.headers["MediaWiki-API-Error"] == "missingparam"
    bad = _api(client, server, action="parse", page="x").json()
    assert bad["error"]["code"] == "badvalue"


def test_wiki_search_falls_back_to_the_best_partial_matches() -> None:
    docs = [
        wikiapi.WikiDoc(1, "Alpha", "/wiki/Alpha", "talks with the north in geneva", _T),
        wikiapi.WikiDoc(2, "Beta", "/wiki/Beta", "talks about trade", _T),
    ]
    index = wikiapi.WikiIndex(docs)
    assert [h.doc.title for h in index.search("Geneva talks")] == ["Alpha"]
    assert [h.doc.title for h in index.search("geneva talks zanzibar")] == ["Alpha"]
    assert index.search("zanzibar") == []


# -- conditional GET, drift, latency ------------------------------------------------------


def test_conditional_get_answers_304(server: CorpusServer, client: httpx.Client) -> None:
    url = server.url("ledger", "/2018/03/08/trump-agrees-to-meet-kim-jong-un")
    first = client.get(url)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    head = client.head(url)
    assert head.headers["etag"] == etag and head.content == b""
    assert int(head.headers["content-length"]) == len(first.content)
    feed = server.url("ledger", "/feed/atom")
    tag = client.get(feed).headers["etag"]
    assert client.get(feed, headers={"If-None-Match": tag}).status_code == 304


def test_drift_changes_a_page_and_removes_another(
    fresh: CorpusServer, client: httpx.Client
) -> None:
    path = "/2018/03/08/trump-agrees-to-meet-kim-jong-un"
    url = fresh.url("ledger", path)
    old = client.get(url)
    new_html = old.text.replace("remarkable turn", "startling reversal").replace(
        "<title>", "<title>Updated: "
    )
    fresh.set_page("ledger", path, new_html)
    changed = client.get(url, headers={"If-None-Match": old.headers["etag"]})
    assert changed.status_code == 200 and "startling reversal" in changed.text
    assert changed.headers["etag"] != old.headers["etag"]
    feed = feedparser.parse(client.get(fresh.url("ledger", "/feed/atom")).content)
    assert any(e.title.startswith("Updated: ") for e in feed.entries)

    gone = "/2019/02/28/hanoi-summit-ends-without-agreement"
    fresh.remove_page("ledger", gone)
    assert client.get(fresh.url("ledger", gone)).status_code == 410
    fresh.remove_page("ledger", "/2018/06/12/what-trump-and-kim-signed-in-singapore", status=404)
    assert (
        client.get(
            fresh.url("ledger", "/2018/06/12/what-trump-and-kim-signed-in-singapore")
        ).status_code
        == 404
    )
    listed = _sitemap_locs(client, fresh.url("ledger", "/sitemap.xml"))
    assert fresh.url("ledger", gone) not in listed and len(listed) == 2
    with pytest.raises(CorpusServerError):
        fresh.remove_page("ledger", gone, status=500)

    fresh.reset()
    assert client.get(fresh.url("ledger", gone)).status_code == 200
    assert client.get(url).text == old.text


def test_drift_reaches_the_wiki_search(fresh: CorpusServer, client: httpx.Client) -> None:
    def titles(query: str) -> list[str]:
        body = _api(client, fresh, action="query", list="search", srsearch=query).json()
        return [h["title"] for h in body["query"]["search"]]

    assert "New York channel" in titles("Warmbier")
    fresh.remove_page("wiki", "/wiki/New_York_channel")
    assert "New York channel" not in titles("Warmbier")


def test_latency_is_injected_per_response(fresh: CorpusServer, client: httpx.Client) -> None:
    url = fresh.url("wire", "/robots.txt")
    client.get(url)
    start = time.perf_counter()
    client.get(url)
    quick = time.perf_counter() - start
    fresh.latency_s = 0.25
    start = time.perf_counter()
    client.get(url)
    slow = time.perf_counter() - start
    assert slow >= 0.25 > quick


def test_jitter_is_seeded() -> None:
    corpus = Corpus(sites=[])
    a = CorpusServer(corpus, latency_s=0.01, jitter_s=0.05, seed=3)
    b = CorpusServer(corpus, latency_s=0.01, jitter_s=0.05, seed=3)
    delays = [a.delay() for _ in range(5)]
    assert delays == [b.delay() for _ in range(5)]
    assert all(0.01 <= d <= 0.06 for d in delays) and len(set(delays)) == 5


def test_a_taken_port_is_an_error(server: CorpusServer) -> None:
    with pytest.raises(CorpusServerError, match="Cannot serve"):
        CorpusServer(port=server.port).start()


# -- claims -------------------------------------------------------------------------------


def test_demo_claims_import_and_their_origins_answer(
    server: CorpusServer, client: httpx.Client, tmp_path: Path
) -> None:
    path = server.write_claims(tmp_path / "claims.jsonl")
    rows = parse_import(path)
    assert len(rows) >= 5
    origins = [c["url"] for c in server.claims() if c.get("url")]
    assert len(origins) >= 3
    for url in origins:
        assert client.get(url).status_code == 200


def test_every_demo_claim_has_pages_bearing_on_it(server: CorpusServer) -> None:
    texts = {
        (site.key, e.path): wikiapi.page_text(site.pages.get(e.path).html)  # type: ignore[union-attr]
        for site in server.corpus.sites
        for e in site.pages.entries()
    }
    for claim in server.corpus.claims:
        wanted = set(wikiapi.terms(claim["text"]))
        bearing = {
            key
            for key, text in texts.items()
            if len(wanted & set(wikiapi.terms(text))) >= 0.7 * len(wanted)
        }
        assert len({site for site, _ in bearing}) >= 2, claim["text"]


# -- synthetic corpus ---------------------------------------------------------------------


def test_synthetic_corpus_is_deterministic_for_a_seed() -> None:
    a, b, c = (
        synthetic_corpus(30, seed=5),
        synthetic_corpus(30, seed=5),
        synthetic_corpus(30, seed=6),
    )
    assert a.claims == b.claims and a.claims != c.claims
    for site_a, site_b in zip(a.sites, b.sites, strict=True):
        entries = list(site_a.pages.entries())
        assert entries == list(site_b.pages.entries())
        for entry in entries[:10]:
            assert site_a.pages.get(entry.path) == site_b.pages.get(entry.path)
    big = synthetic_corpus(2_000, seed=5)
    last = big.claims[-1]["url"].removeprefix("corpus://")
    site, _, path = last.partition("/")
    page = big.site(site).pages.get("/" + path)
    assert page is not None and "1999" in page.entry.path
    assert big.site(site).pages.get("/" + path.replace("-c1999-", "-c2000-")) is None


def test_synthetic_claims_span_hosts_and_their_pages_answer(client: httpx.Client) -> None:
    corpus = synthetic_corpus(40, seed=2, hosts=5)
    with CorpusServer(corpus) as running:
        claims = running.claims()
        assert len(claims) == 40 and len({c["text"] for c in claims}) == 40
        origin = client.get(claims[7]["url"])
        links = set(re.findall(r'<li><a href="(http[^"]+-p\d\.html)"', origin.text))
        assert len(links) == 9
        assert len({urlsplit(u).hostname for u in links}) == 5
        for url in links:
            assert client.get(url).status_code == 200
        site = _site_of(running, claims[7]["url"])
        listed = set(_sitemap_locs(client, running.url(site, "/sitemap.xml")))
        assert claims[7]["url"] in listed and len(listed) == 40 * 10 // 5
        feed = feedparser.parse(client.get(running.url("host2", "/atom.xml")).content)
        assert not feed.bozo and len(feed.entries) == 50
        hits = _api(client, running, action="query", list="search", srsearch=claims[7]["text"])
        assert hits.json()["query"]["search"][0]["title"].startswith(
            claims[7]["text"].split("'")[0]
        )


def test_synthetic_claims_are_not_near_duplicates_of_each_other() -> None:
    from evidence.scoring.matching import similarity
    from evidence.settings import get_settings

    texts = [c["text"] for c in synthetic_corpus(40, seed=11).claims]
    threshold = get_settings().match_threshold
    worst = max(similarity(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :])
    assert worst < threshold


# -- standalone ---------------------------------------------------------------------------


def test_standalone_server_prints_urls_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "claims.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo.server", "--claims-out", str(out)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        lines = []
        while not lines or "Serving" not in lines[-1]:
            lines.append(proc.stdout.readline())
        printed = "".join(lines)
        wire = re.search(r"^wire\s+(http://127\.0\.0\.2:\d+)", printed, re.M)
        assert wire and "FACTCHECK_ALLOWED_NETWORKS=127.0.0.0/8" in printed
        assert httpx.get(wire.group(1) + "/robots.txt").status_code == 200
        assert len(out.read_text().splitlines()) >= 5
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
