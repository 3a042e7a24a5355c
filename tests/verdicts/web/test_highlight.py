"""Highlighting escapes untrusted text before it marks anything."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from verdicts.web.highlight import highlight, match_spans

PAYLOAD = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=1>"


def test_terms_are_marked_and_the_rest_escaped() -> None:
    html = str(highlight("North Korea offered talks <b>today</b>", ["korea", "offer"]))
    assert html == ("North <mark>Korea</mark> <mark>offered</mark> talks &lt;b&gt;today&lt;/b&gt;")


def test_script_payload_stays_text_even_when_a_term_matches_inside_it() -> None:
    html = str(highlight(PAYLOAD, ["script", "img", "onerror", "pwned"]))
    assert "<script" not in html and "<img" not in html
    assert "&lt;<mark>script</mark>&gt;" in html
    assert html.count("<mark>") == 4  # "__pwned" is one word, not "pwned"


def test_terms_never_match_inside_entities() -> None:
    # escaping first and then searching would find "lt" and "amp" in "&lt;" and "&amp;"
    html = str(highlight("a < b & c", ["lt", "amp", "gt"]))
    assert html == "a &lt; b &amp; c"


def test_phrases_accents_and_overlaps() -> None:
    assert str(highlight("The Pyongyáng SUMMIT ended", ["pyongyang summit", "summit"])) == (
        "The <mark>Pyongyáng SUMMIT</mark> ended"
    )
    assert match_spans("talks talks", ["talk"]) == [(0, 5), (6, 11)]


def test_a_term_that_is_markup_is_escaped_inside_the_mark() -> None:
    assert str(highlight("x <em> y", ["<em>"])) == "x &lt;<mark>em</mark>&gt; y"
    assert str(highlight("a <em> tag", ["a <em> tag"])) == "<mark>a &lt;em&gt; tag</mark>"


@given(st.text(max_size=200), st.lists(st.text(max_size=12), max_size=4))
def test_removing_the_marks_gives_back_the_escaped_text(text: str, terms: list[str]) -> None:
    html = str(highlight(text, terms))
    assert html.replace("<mark>", "").replace("</mark>", "") == str(escape(text))
