"""Metadata: titles, canonical URLs, authors, dates (and where they came from), language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sources.extract import extract, parse
from sources.extract.jsonld import jsonld_nodes
from sources.extract.metadata import normalize_language, parse_date, read_metadata
from tests.sources.pages_util import extracted


def _meta(head: str, body: str = "<p>Text.</p>", url: str | None = None):  # type: ignore[no-untyped-def]
    soup = parse(f"<html><head>{head}</head><body>{body}</body></html>")
    return read_metadata(soup, jsonld_nodes(soup), url)


def _ld(obj: str) -> str:
    return f'<script type="application/ld+json">{obj}</script>'


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-03-06T21:41:00+09:00", datetime(2018, 3, 6, 12, 41, tzinfo=UTC)),
        ("2018-03-06T12:41:00Z", datetime(2018, 3, 6, 12, 41, tzinfo=UTC)),
        ("2018-03-06 12:41", datetime(2018, 3, 6, 12, 41, tzinfo=UTC)),  # no zone: UTC
        ("Thu, 08 Mar 2018 19:52:00 -0500", datetime(2018, 3, 9, 0, 52, tzinfo=UTC)),
        ("March 6, 2018 8:47 PM KST", datetime(2018, 3, 6, 11, 47, tzinfo=UTC)),
        ("March 8, 2018 at 9:48 p.m. EST", datetime(2018, 3, 9, 2, 48, tzinfo=UTC)),
        ("2018-03-06", datetime(2018, 3, 6, tzinfo=UTC)),
        ("20180306", datetime(2018, 3, 6, tzinfo=UTC)),
        ("1520340060", datetime(2018, 3, 6, 12, 41, tzinfo=UTC)),
        ("1520340060000", datetime(2018, 3, 6, 12, 41, tzinfo=UTC)),
        ("Posted 6 March 2018", datetime(2018, 3, 6, tzinfo=UTC)),
    ],
)
def test_dates_in_the_formats_pages_use_become_utc(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "yesterday", "March 6", "12:41", "not a date 2018 at all ~~~", "0000-00-00", None],
)
def test_text_without_a_full_date_is_refused_not_completed_from_today(text: str | None) -> None:
    assert parse_date(text) is None


def test_an_unknown_time_zone_name_does_not_warn_or_fail() -> None:
    parsed = parse_date("2018-03-06 12:41 XYZT")
    assert parsed is not None and parsed.tzinfo is not None


def test_json_ld_wins_over_opengraph_meta_and_time() -> None:
    meta = _meta(
        _ld('{"@type": "NewsArticle", "datePublished": "2018-03-06T01:00:00Z"}')
        + '<meta property="article:published_time" content="2018-03-07T01:00:00Z">'
        + '<meta name="date" content="2018-03-08">',
        '<time datetime="2018-03-09">x</time>',
    )
    assert (meta.published, meta.date_source) == (datetime(2018, 3, 6, 1, tzinfo=UTC), "json-ld")


@pytest.mark.parametrize(
    ("head", "body", "source"),
    [
        ('<meta property="article:published_time" content="2018-03-07">', "", "opengraph"),
        ('<meta name="DC.date.issued" content="2018-03-07">', "", "meta"),
        ('<meta name="sailthru.date" content="2018-03-07">', "", "meta"),
        ('<meta name="parsely-pub-date" content="2018-03-07">', "", "meta"),
        ('<meta name="parsely-page" content=\'{"pub_date": "2018-03-07"}\'>', "", "meta"),
        ('<meta itemprop="datePublished" content="2018-03-07">', "", "meta"),
        ("", '<time datetime="2018-03-07">Wednesday</time>', "time"),
        ("", "<time>7 March 2018</time>", "time"),
    ],
)
def test_each_source_of_a_publication_date_is_named(head: str, body: str, source: str) -> None:
    meta = _meta(head, body)
    assert meta.published == datetime(2018, 3, 7, tzinfo=UTC)
    assert meta.date_source == source


def test_a_time_marked_as_published_beats_an_earlier_unmarked_one() -> None:
    meta = _meta(
        "",
        '<time datetime="2018-01-01">related</time>'
        '<time class="entry-date published" datetime="2018-03-07">x</time>'
        '<time itemprop="dateModified" datetime="2018-03-09">y</time>',
    )
    assert meta.published == datetime(2018, 3, 7, tzinfo=UTC)
    assert meta.modified == datetime(2018, 3, 9, tzinfo=UTC)


def test_no_date_anywhere_is_none_from_none() -> None:
    meta = _meta("<title>t</title>")
    assert (meta.published, meta.modified, meta.date_source) == (None, None, "none")


def test_a_page_dated_only_by_time_element() -> None:
    page = extracted("time_only.html")
    assert page.date_source == "time"
    assert page.published == datetime(2018, 2, 25, 13, 30, tzinfo=UTC)
    assert page.modified is None


def test_saved_pages_dates_and_their_sources() -> None:
    news = extracted("news_article.html")
    assert news.published == datetime(2018, 3, 6, 12, 41, tzinfo=UTC)
    assert news.modified == datetime(2018, 3, 6, 19, 5, tzinfo=UTC)
    assert news.date_source == "json-ld"
    wire = extracted("wire_story.html")
    assert (wire.published, wire.date_source) == (datetime(2018, 3, 9, 0, 40, tzinfo=UTC), "meta")
    korean = extracted("korean_article.html")
    assert (korean.published, korean.date_source) == (
        datetime(2018, 3, 6, 11, 47, tzinfo=UTC),
        "opengraph",
    )
    check = extracted("factcheck_claimreview.html")  # the Article node, not the day-only review
    assert check.published == datetime(2018, 3, 12, 19, 30, tzinfo=UTC)


# --- titles, URLs, site ------------------------------------------------------------------


def test_the_title_loses_the_site_name_suffix() -> None:
    meta = _meta(
        "<title>Kim invites Moon to Pyongyang | East Sea Times</title>"
        '<meta property="og:site_name" content="East Sea Times">'
    )
    assert meta.title == "Kim invites Moon to Pyongyang"
    assert meta.site_name == "East Sea Times"


def test_a_json_ld_headline_not_shown_on_the_page_is_not_the_title() -> None:
    meta = _meta(
        _ld('{"@type": "Article", "name": "Singapore Summit", "headline": "a summit in 2018"}')
        + "<title>Singapore Summit - Openpedia</title>"
    )
    assert meta.title == "Singapore Summit"
    assert extracted("wiki_page.html").title == "2018 North Korea–United States Singapore Summit"


def test_a_breadcrumb_title_keeps_its_last_part() -> None:
    assert extracted("gov_press_release.html").title == (
        "Press Statement on the Results of the Special Envoys' Visit to Pyongyang"
    )


def test_the_h1_is_the_last_resort_title() -> None:
    assert _meta("", "<h1>  Talks\n offered </h1>").title == "Talks offered"
    assert _meta("").title is None


def test_the_canonical_url_is_absolute_and_normalised() -> None:
    meta = _meta(
        '<link rel="Canonical" href="/world/talks?utm_source=x&b=2&a=1#top">',
        url="https://News.Example/world/talks?ref=home",
    )
    assert meta.canonical_url == "https://news.example/world/talks?a=1&b=2"


def test_the_canonical_url_falls_back_to_og_url_then_json_ld() -> None:
    assert _meta('<meta property="og:url" content="https://a.example/x">').canonical_url == (
        "https://a.example/x"
    )
    ld = _ld('{"@type": "NewsArticle", "mainEntityOfPage": {"@id": "https://b.example/y"}}')
    assert _meta(ld).canonical_url == "https://b.example/y"
    assert _meta('<link rel="canonical" href="javascript:void(0)">').canonical_url is None
    assert _meta('<link rel="canonical" href="/relative-without-base">').canonical_url is None


def test_the_site_name_falls_back_to_the_json_ld_publisher() -> None:
    ld = _ld('{"@type": "NewsArticle", "publisher": {"@type": "Organization", "name": "GWS"}}')
    assert _meta(ld).site_name == "GWS"


# --- authors -----------------------------------------------------------------------------


def test_json_ld_authors_in_order() -> None:
    assert extracted("news_article.html").authors == ("Eleanor Park", "David Okafor")


def test_a_byline_is_split_into_names_without_the_agency() -> None:
    meta = _meta('<meta name="sailthru.author" content="By Hana Lee and Mark Whitfield, GWS Wire">')
    assert meta.authors == ("Hana Lee", "Mark Whitfield")


def test_an_organisation_or_url_in_the_author_tag_is_not_a_person() -> None:
    meta = _meta(
        '<meta property="article:author" content="https://www.facebook.com/paper">'
        '<meta name="author" content="Global Wire Service">',
        '<p class="byline">By <a rel="author" href="/a/cd">Claire Dubois</a></p>',
    )
    assert meta.authors == ("Claire Dubois",)


def test_a_commenter_is_not_the_author() -> None:
    meta = _meta(
        "",
        '<div id="comments"><span class="author">troll99</span></div>'
        '<p class="byline">By Min-jun Park</p>',
    )
    assert meta.authors == ("Min-jun Park",)
    assert extracted("comments_page.html").authors == ("Claire Dubois",)


def test_korean_bylines_lose_the_reporter_title() -> None:
    assert extracted("korean_article.html").authors == ("김민수",)


def test_the_syndicated_copy_credits_the_wire_reporters() -> None:
    assert extracted("wire_story_syndicated.html").authors == ("Hana Lee", "Mark Whitfield")
    assert extracted("wire_story.html").authors == ("Hana Lee", "Mark Whitfield")


def test_collective_authors_are_not_people() -> None:
    assert extracted("wiki_page.html").authors == ()


# --- language ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", "en"),
        ("EN-us", "en-US"),
        ("ko_KR", "ko-KR"),
        ("es-es, en", "es-ES"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("English", None),
        ("", None),
        ("12", None),
    ],
)
def test_language_tags_are_normalised(value: str, expected: str | None) -> None:
    assert normalize_language(value) == expected


def test_language_comes_from_html_lang_then_og_locale_then_meta() -> None:
    assert extract('<html lang="ko"><p>x</p></html>').language == "ko"
    assert _meta('<meta property="og:locale" content="es_ES">').language == "es-ES"
    assert _meta('<meta http-equiv="Content-Language" content="de">').language == "de"
    assert _meta(_ld('{"@type": "Article", "inLanguage": "fr"}')).language == "fr"
    assert extracted("spanish_article.html").language == "es-ES"
    assert extracted("news_article.html").language == "en-US"
