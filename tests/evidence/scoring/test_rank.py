"""evidence/scoring/rank.py: BM25 plus agreement features, deterministic."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from evidence.errors import BadInput
from evidence.scoring.rank import BM25_ONLY, PassageInput, rank_passages

CLAIM = "North Korea sent 2,500 troops to the border in 2017"


def passage(pid: int | str, text: str, site: str = "a.example", **kw: object) -> PassageInput:
    return PassageInput(pid, text, f"https://{site}/{pid}", site, **kw)  # type: ignore[arg-type]


POOL = [
    passage(1, "North Korea sent 2,500 troops to the border in 2017, officials said."),
    passage(2, "North Korea sent 4,000 troops to the border in 2017, officials said."),
    passage(3, "The border region is known for its mountains and rivers."),
    passage(4, "South Korea held elections in 2017."),
    passage(5, "Recipes for kimchi vary from family to family."),
]


def test_the_matching_passage_ranks_first_and_the_unrelated_last() -> None:
    ranked = rank_passages(CLAIM, POOL)
    assert ranked[0].passage_id == 1
    assert ranked[-1].passage_id == 5
    assert ranked[-1].score == 0


def test_a_contradicting_number_lowers_the_score() -> None:
    ranked = {s.passage_id: s for s in rank_passages(CLAIM, POOL)}
    assert ranked[2].score < ranked[1].score
    assert ranked[2].components["number_contradiction"] == 1.0
    assert ranked[1].components["number_contradiction"] == 0.0
    assert ranked[1].components["number"] == 1.0


def test_components_and_matched_terms_explain_the_score() -> None:
    top = rank_passages(CLAIM, POOL)[0]
    assert {"bm25", "phrase", "entity", "number", "date", "negation", "coverage"} <= set(
        top.components
    )
    assert top.components["bm25"] == 1.0  # the pool's best keyword match
    assert top.matched_terms[:3] == ["north", "korea", "sent"]
    assert "troops" in top.matched_terms


def test_matched_terms_use_the_passage_spelling() -> None:
    top = rank_passages("Pyongyang offers talks", [passage(1, "Pyongyang offered talks.")])[0]
    assert top.matched_terms == ["pyongyang", "offered", "talks"]


def test_shuffled_input_gives_the_same_order_and_scores() -> None:
    expected = [(s.passage_id, s.score) for s in rank_passages(CLAIM, POOL)]
    for seed in range(5):
        shuffled = POOL[:]
        random.Random(seed).shuffle(shuffled)
        assert [(s.passage_id, s.score) for s in rank_passages(CLAIM, shuffled)] == expected


def test_ties_break_by_passage_id() -> None:
    text = "North Korea sent troops."
    pool = [passage(pid, text) for pid in ("b", "a", "c")]
    assert [s.passage_id for s in rank_passages(CLAIM, pool)] == ["a", "b", "c"]


def test_bm25_only_ignores_the_features() -> None:
    ranked = rank_passages(CLAIM, POOL, weights=BM25_ONLY)
    assert all(s.score == s.components["bm25"] for s in ranked)


def test_recency_counts_only_with_a_claim_date() -> None:
    near = passage(1, CLAIM, published=datetime(2017, 6, 1, tzinfo=UTC))
    far = passage(2, CLAIM, published=datetime(2010, 6, 1, tzinfo=UTC))
    ranked = rank_passages(CLAIM, [far, near], claim_date=date(2017, 6, 2))
    assert [s.passage_id for s in ranked] == [1, 2]
    assert rank_passages(CLAIM, [far])[0].components["recency"] == 0.0


def test_empty_pool_and_duplicate_ids() -> None:
    assert rank_passages(CLAIM, []) == []
    with pytest.raises(BadInput, match="twice"):
        rank_passages(CLAIM, [passage(1, "a"), passage(1, "b")])


def test_a_claim_of_stop_words_only_scores_nothing() -> None:
    assert all(s.score == 0 for s in rank_passages("it is what it is", POOL))


def test_a_search_engines_rank_orders_passages_the_keywords_cannot_tell_apart() -> None:
    text = "North Korea sent troops to the border."
    pool = [
        passage(1, text, search_rank=12),
        passage(2, text, search_rank=1),
        passage(3, text),  # a page nobody ranked
    ]
    ranked = rank_passages(CLAIM, pool)
    assert [s.passage_id for s in ranked] == [2, 1, 3]
    assert ranked[0].components["search"] == 1.0
    assert 0 < ranked[1].components["search"] < 1.0
    assert ranked[2].components["search"] == 0.0


def test_a_good_search_rank_does_not_overrule_a_much_better_passage() -> None:
    pool = [
        passage(1, "North Korea sent 2,500 troops to the border in 2017.", search_rank=30),
        passage(2, "Recipes for kimchi vary from family to family.", search_rank=1),
    ]
    assert [s.passage_id for s in rank_passages(CLAIM, pool)] == [1, 2]
    assert all(s.components["search"] == 0 for s in rank_passages(CLAIM, POOL))
