"""Passages: exact offsets, stable ids, sentence-boundary splitting of long paragraphs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sources.extract.passages import (
    normalize_for_id,
    passage_id,
    sentence_ends,
    split_passages,
)

# Text built from the characters that matter: letters, sentence marks, quotes, spaces,
# newlines (paragraph gaps), CJK and Hangul, and assorted Unicode whitespace.
ALPHABET = st.sampled_from(
    list("abcXYZ .!?…\"'“”’()\n\n\t\u00a0\u3000。！가나다漢字0123456789,;-—")
)
TEXTS = st.text(alphabet=ALPHABET, max_size=3000)


def _covered(text: str, max_chars: int) -> tuple[str, list[tuple[int, int]]]:
    passages = split_passages(text, max_chars)
    return text, [(p.start, p.end) for p in passages]


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, max_chars=st.integers(min_value=20, max_value=700))
def test_every_passage_is_the_main_text_between_its_offsets(text: str, max_chars: int) -> None:
    passages = split_passages(text, max_chars)
    previous_end = 0
    for ordinal, passage in enumerate(passages):
        assert text[passage.start : passage.end] == passage.text
        assert passage.ordinal == ordinal
        assert passage.text and passage.text == passage.text.strip()
        assert passage.start >= previous_end
        assert len(passage.text) <= max_chars
        previous_end = passage.end
    assert len({p.id for p in passages}) == len(passages)


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, max_chars=st.integers(min_value=20, max_value=700))
def test_nothing_but_whitespace_falls_between_passages(text: str, max_chars: int) -> None:
    _, spans = _covered(text, max_chars)
    position = 0
    for start, end in spans:
        assert text[position:start].strip() == ""
        position = end
    assert text[position:].strip() == ""


@settings(max_examples=100, deadline=None)
@given(text=TEXTS)
def test_splitting_is_deterministic(text: str) -> None:
    assert split_passages(text) == split_passages(text)


def test_paragraphs_are_passages_with_offsets_into_the_text() -> None:
    text = "North Korea offered talks.\n\nThe White House said yes.\n\n\n  Seoul welcomed it.  "
    passages = split_passages(text)
    assert [p.text for p in passages] == [
        "North Korea offered talks.",
        "The White House said yes.",
        "Seoul welcomed it.",
    ]
    assert passages[1].start == text.index("The White House")


def test_the_id_ignores_case_typography_and_spacing() -> None:
    a = "“We look forward to the denuclearization of North Korea,” she said — briefly."
    b = '"We look forward to the  denuclearization of north korea," she said - briefly.'
    assert passage_id(a) == passage_id(b)
    assert passage_id(a) != passage_id("We look forward to the talks.")
    assert passage_id(a).startswith("p-") and len(passage_id(a)) == 18


def test_the_id_ignores_invisible_characters() -> None:
    assert normalize_for_id("Pyong\u00adyang\u200b talks") == "pyongyang talks"


def test_a_repeated_paragraph_gets_a_numbered_id() -> None:
    text = "\n\n".join(["Advertisement feedback.", "Real news.", *["Advertisement feedback."] * 2])
    ids = [p.id for p in split_passages(text)]
    base = passage_id("Advertisement feedback.")
    assert ids[0] == base
    assert ids[2] == f"{base}-2"
    assert ids[3] == f"{base}-3"


def test_a_long_paragraph_splits_at_sentence_ends() -> None:
    sentences = [
        f"Sentence number {i} says the envoys met Kim Jong Un for dinner in Pyongyang."
        for i in range(20)
    ]
    text = " ".join(sentences)
    passages = split_passages(text, 300)
    assert len(passages) > 1
    for passage in passages:
        assert passage.text.endswith("Pyongyang.")
        assert len(passage.text) <= 300
    assert " ".join(p.text for p in passages) == text


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    text = (
        "Mr. Chung met U.S. officials at 7 p.m. on Thursday. "
        "Sen. J. Smith said the U.S. Senate would hold hearings. It was late."
    )
    ends = [text[:e] for e in sentence_ends(text, 0, len(text))]
    assert ends == [
        "Mr. Chung met U.S. officials at 7 p.m. on Thursday.",
        "Mr. Chung met U.S. officials at 7 p.m. on Thursday. "
        "Sen. J. Smith said the U.S. Senate would hold hearings.",
    ]


def test_a_lower_case_continuation_is_not_a_new_sentence() -> None:
    text = "The talks (announced Thursday, i.e. late in the week) went on. Next week too."
    assert [text[:e] for e in sentence_ends(text, 0, len(text))] == [
        "The talks (announced Thursday, i.e. late in the week) went on."
    ]


def test_cjk_full_stops_end_sentences_without_spaces() -> None:
    text = "北朝鮮は対話の意思を示した。米国は歓迎した。" * 30
    passages = split_passages(text, 100)
    assert len(passages) > 1
    assert all(p.text.endswith("。") for p in passages)
    assert "".join(p.text for p in passages) == text


def test_korean_sentences_split_after_the_period() -> None:
    text = "북측은 한반도 비핵화 의지를 분명히 했다. " * 40
    passages = split_passages(text.strip(), 120)
    assert all(p.text.endswith("했다.") for p in passages)


def test_a_sentence_longer_than_the_limit_is_cut_at_a_space() -> None:
    text = "word " * 300
    passages = split_passages(text, 100)
    assert all(len(p.text) <= 100 for p in passages)
    assert all(not p.text.endswith(" ") and p.text.startswith("word") for p in passages)


def test_text_without_spaces_is_cut_at_the_limit() -> None:
    text = "가" * 950
    passages = split_passages(text, 400)
    assert [len(p.text) for p in passages] == [400, 400, 150]


def test_empty_and_blank_text_have_no_passages() -> None:
    assert split_passages("") == ()
    assert split_passages(" \n\n \t ") == ()
