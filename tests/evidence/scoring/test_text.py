"""evidence/scoring/text.py: the pure text helpers shared by query planning and scoring."""

from __future__ import annotations

from evidence.scoring import text as tx


def test_fold_ignores_case_and_accents() -> None:
    assert tx.fold("PYONGYÁNG") == tx.fold("pyongyang")


def test_content_tokens_drop_stop_words_but_keep_numbers() -> None:
    assert tx.content_tokens("The 5 offers of a talk") == ["5", "offers", "talk"]


def test_stem_maps_inflections_together() -> None:
    assert {tx.stem(w) for w in ("offers", "offered", "offering")} == {"offer"}
    assert tx.stem("countries") == "country"
    assert tx.stem("bus") == "bus"  # too short to strip


def test_numbers_reads_thousands_decimals_and_percent() -> None:
    found = {(n.value, n.percent) for n in tx.numbers("2,500 troops, 3.5% and 12 percent")}
    assert {(2500.0, False), (3.5, True), (12.0, True)} <= found


def test_years_and_dates() -> None:
    text = "Signed on 21 October 1994, revised March 3, 2001 and 2003-05-01."
    assert tx.years(text) == [1994, 2001, 2003]
    assert tx.dates(text) == ["21 October 1994", "March 3, 2001", "2003-05-01"]


def test_quoted_phrases() -> None:
    assert tx.quoted('He said "we will never talk" and left') == ["we will never talk"]


def test_entities_are_capitalised_spans() -> None:
    found = tx.entities(
        "After talks, Kim Jong Un met officials of the United Nations in Pyongyang."
    )
    assert "Kim Jong Un" in found
    assert "United Nations" in found
    assert "Pyongyang" in found


def test_entities_drop_a_lone_sentence_initial_stop_word() -> None:
    assert "The" not in tx.entities("The talks failed.")


def test_entities_keep_a_capitalised_sentence_start_glued_on() -> None:
    # a known limit: evidence.scoring.features.clean_entities drops leading articles, not this
    assert tx.entities("Yesterday Kim Jong Un left.") == ["Yesterday Kim Jong Un"]


def test_key_phrases_are_runs_of_content_words_longest_first() -> None:
    phrases = tx.key_phrases("North Korea made its first direct offer of talks to the US")
    assert phrases[0] in ("North Korea made", "first direct offer")
    assert all(len(p.split()) >= 2 for p in phrases)


def test_has_superlative() -> None:
    assert tx.has_superlative("the first direct offer")
    assert tx.has_superlative("Norway has never won")
    assert not tx.has_superlative("Unemployment fell to 3.5 percent")
