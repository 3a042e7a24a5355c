"""Dates that no metadata states: in the URL, or written on the page in a date line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sources.extract import extract, parse
from sources.extract.dates import text_date, url_date
from sources.extract.jsonld import jsonld_nodes
from sources.extract.metadata import read_metadata

PROSE = (
    "<p>" + "The council met on Tuesday and agreed the budget after a long debate. " * 4 + "</p>"
)


def _meta(body: str, url: str | None = None, head: str = "<title>t</title>"):  # type: ignore[no-untyped-def]
    soup = parse(f"<html><head>{head}</head><body>{body}</body></html>")
    return read_metadata(soup, jsonld_nodes(soup), url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://blog.example/2014/05/18/alles-neue/", datetime(2014, 5, 18, tzinfo=UTC)),
        ("https://blog.example/2017/7/12/unter-uns", datetime(2017, 7, 12, tzinfo=UTC)),
        ("https://news.example/2019-10-22-entloeten.html", datetime(2019, 10, 22, tzinfo=UTC)),
        ("https://news.example/local/20200219/story.htm", datetime(2020, 2, 19, tzinfo=UTC)),
        ("https://news.example/2015/01/only-a-month/", None),
        ("https://news.example/2019/02/30/no-such-day/", None),
        ("https://news.example/item?id=20190518", None),  # a query is not a path
        (None, None),
    ],
)
def test_the_day_in_a_url_path(url: str | None, expected: datetime | None) -> None:
    assert url_date(url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Veröffentlicht am 18. Mai 2014 von Patrick", datetime(2014, 5, 18, tzinfo=UTC)),
        ("Posted on May 18th, 2014 by admin", datetime(2014, 5, 18, tzinfo=UTC)),
        ("publié le 3 février 2020", datetime(2020, 2, 3, tzinfo=UTC)),
        ("7 de octubre de 2019", datetime(2019, 10, 7, tzinfo=UTC)),
        ("Stand: 28.04.2020 17:00 Uhr", datetime(2020, 4, 28, tzinfo=UTC)),
        ("2019-12-31 · 4 Kommentare", datetime(2019, 12, 31, tzinfo=UTC)),
        ("updated 05/06/2014", None),  # day and month order unknown
        ("May 2014", None),  # no day
        ("31. Februar 2014", None),
    ],
)
def test_dates_written_out_in_many_languages(text: str, expected: datetime | None) -> None:
    assert text_date(text) == expected


def test_the_first_date_in_the_text_wins() -> None:
    assert text_date("am 2. März 2015, geändert am 01.04.2016") == datetime(2015, 3, 2, tzinfo=UTC)


def test_metadata_beats_the_url_and_the_url_beats_a_date_line() -> None:
    line = '<div class="entry-date">3. Januar 2013</div>'
    url = "https://blog.example/2012/11/30/post/"
    og = '<meta property="article:published_time" content="2012-12-01T10:00:00Z">'
    assert _meta(line + PROSE, url, og).date_source == "opengraph"
    by_url = _meta(line + PROSE, url)
    assert (by_url.published, by_url.date_source) == (datetime(2012, 11, 30, tzinfo=UTC), "url")
    by_line = _meta(line + PROSE, "https://blog.example/post/")
    assert (by_line.published, by_line.date_source) == (datetime(2013, 1, 3, tzinfo=UTC), "text")


def test_a_date_in_the_prose_is_not_the_publication_date() -> None:
    body = "<p>The treaty was signed on 9 November 1989 in Berlin.</p>" + PROSE
    assert _meta(body).published is None


def test_a_big_container_named_like_a_date_is_not_a_date_line() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i} of the story, written on 1 May 2011.</p>" for i in range(20)
    )
    assert _meta(f'<div class="post-date-wrapper">{paragraphs}</div>').published is None


def test_extract_reports_where_a_written_date_came_from() -> None:
    page = (
        "<html><head><title>Mandelplätzchen</title></head><body><article>"
        '<span class="posted-on">8. Dezember 2012</span>'
        f"{PROSE}</article></body></html>"
    )
    found = extract(page, "https://kulinaria.example/mandelplatzchen/")
    assert (found.published, found.date_source) == (datetime(2012, 12, 8, tzinfo=UTC), "text")
