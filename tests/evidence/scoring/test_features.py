"""evidence/scoring/features.py: agreement features of a passage with a claim."""

from __future__ import annotations

from datetime import date

from evidence.scoring import features as ft

CLAIM = "North Korea sent 2,500 troops to the border in 2017"


def feats(claim: str, passage: str) -> ft.Features:
    return ft.features(ft.profile(claim), ft.analyse(passage))


def test_quantities_carry_scale_unit_and_skip_years_and_dates() -> None:
    found = ft.quantities(
        "In 2018 the fund held $4.5 billion; 12% went to 2,500 troops on 3 May 2018."
    )
    values = {(q.value, q.unit) for q in found}
    assert (4.5e9, "usd") in values
    assert (12.0, "%") in values
    assert (2500.0, "troop") in values
    assert all(q.value not in (2018.0, 3.0) for q in found)


def test_spaced_thousands_and_number_words_are_quantities() -> None:
    assert {(q.value, q.unit) for q in ft.quantities("40 000 people and six workers")} == {
        (40000.0, "people"),
        (6.0, "worker"),
    }


def test_same_number_agrees_different_number_same_unit_contradicts() -> None:
    agree = feats(CLAIM, "North Korea sent 2,500 troops to the border in 2017.")
    contra = feats(CLAIM, "North Korea sent 4,000 troops to the border in 2017.")
    assert (agree.number_agree, agree.number_contradict) == (1.0, 0.0)
    assert (contra.number_agree, contra.number_contradict) == (0.0, 1.0)


def test_a_number_of_another_unit_is_absent_not_contradicting() -> None:
    other = feats(CLAIM, "North Korea moved 40 tanks to the border in 2017.")
    assert (other.number_agree, other.number_contradict) == (0.0, 0.0)


def test_years_agree_or_contradict() -> None:
    assert feats(CLAIM, "Troops reached the border in 2017.").date_agree == 1.0
    other = feats(CLAIM, "Troops reached the border in 2015.")
    assert (other.date_agree, other.date_contradict) == (0.0, 1.0)
    assert feats(CLAIM, "Troops reached the border.").date_contradict == 0.0


def test_full_dates_of_the_same_year_but_another_day_contradict() -> None:
    claim = "The wall fell on 9 November 1989"
    assert feats(claim, "It fell on 9 November 1989.").date_agree == 1.0
    assert feats(claim, "It fell on 10 November 1989.").date_contradict > 0


def test_entities_found_and_missing_with_surnames_and_articles() -> None:
    f = feats("Donald Trump met Kim Jong Un in Singapore", "Trump flew to Singapore for the talks.")
    assert f.entities_found == ("donald trump", "singapore")
    assert f.entities_missing == ("kim jong un",)
    assert ft.clean_entities("The US said on Monday in March") == ("us",)


def test_phrase_overlap_counts_adjacent_word_pairs_and_quotes() -> None:
    claim = "North Korea made its first direct offer of talks"
    assert (
        feats(claim, "its first direct offer of talks").phrase
        > feats(claim, "talks offer direct first").phrase
    )
    assert feats('He said "fire and fury" again', "a promise of fire and fury").phrase == 1.0


def test_negation_near_matched_words_is_a_polarity_mismatch() -> None:
    claim = "Eating carrots improves night vision"
    assert feats(claim, "Eating carrots does not improve night vision.").negation == 1.0
    assert feats(claim, "Eating carrots improves night vision, some say.").negation == 0.0
    assert feats("Carrots never improve vision", "Carrots improve vision.").negation == 1.0


def test_possessives_and_final_e_do_not_split_a_word() -> None:
    f = feats("Scientists found ice on the Moon's pole and it improves", "the moon improve")
    assert "moon" in f.matched_stems
    assert ft.normal_stem("improves") == ft.normal_stem("improve")


def test_parse_date_text_reads_the_usual_spellings() -> None:
    assert ft.parse_date_text("21 October 1994") == date(1994, 10, 21)
    assert ft.parse_date_text("Sept. 3, 2018") == date(2018, 9, 3)
    assert ft.parse_date_text("2003-05-01") == date(2003, 5, 1)
    assert ft.parse_date_text("31 February 2001") is None
