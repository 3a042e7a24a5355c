"""Reciprocal-rank fusion: one ranking from several, using only the ranks.

Search engines, query families and our own scores rank pages on scales that cannot be
compared; their ranks can. Reciprocal-rank fusion (Cormack, Clarke and Büttcher, 2009)
gives an item ``1 / (k + rank)`` from every ranking that lists it and sums::

    >>> rrf([["a", "b", "c"], ["b", "d"]])
    [('b', 0.032522), ('a', 0.016393), ('d', 0.016129), ('c', 0.015873)]

An item two rankings agree on beats the top of one ranking alone; ``k`` (60, the paper's
value) damps the difference between rank 1 and rank 5 so that no single ranking dictates
the order. Pure and deterministic: ties are broken by the item's best single rank, then by
the ranking that listed it first, then by the order it was first seen.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

RRF_K = 60
FUSION_DECIMALS = 6  # fused scores are rounded so float noise cannot reorder equal items

K = TypeVar("K", bound=Hashable)


def contribution(rank: int, k: int = RRF_K, weight: float = 1.0) -> float:
    """What one ranking adds for an item at ``rank`` (1 is best)."""
    if rank < 1:
        raise ValueError(f"ranks start at 1, not {rank}")
    return weight / (k + rank)


def rrf_scores(
    rankings: Sequence[Sequence[K]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> dict[K, float]:
    """The fused score of every item; an item listed twice in one ranking counts once, at
    its better rank."""
    if weights is not None and len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for i, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[i]
        seen: set[K] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + contribution(rank, k, weight)
    return {item: round(score, FUSION_DECIMALS) for item, score in scores.items()}


def rrf(
    rankings: Sequence[Sequence[K]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Every item with its fused score, best first (deterministic ties, see module doc)."""
    scores = rrf_scores(rankings, k, weights)
    best_rank: dict[K, int] = {}
    first_list: dict[K, int] = {}
    seen_order: dict[K, int] = {}
    for i, ranking in enumerate(rankings):
        for rank, item in enumerate(ranking, start=1):
            best_rank[item] = min(best_rank.get(item, rank), rank)
            first_list.setdefault(item, i)
            seen_order.setdefault(item, len(seen_order))
    order = sorted(
        scores,
        key=lambda item: (-scores[item], best_rank[item], first_list[item], seen_order[item]),
    )
    return [(item, scores[item]) for item in order]


def fused_order(
    rankings: Sequence[Sequence[K]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[K]:
    """The items of ``rrf`` without their scores."""
    return [item for item, _ in rrf(rankings, k, weights)]


def rank_closeness(rank: int | None, k: int) -> float:
    """A rank as a part in [0, 1] for a weighted score: 1 at rank 1, ``(k + 1) / (k + rank)``
    below it (the reciprocal-rank curve, scaled), 0 for an item nobody ranked."""
    if rank is None:
        return 0.0
    return (k + 1) / (k + max(rank, 1))
