from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.scoring.fusion import (
    RRF_K,
    contribution,
    fused_order,
    rank_closeness,
    rrf,
    rrf_scores,
)


def test_agreement_beats_the_top_of_one_ranking():
    fused = rrf([["a", "b", "c"], ["b", "d"]])
    assert [item for item, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][1] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1), abs=1e-6)


def test_an_item_listed_twice_in_one_ranking_counts_once_at_its_better_rank():
    assert rrf_scores([["a", "b", "a"]])["a"] == round(1 / (RRF_K + 1), 6)


def test_ties_break_by_best_rank_then_first_ranking_then_first_seen():
    # x and y: rank 1 in one list each (a tie); the earlier list's item wins
    assert fused_order([["x"], ["y"]]) == ["x", "y"]
    # p: ranks 2 and 2; q: ranks 1 and 3 -> almost equal, q has the better best rank
    scores = rrf_scores([["q", "p"], ["r", "p", "q"]], k=1)
    assert scores["q"] > scores["p"]
    # exact tie with the same best rank and list: first seen wins
    assert fused_order([["m", "n"], ["n", "m"]]) == ["m", "n"]


def test_weights_scale_a_ranking():
    assert fused_order([["a"], ["b"]], weights=[1.0, 2.0]) == ["b", "a"]
    with pytest.raises(ValueError, match="one weight per ranking"):
        rrf([["a"]], weights=[1.0, 2.0])


def test_contribution_and_closeness():
    assert contribution(1, k=60) == 1 / 61
    with pytest.raises(ValueError):
        contribution(0)
    assert rank_closeness(1, 10) == 1.0
    assert rank_closeness(None, 10) == 0.0
    assert rank_closeness(10, 10) == pytest.approx(11 / 20)
    assert rank_closeness(3, 10) > rank_closeness(4, 10)


@given(st.lists(st.lists(st.sampled_from("abcdefgh"), max_size=8), max_size=5))
def test_fusion_is_deterministic_and_keeps_every_item(rankings):
    first = rrf(rankings)
    assert first == rrf([list(r) for r in rankings])
    assert {item for item, _ in first} == {item for r in rankings for item in r}
    scores = [score for _, score in first]
    assert scores == sorted(scores, reverse=True)


def test_order_does_not_depend_on_dict_or_set_order():
    items = [f"u{i}" for i in range(50)]
    rng = random.Random(3)
    rankings = [rng.sample(items, 20) for _ in range(4)]
    assert fused_order(rankings) == fused_order([list(r) for r in rankings])
