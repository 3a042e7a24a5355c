from __future__ import annotations

import gzip

import pytest

from sources.discovery import config
from sources.discovery.base import BadAnswer, SourceUnreachable
from sources.discovery.sitemap import SitemapAdapter, inflate, parse_sitemap, url_words
from tests.sources.discovery.conftest import Answer
from tests.sources.discovery.support import request_for

XML = "application/xml"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def index(*children: tuple[str, str]) -> str:
    items = "".join(
        f"<sitemap><loc>{loc}</loc><lastmod>{lastmod}</lastmod></sitemap>"
        for loc, lastmod in children
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{items}</sitemapindex>'


def urlset(*locs: str) -> str:
    items = "".join(f"<url><loc>{loc}</loc><lastmod>2018-03-06</lastmod></url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{items}</urlset>'


def news_sitemap(*entries: tuple[str, str]) -> str:
    items = "".join(
        f"""<url><loc>{loc}</loc><news:news><news:publication><news:name>The Daily</news:name>
        <news:language>en</news:language></news:publication>
        <news:publication_date>2018-03-06T09:00:00+00:00</news:publication_date>
        <news:title>{title}</news:title></news:news></url>"""
        for loc, title in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS} {NEWS_NS}>{items}</urlset>'


def test_index_children_and_news_titles_are_matched(api, settings, run_adapter):
    top = api.route(
        "/sitemap.xml",
        index((api.url("/sitemap-pages.xml"), "2017-01-01"), (api.url("/news.xml"), "2018-03-06")),
        content_type=XML,
    )
    api.route(
        "/sitemap-pages.xml",
        urlset(
            "https://daily.example/2018/03/north-korea-offers-direct-talks-to-us.html",
            "https://daily.example/about",
            "https://daily.example/2018/03/budget-vote",
        ),
        content_type=XML,
    )
    api.route(
        "/news.xml",
        news_sitemap(
            ("https://daily.example/a/123", "Pyongyang makes first direct offer of talks"),
            ("https://daily.example/a/124", "Weather turns cold"),
        ),
        content_type=XML,
    )
    out = run_adapter(
        SitemapAdapter(top, settings=settings),
        request_for("North Korea direct talks US", "Pyongyang first direct offer talks"),
    )
    # each page is the best match of one query and the second of the other: a tie, broken
    # by the first query's ranking; the newest child sitemap is still read first
    assert [(c.url, c.query) for c in out.candidates] == [
        (
            "https://daily.example/2018/03/north-korea-offers-direct-talks-to-us.html",
            "North Korea direct talks US",
        ),
        ("https://daily.example/a/123", "Pyongyang first direct offer talks"),
    ]
    assert [len(c.meta["hits"]) for c in out.candidates] == [2, 2]
    news = out.candidates[1]
    assert news.title == "Pyongyang makes first direct offer of talks"
    assert news.meta["published"] == "2018-03-06T09:00:00+00:00"
    assert out.candidates[0].meta["lastmod"] == "2018-03-06"
    paths = [p for p, _ in api.requests]
    assert paths.index("/news.xml") < paths.index("/sitemap-pages.xml")


def test_gzip_sitemap_is_inflated(api, settings, run_adapter):
    body = gzip.compress(urlset("https://daily.example/north-korea-talks-offer").encode())
    top = api.route("/sitemap.xml.gz", Answer(body, content_type="application/x-gzip"))
    out = run_adapter(SitemapAdapter(top, settings=settings), request_for("North Korea talks"))
    assert [c.url for c in out.candidates] == ["https://daily.example/north-korea-talks-offer"]


def test_recursion_is_bounded_in_depth_and_count(api, settings, run_adapter):
    # every index points at itself and two more indexes: without bounds this never ends
    def loop(_query):
        return Answer(
            index(
                (api.url("/loop.xml"), "2018-01-01"), (api.url("/loop2.xml"), "2018-01-02")
            ).encode(),
            content_type=XML,
        )

    api.route("/loop.xml", loop)
    api.route("/loop2.xml", loop)
    out = run_adapter(SitemapAdapter(api.url("/loop.xml"), settings=settings), request_for("a b"))
    assert out.candidates == ()
    fetched = len(api.requests)
    # depth 0 (1 file) + depth 1 (2) + depth 2 (4): deeper indexes are not followed
    assert fetched == 1 + 2 + 4
    assert fetched <= config.SITEMAP_MAX_CHILDREN + 1


def test_a_failing_child_is_skipped(api, settings, run_adapter):
    top = api.route(
        "/sitemap.xml",
        index((api.url("/missing.xml"), "2018-03-07"), (api.url("/ok.xml"), "2018-03-06")),
        content_type=XML,
    )
    api.route("/ok.xml", urlset("https://daily.example/north-korea-talks"), content_type=XML)
    out = run_adapter(SitemapAdapter(top, settings=settings), request_for("North Korea talks"))
    assert [c.url for c in out.candidates] == ["https://daily.example/north-korea-talks"]


def test_entities_are_not_expanded():
    hostile = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [
  <!ENTITY a "north-korea-talks-">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY secret SYSTEM "file:///etc/passwd">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://x.example/&c;</loc></url>
  <url><loc>https://x.example/&secret;</loc></url>
</urlset>"""
    parsed = parse_sitemap("sitemap", hostile)
    locs = [e.loc for e in parsed.entries]
    assert all("north-korea-talks-north" not in loc and "root:" not in loc for loc in locs)
    assert all(len(loc) < 100 for loc in locs)


def test_inflate_refuses_a_gzip_bomb():
    bomb = gzip.compress(b"<" * 5_000_000)
    with pytest.raises(BadAnswer, match="inflates past"):
        inflate("sitemap", bomb, 1_000_000)
    assert inflate("sitemap", b"<urlset/>", 10) == b"<urlset/>"


def test_entries_per_file_are_capped():
    many = urlset(*(f"https://x.example/{i}" for i in range(10))).encode()
    parsed = parse_sitemap("sitemap", many, max_urls=3)
    assert len(parsed.entries) == 3


@pytest.mark.parametrize(
    "answer,error,fragment",
    [
        (Answer(b"down", status=500, content_type="text/plain"), SourceUnreachable, "500"),
        (Answer(b"<urlset><url><loc>x</loc>", content_type=XML), BadAnswer, "not well-formed"),
        (
            Answer(b"<html><body>Sitemap moved</body></html>", content_type="text/html"),
            BadAnswer,
            "not a sitemap",
        ),
        (Answer(b"\x1f\x8b\x08\x00broken", content_type="application/gzip"), BadAnswer, "corrupt"),
    ],
    ids=["500", "malformed", "html", "bad-gzip"],
)
def test_error_answers(api, settings, run_adapter, answer, error, fragment):
    top = api.route("/sitemap.xml", answer)
    with pytest.raises(error, match=fragment):
        run_adapter(SitemapAdapter(top, settings=settings), request_for("North Korea talks"))


def test_url_words_reads_the_slug():
    assert url_words("https://x.example/2018/03/north-korea_offers-talks.html?id=1") == (
        "2018 03 north korea offers talks"
    )


class FourEntries(SitemapAdapter):
    max_entries = 4


def test_entries_in_all_files_are_capped(api, settings, run_adapter):
    top = api.route(
        "/sitemap.xml",
        index((api.url("/a.xml"), "2018-03-07"), (api.url("/b.xml"), "2018-03-06")),
        content_type=XML,
    )
    slugs = [f"https://d.example/north-korea-talks-{i}" for i in range(3)]
    api.route("/a.xml", urlset(*slugs), content_type=XML)
    api.route("/b.xml", urlset(*(s + "-b" for s in slugs)), content_type=XML)
    out = run_adapter(FourEntries(top, settings=settings), request_for("North Korea talks"))
    assert [c.url for c in out.candidates] == [*slugs, slugs[0] + "-b"]
