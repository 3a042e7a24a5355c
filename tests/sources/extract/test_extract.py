"""`extract`: the saved pages end to end, syndication, links, hostile and non-HTML input."""

from __future__ import annotations

import codecs
import json
import logging
import random
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sources.extract import extract, flat_text, page_kind, repair_markup
from tests.sources.pages_util import PAGE_NAMES, assert_offsets, extracted, page_bytes

DEEP = 20_000


def test_there_are_enough_saved_pages() -> None:
    assert len(PAGE_NAMES) >= 14


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_saved_page_has_a_title_text_and_exact_passages(name: str) -> None:
    page = extracted(name)
    assert page.title
    assert len(page.text) > 400
    assert len(page.passages) >= 4
    assert_offsets(page)
    assert "<" not in page.text or name == "xss_page.html"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_as_json_is_json(name: str) -> None:
    data = json.loads(json.dumps(extracted(name).as_json()))
    assert data["text"] == extracted(name).text
    assert {p["id"] for p in data["passages"]} == {p.id for p in extracted(name).passages}


def test_the_syndicated_copy_shares_passage_ids_with_the_original() -> None:
    original = extracted("wire_story.html")
    copy = extracted("wire_story_syndicated.html")
    shared = {p.id for p in original.passages} & {p.id for p in copy.passages}
    assert len(shared) == len(original.passages) == 11
    # the copy's own additions are not in the original
    extra = [p.text for p in copy.passages if p.id not in shared]
    assert extra == [
        "This story has been updated with a statement from the White House.",
        "Copyright 2018 Global Wire Service. All rights reserved. This material may not be "
        "published, broadcast, rewritten or redistributed.",
    ]


def test_passage_ids_do_not_depend_on_the_page_around_them() -> None:
    paragraph = "Chung said Kim had committed to denuclearization."
    alone = extract(f"<article><p>{paragraph}</p></article>")
    framed = extract(
        "<html><body><nav><a href='/'>Home</a></nav><div class='story-body'>"
        f"<p>Different opening paragraph here.</p><p>{paragraph}</p></div></body></html>"
    )
    assert alone.passages[0].id in {p.id for p in framed.passages}


def test_links_are_absolute_and_come_from_the_main_text() -> None:
    links = {link.url: link.text for link in extracted("news_article.html").links}
    assert links == {
        "https://www.meridianpost.example/topics/moon-jae-in": "Moon Jae-in",
        "https://www.meridianpost.example/sport/2018/feb/25/pyeongchang-closing-ceremony": (
            "PyeongChang Olympics"
        ),
    }


def test_a_fact_checks_sources_are_its_links() -> None:
    urls = [link.url for link in extracted("factcheck_claimreview.html").links]
    assert urls == [
        "https://apnews.globalwire.example/article/trump-kim-meeting-may-8f3a2b",
        "https://www.meridianpost.example/world/asia/2018/03/06/north-korea-willing-to-talk-with-us",
        "https://history.state.example/milestones/1993-2000/agreed-framework",
    ]


def test_relative_links_resolve_against_the_page_url_then_base_href() -> None:
    html = (
        "<article><p>See <a href='../docs/statement.html#p2'>the statement</a> today.</p></article>"
    )
    page = extract(html, url="https://gov.example/news/2018/release.html")
    assert [link.url for link in page.links] == ["https://gov.example/news/docs/statement.html"]
    based = extract("<base href='https://cdn.example/a/'>" + html, url="https://gov.example/x")
    assert [link.url for link in based.links] == ["https://cdn.example/docs/statement.html"]
    assert extract(html).links == ()  # no URL to resolve against


def test_relative_links_of_a_saved_page_resolve_against_its_canonical_url() -> None:
    urls = {link.url for link in extracted("wiki_page.html").links}
    assert "https://en.openpedia.example/wiki/Capella_Singapore" in urls
    assert not any("Special:Random" in u or "action=edit" in u for u in urls)


@pytest.mark.parametrize("url", ["::::", "not a url", "http://[::1", "https://x.example:99999/"])
def test_a_garbage_page_url_falls_back_to_the_canonical_url(url: str) -> None:
    page = extract("<base href='/topics/'>" + page_bytes("news_article.html").decode(), url=url)
    assert page.url == url
    assert page.canonical_url == (
        "https://www.meridianpost.example/world/asia/2018/03/06/north-korea-willing-to-talk-with-us"
    )
    assert "https://www.meridianpost.example/topics/moon-jae-in" in {x.url for x in page.links}


def test_unfollowable_and_self_links_are_dropped() -> None:
    html = (
        "<article><p>Links: <a href='javascript:alert(1)'>js</a> "
        "<a href='mailto:a@b.example'>m</a> "
        "<a href='tel:+82'>t</a> <a href='#top'>top</a> <a href='data:text/html,x'>d</a> "
        "<a href='https://a.example/page?utm_source=x'>self</a> "
        "<a href='https://b.example/other'>other</a> and a long tail of prose words here."
        "</p></article>"
    )
    page = extract(html, url="https://a.example/page")
    assert [link.url for link in page.links] == ["https://b.example/other"]


# --- hostile pages -----------------------------------------------------------------------


def test_script_payloads_stay_inert_text() -> None:
    page = extracted("xss_page.html")
    assert page.title == 'Summit rumours <script>alert("title-xss")</script>'
    assert '<script>alert("text-xss")</script>' in page.text
    assert "<img src=x onerror=\"alert('img-xss')\">" in page.text
    for code in (
        "stealCookies",
        "inline-script-xss",
        "real-img-xss",
        "nav-xss",
        "body-onload",
        "iframe-xss",
    ):
        assert code not in page.text, code
    assert page.authors == ("Dana Whitaker",)
    assert all(link.url.startswith("https://") for link in page.links)
    assert [link.text for link in page.links] == ["the wire report"]


def _nested(depth: int, tag: str = "div", after: str = "") -> str:
    inner = f"{f'<{tag}>' * depth}deep text{f'</{tag}>' * depth}{after}"
    return f"<html><head><title>Deep</title></head><body>{inner}</body></html>"


@pytest.mark.parametrize("tag", ["div", "article", "table"])
def test_twenty_thousand_nested_elements(tag: str) -> None:
    page = extract(_nested(DEEP, tag))
    assert page.text == "deep text"
    assert page.title == "Deep"


def test_deep_nesting_needs_no_recursion(caplog: pytest.LogCaptureFixture) -> None:
    """Under a tiny recursion limit the BeautifulSoup path still works: nothing recurses."""
    markup = _nested(5_000, "div", after="<p>" + "<b>" * 3000 + "bold" + "</b>" * 3000 + "</p>")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        with caplog.at_level(logging.WARNING, logger="sources.extract"):
            page = extract(markup, url="https://deep.example/")
    finally:
        sys.setrecursionlimit(limit)
    assert "deep text" in page.text and "bold" in page.text
    assert page.title == "Deep"
    assert not caplog.records  # no fallback was needed


def test_flat_text_is_the_last_resort() -> None:
    text = flat_text(
        "<html><body><p>One <b>two</b></p><script>x()</script><div>three</div></body></html>"
    )
    assert text.split() == ["One", "two", "three"]
    assert flat_text("").strip() == ""


def test_an_unclosed_title_does_not_swallow_the_page() -> None:
    assert repair_markup("<title>T\n<body><p>x</p>") == "<title>T\n</title><body><p>x</p>"
    assert repair_markup("<title>T</title><p>x</p>") == "<title>T</title><p>x</p>"
    page = extracted("broken_html.html")
    assert page.title == "Kim Yo Jong delivers invitation for Moon to visit Pyongyang"
    assert page.authors == ("Sung-ho Choi",)


@pytest.mark.parametrize(
    "page",
    [
        "",
        b"",
        "   \n\t",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\nstream\x00\x01\x02",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
        '{"claim": "North Korea offered talks", "rating": "<p>false</p>"}',
        b'[{"a": 1}]',
        bytes(range(256)) * 8,
        "<p>\x00\x01 nul and control \x1b characters</p>",
        "<p>lone surrogate \ud800 here</p>",
        "<<<>>><<!--<![CDATA[<?xml?>",
        '<?xml version="1.0" encoding="utf-8"?><rss><channel><title>Feed</title></channel></rss>',
        "<html><body><p>" + "x" * 200_000 + "</p></body></html>",
        "<a href='" + "javascript:" * 1000 + "'>x</a>",
        "<script type='application/ld+json'>" + "[" * 50_000 + "</script><p>ok</p>",
        "<meta charset='utf-16'><p>claims a charset it is not</p>",
    ],
)
def test_hostile_or_non_html_input_never_raises(page: str | bytes) -> None:
    result = extract(page, url="https://hostile.example/")
    assert_offsets(result)
    assert result.url == "https://hostile.example/"


@pytest.mark.parametrize(
    ("page", "content_type"),
    [
        (b"%PDF-1.4 ...", None),
        (b"\x00\x01\x02binary", None),
        (b"plain words", "application/pdf"),
        (b'{"a": "b"}', None),
        (b"<p>x</p>", "application/json"),
    ],
)
def test_input_that_is_not_a_page_gives_an_empty_extraction(
    page: bytes, content_type: str | None
) -> None:
    result = extract(page, content_type=content_type)
    assert (result.text, result.passages, result.title, result.date_source) == (
        "",
        (),
        None,
        "none",
    )


def test_text_that_happens_to_start_like_a_file_signature_is_still_text() -> None:
    assert extract(b"BMW and Hyundai shares rose after the talks offer.").text.startswith("BMW")


def test_plain_text_is_split_into_paragraphs() -> None:
    text = "North Korea offered talks.\n\nThe US accepted.\r\n\r\nSeoul was pleased."
    result = extract(text.encode(), content_type="text/plain; charset=utf-8")
    assert [p.text for p in result.passages] == [
        "North Korea offered talks.",
        "The US accepted.",
        "Seoul was pleased.",
    ]
    assert page_kind(text, text, None) == "text"


def test_bytes_are_decoded_by_their_declared_charsets() -> None:
    korean = page_bytes("korean_article.html")
    with pytest.raises(UnicodeDecodeError):
        korean.decode("utf-8")
    assert "비핵화" in extract(korean).text
    spanish = page_bytes("spanish_article.html")
    assert "físico británico" in extract(spanish).text
    utf16 = codecs.BOM_UTF16_LE + "<p>Moon Jae-in welcomed the talks.</p>".encode("utf-16-le")
    assert extract(utf16).text == "Moon Jae-in welcomed the talks."
    latin = "<p>Diplomacia en Pyongyang: reunión</p>".encode("latin-1")
    assert extract(latin, content_type="text/html; charset=iso-8859-1").text.endswith("reunión")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4000))
def test_any_bytes_extract_without_raising(data: bytes) -> None:
    assert_offsets(extract(data))


TAGS = [
    "div",
    "p",
    "article",
    "main",
    "nav",
    "li",
    "ul",
    "a href='/x'",
    "span",
    "br",
    "h2",
    "table",
    "td",
    "section class='comments'",
    "script",
    "title",
]


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from([f"<{t}>" for t in TAGS] + [f"</{t.split()[0]}>" for t in TAGS]),
                st.text(max_size=40),
            ),
            max_size=60,
        )
    )
    return "".join(pieces)


@settings(max_examples=80, deadline=None)
@given(tag_soup())
def test_any_tag_soup_extracts_without_raising(markup: str) -> None:
    assert_offsets(extract(markup, url="https://soup.example/a"))


def test_extraction_is_deterministic() -> None:
    names = list(PAGE_NAMES)
    random.Random(3).shuffle(names)
    for name in names[:4]:
        assert extract(page_bytes(name)) == extract(page_bytes(name))
