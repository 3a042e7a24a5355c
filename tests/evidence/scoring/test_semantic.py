"""evidence/scoring/semantic.py: the optional re-ranker (needs the 'semantic' extra)."""

from __future__ import annotations

import pytest

from evidence.scoring import semantic
from evidence.scoring.rank import PassageInput, rank_passages

pytestmark = pytest.mark.slow


def test_reranker_prefers_the_paraphrase_and_is_deterministic() -> None:
    assert semantic.available(), "install the 'semantic' extra to run this test"
    claim = "North Korea offered to negotiate with America"
    pool = [
        PassageInput(1, "Pyongyang proposed direct negotiations with Washington.", "https://a/1"),
        PassageInput(
            2, "North Korea's football team played America's in a friendly.", "https://b/2"
        ),
    ]
    reranker = semantic.SemanticReranker()
    base = {s.passage_id: s.score for s in rank_passages(claim, pool)}
    first = reranker.rerank(claim, rank_passages(claim, pool))
    again = reranker.rerank(claim, rank_passages(claim, pool[::-1]))
    assert [(s.passage_id, s.score) for s in first] == [(s.passage_id, s.score) for s in again]
    sims = {s.passage_id: s.components["semantic"] for s in first}
    assert sims[1] > sims[2]  # the paraphrase, although it shares no keyword
    for s in first:
        assert s.score == pytest.approx(
            base[s.passage_id] + semantic.SEMANTIC_WEIGHT * sims[s.passage_id]
        )
