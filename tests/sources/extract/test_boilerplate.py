"""Boilerplate removal: what a reader would call the article, and nothing else."""

from __future__ import annotations

import pytest

from sources.extract import parse
from sources.extract.blocks import Block
from sources.extract.boilerplate import (
    is_cookie_notice,
    is_negative_name,
    is_positive_name,
    keep_block,
    main_content,
    without_dangling_headings,
)
from tests.sources.pages_util import extracted

PROSE = (
    "North Korea told South Korean envoys it was willing to hold talks with the United States "
    "about its nuclear weapons, officials in Seoul said on Tuesday after the delegation returned."
)


def _text(html: str) -> str:
    return "\n\n".join(b.text for b in main_content(parse(html)).blocks)


@pytest.mark.parametrize(
    "name", ["cookie-banner", "relatedLinks", "comments-area", "ad-slot", "share_tools", "mostRead"]
)
def test_boilerplate_names(name: str) -> None:
    assert is_negative_name(name)


@pytest.mark.parametrize("name", ["article-body", "story", "entry-content", "cuerpo-noticia"])
def test_content_names(name: str) -> None:
    assert is_positive_name(name) and not is_negative_name(name)


def test_words_are_matched_whole_not_inside_other_words() -> None:
    assert not is_negative_name("shadow-box")  # contains "ad" but not the word
    assert not is_negative_name("headline")
    assert is_positive_name("related-content") is False  # a boilerplate name stays boilerplate


def test_a_cookie_banner_inside_main_is_not_main_text() -> None:
    html = (
        "<main><div class='consent-layer'><p>We use cookies to improve your experience. "
        "Accept all cookies?</p></div>"
        f"<div class='text'><p>{PROSE}</p><p>{PROSE}</p></div></main>"
    )
    text = _text(html)
    assert "cookies" not in text and PROSE in text


def test_a_cookie_notice_with_a_neutral_name_is_caught_by_its_words() -> None:
    assert is_cookie_notice("This site uses cookies. By continuing you agree to our policy.")
    assert not is_cookie_notice("The bakery sold 400 cookies on Tuesday to raise money.")
    assert not is_cookie_notice("We use cookies. Accept? " + "x" * 700)  # too long for a banner


def test_comments_found_by_their_heading_are_not_main_text() -> None:
    html = (
        f"<article><p>{PROSE}</p><p>{PROSE}</p>"
        "<section><h3>Comments (2)</h3><p>First! This is fake news from the regime.</p></section>"
        "</article>"
    )
    assert "fake news" not in _text(html)


def test_comment_markup_by_schema_type_is_not_main_text() -> None:
    html = (
        f"<article><p>{PROSE}</p><div itemtype='https://schema.org/Comment' itemscope>"
        "<p>Reader: this is a long comment that should never be quoted as evidence.</p></div>"
        "</article>"
    )
    assert "Reader:" not in _text(html)


def test_a_link_list_inside_the_article_is_dropped_but_its_links_are_kept() -> None:
    html = (
        f"<article><p>{PROSE}</p><ul><li><a href='/a'>Trump accepts invitation to meet Kim</a></li>"
        f"<li><a href='/b'>Sanctions will remain, White House says</a></li></ul><p>{PROSE}</p>"
        "</article>"
    )
    content = main_content(parse(html))
    assert "Trump accepts" not in "\n".join(b.text for b in content.blocks)
    assert {a.href for b in content.link_blocks for a in b.anchors} == {"/a", "/b"}


def test_a_paragraph_with_a_few_links_is_prose() -> None:
    html = f"<article><p>{PROSE} <a href='/moon'>Moon Jae-in</a> welcomed it.</p></article>"
    assert "Moon Jae-in welcomed it." in _text(html)


def test_the_ancestors_of_the_main_content_are_never_dropped() -> None:
    inner = f"<main><p>{PROSE}</p></main>"
    html = f"<div class='sidebar-layout'><div id='comments-wrapper'>{inner}</div></div>"
    assert _text(html) == PROSE


def test_state_classes_do_not_make_the_article_boilerplate() -> None:
    html = (
        f"<div class='article-body has-comments'><p>{PROSE}</p></div>"
        "<nav><a href='/'>Home</a></nav>"
    )
    assert _text(html) == PROSE


def test_hidden_elements_and_scripts_are_not_text() -> None:
    html = (
        f"<article><p>{PROSE}</p><div hidden>hidden-1</div>"
        "<div style='display: none'>hidden-2</div>"
        "<span aria-hidden='true'>hidden-3</span><script>var hidden4 = 1;</script>"
        "<style>.hidden5{}</style><noscript>hidden-6</noscript></article>"
    )
    text = _text(html)
    assert "hidden" not in text


def test_without_semantic_markup_the_densest_block_wins() -> None:
    html = (
        "<div id='menu'><a href='/'>Home</a> <a href='/news'>News</a></div>"
        "<div id='x1'><div class='c'>"
        f"<p>{PROSE}</p><p>{PROSE} Again.</p><p>{PROSE} Thrice.</p></div></div>"
        "<div id='x2'><p>Small print about the site and who runs it.</p></div>"
    )
    text = _text(html)
    assert text.count("North Korea told") == 3
    assert "Small print" not in text and "Home" not in text


def test_several_live_blog_entries_are_all_kept() -> None:
    entries = "".join(
        f"<article class='entry'><h3>Update {i}</h3><p>{PROSE} ({i})</p></article>"
        for i in range(5)
    )
    html = f"<main><div class='feed'>{entries}</div></main>"
    text = _text(html)
    assert all(f"({i})" in text for i in range(5))


def test_double_line_breaks_separate_paragraphs() -> None:
    html = f"<div class='view_cont'>{PROSE}<br><br>Second paragraph here.<br>Same paragraph.</div>"
    blocks = main_content(parse(html)).blocks
    assert [b.text for b in blocks] == [PROSE, "Second paragraph here. Same paragraph."]


def test_a_page_that_is_all_chrome_still_yields_its_text() -> None:
    line = "Seoul, 6 March 2018: the envoys are back from Pyongyang."
    assert _text(f"<body><footer><p>{line}</p></footer></body>") == line


@pytest.mark.parametrize(
    "text",
    ["Advertisement", "ADVERTISEMENT", "Share this article", "Read more »", "03.25 GMT", "광고"],
)
def test_boilerplate_lines_are_dropped(text: str) -> None:
    assert not keep_block(Block(text, "p"))


def test_the_h1_is_metadata_not_main_text() -> None:
    assert not keep_block(Block("North Korea offers talks", "h1"))
    assert keep_block(Block("North Korea offers talks", "h2"))


def test_a_heading_left_without_its_section_is_dropped() -> None:
    blocks = [
        Block("Background", "h2"),
        Block(PROSE, "p"),
        Block("See also", "h2"),
        Block("References", "h2"),
    ]
    assert [b.text for b in without_dangling_headings(blocks)] == ["Background", PROSE]


# --- the saved pages: what a human would call the article --------------------------------


def test_news_article_keeps_the_story_and_drops_the_chrome() -> None:
    text = extracted("news_article.html").text
    # the standfirst from the article's own <header>, then the story
    assert text.startswith("Envoys returning from Pyongyang say Kim Jong Un has also agreed")
    assert "\n\nNorth Korea has told South Korean envoys" in text
    assert text.endswith("could reach the entire US mainland.")
    for chrome in (
        "Asia\n",  # the kicker in the article's header
        "Eleanor Park",  # the byline
        "Tue 6 Mar 2018",
        "Skip to content",
        "Most read",
        "Gary Cohn",
        "Share on Facebook",
        "Advertisement",
        "Photograph: Meridian Post staff",  # a caption
        "Related stories",
        "All rights reserved",
        "corrections@",
        "It made clear that it would have no reason to keep nuclear weapons if the military "
        "threat to the North was eliminated.”\n",  # the pull quote repeats the body
    ):
        assert chrome not in text, chrome


def test_the_cookie_banner_and_related_links_are_not_main_text() -> None:
    text = extracted("cookie_related.html").text
    assert "Section 232 of the Trade Expansion Act of 1962" in text
    assert "beer can producers" in text
    for chrome in (
        "cookies",
        "Accept all",
        "What is Section 232?",
        "More on this story",
        "Most Popular",
        "Trade Brief newsletter",
        "Read more",
        "Subscribe",
    ):
        assert chrome not in text, chrome


def test_comments_are_not_main_text() -> None:
    text = extracted("comments_page.html").text
    assert "Kwandong Hockey Centre" in text
    for chrome in (
        "political stunt",
        "gave me chills",
        "Leave a Reply",
        "hockeydad88",
        "Share this",
    ):
        assert chrome not in text, chrome


def test_the_syndicated_copy_drops_its_own_chrome() -> None:
    text = extracted("wire_story_syndicated.html").text
    for chrome in (
        "We use cookies",
        "ADVERTISEMENT",
        "RELATED:",
        "Never going to happen",
        "Daily Headlines",
        "Trending Now",
        "Ice fishing",
    ):
        assert chrome not in text, chrome


def test_the_live_blog_keeps_every_entry_and_drops_per_entry_chrome() -> None:
    text = extracted("live_blog.html").text
    for entry in (
        "Meeting being planned!",
        "historic milestone",
        "place and time",
        "by May",
        "major statement",
    ):
        assert entry in text, entry
    assert text.index("Meeting being planned!") < text.index("major statement")  # page order
    for chrome in ("Key events", "Share on Twitter", "Link to this post", "GMT"):
        assert chrome not in text, chrome


def test_the_wiki_page_loses_edit_links_references_and_navigation() -> None:
    text = extracted("wiki_page.html").text
    assert "Capella Hotel on Sentosa" in text
    for chrome in (
        "[edit]",
        "edit",
        "[1]",
        "Jump to",
        "Main page",
        "Retrieved from",
        "Categories",
        "Contents",
        "redirects here",
        "See also",
        "Agreed Framework · Six-party talks",
        "last edited",
    ):
        assert chrome not in text, chrome


def test_the_government_release_without_article_markup() -> None:
    text = extracted("gov_press_release.html").text
    assert "candid dialogue with the United States" in text
    assert text.count("The North") >= 4
    for chrome in ("Was this information helpful", "Go to contents", "Speeches", "Previous", "Hit"):
        assert chrome not in text, chrome


def test_pages_in_other_languages_lose_their_chrome_too() -> None:
    korean = extracted("korean_article.html").text
    assert "허심탄회한 대화" in korean
    for chrome in ("관련 기사", "많이 본 뉴스", "광고", "공유하기", "저작권자"):
        assert chrome not in korean, chrome
    spanish = extracted("spanish_article.html").text
    assert "radiación de Hawking" in spanish
    for chrome in (
        "Utilizamos cookies",
        "Publicidad",
        "Noticias relacionadas",
        "Lo más leído",
        "Comparte",
    ):
        assert chrome not in spanish, chrome


def test_the_amp_page_loses_amp_chrome() -> None:
    text = extracted("amp_article.html").text
    assert "talks about talks" in text
    for chrome in ("We use cookies", "Advertisement", "View full site", "National Security"):
        assert chrome not in text, chrome


def test_the_broken_page_is_read_like_a_browser_would() -> None:
    text = extracted("broken_html.html").text
    assert '"at an early date,"' in text
    assert "accepted the invitation" in text
    assert "Home | Politics" not in text and "document.write" not in text
    assert "Copyright" not in text


# --- names that describe a state, wrappers named like chrome, the climb -------------------


def test_a_bem_modifier_or_a_bare_modifier_class_is_a_state_not_a_kind() -> None:
    html = (
        "<section class='TestReport__Section TestReport__Section--Ads'>"
        f"<p>{PROSE}</p></section>"
        f"<div class='field field--label-hidden'><p>{PROSE} Twice.</p></div>"
        f"<div class='grid -fluid -menu'><p>{PROSE} Thrice.</p></div>"
        "<div class='ad-slot'>Buy now</div>"
    )
    text = _text(html)
    assert text.count("North Korea told") == 3
    assert "Buy now" not in text


def test_a_wrapper_named_like_chrome_that_holds_the_story_is_kept() -> None:
    story = "".join(f"<p>{PROSE} Part {i}.</p>" for i in range(4))
    html = f"<div class='share-zone'>{story}</div><div class='share-tools'>Share on X</div>"
    text = _text(html)
    assert text.count("North Korea told") == 4
    assert "Share on X" not in text


def test_comments_stay_out_however_long_they_are() -> None:
    comments = "".join(
        f"<p>Reader {i}: I disagree with every word of this piece.</p>" for i in range(30)
    )
    html = f"<article><p>{PROSE}</p></article><div id='comments'>{comments}</div>"
    assert "Reader" not in _text(html)


def test_the_standfirst_next_to_the_article_body_is_kept_a_short_label_is_not() -> None:
    standfirst = (
        "Envoys said the offer was the first of its kind, and officials in Washington "
        "said they would study it carefully before answering."
    )
    html = (
        "<article class='story'>"
        f"<div class='excerpt'><p>{standfirst}</p></div>"
        "<div class='label'>Exklusiv</div>"
        f"<div itemprop='articleBody'><p>{PROSE}</p><p>{PROSE} Again.</p><p>{PROSE} More.</p></div>"
        "</article>"
    )
    text = _text(html)
    assert text.startswith(standfirst)
    assert text.count("North Korea told") == 3
    assert "Exklusiv" not in text


@pytest.mark.parametrize(
    "heading",
    ["Ähnliche Beiträge", "Mehr zum Thema", "À lire aussi", "Explore further", "Tags"],
)
def test_related_sections_headed_in_other_languages_go(heading: str) -> None:
    html = (
        f"<article><p>{PROSE}</p><section><h3>{heading}</h3>"
        "<ul><li><a href='/a'>Another story</a></li><li><a href='/b'>And one more</a></li></ul>"
        "<p>A teaser for a different story that is long enough to read as prose here.</p>"
        "</section></article>"
    )
    text = _text(html)
    assert heading not in text and "teaser" not in text
    assert "North Korea told" in text


@pytest.mark.parametrize(
    "line",
    ["Tags: Nordkorea, USA", "Schlagwörter: Politik", "Kommentare geschlossen", "Rezept drucken"],
)
def test_chrome_lines_inside_the_article_go(line: str) -> None:
    assert _text(f"<article><p>{PROSE}</p><p>{line}</p></article>") == PROSE
