"""A single large wiki as the only source: discovery must find the deciding article for most
claims, close to what a plain BM25 over the whole corpus finds (bench/wiki_discovery.py)."""

from __future__ import annotations

import pytest

from bench.wiki_discovery import (
    bm25_ranks,
    discovery_ranks,
    serve_wiki,
    synthetic_wiki,
)

ARTICLES, CLAIMS, SEED = 2000, 30, 5


@pytest.fixture(scope="module")
def wiki():
    return synthetic_wiki(ARTICLES, CLAIMS, SEED)


def recall(ranks: list[int | None], n: int) -> float:
    return sum(r is not None and r <= n for r in ranks) / len(ranks)


def test_discovery_on_one_strict_wiki_approaches_bm25_over_the_whole_corpus(wiki, settings):
    docs, claims = wiki
    assert len(docs) == ARTICLES and len({c.gold for c in claims}) == CLAIMS
    n = settings.max_candidates
    ceiling = recall(bm25_ranks(docs, claims), n)
    with serve_wiki(docs, strict=True) as api_url:  # CirrusSearch's AND, no fallback
        found = discovery_ranks(api_url, claims, settings)
    assert recall(found, n) >= 0.9
    assert recall(found, n) >= ceiling - 0.1
    assert recall(found, 5) >= 0.8  # and near the top of the fused ranking


def test_the_wiki_gets_its_own_budget_of_candidates(wiki, settings):
    docs, claims = wiki
    small = settings.model_copy(update={"candidate_budgets": {"mediawiki": 3}})
    with serve_wiki(docs) as api_url:
        few = discovery_ranks(api_url, claims[:5], small)
        many = discovery_ranks(api_url, claims[:5], settings)
    assert sum(r is not None for r in many) >= sum(r is not None for r in few)
    assert all(r is None or r <= 3 for r in few)
