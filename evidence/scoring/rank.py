"""Rank a claim's passages: BM25 over the claim's own passage pool plus agreement features.

::

    ranked = rank_passages(claim.text, passages, claim_date=claim.claim_date)
    ranked[0].score, ranked[0].components, ranked[0].matched_terms

The score is a weighted sum of parts in [0, 1] (``Weights``), kept per passage in
``components`` so a reviewer sees why a passage ranks where it does. BM25 (the ``bm25s``
library, Lucene variant) is normalised by the best BM25 in the pool, so it says "how good a
keyword match is this, among what we found", while the features say "does it agree".
A contradicting number or date lowers the score only a little: a passage that refutes the
claim is evidence too, and its components flag the contradiction.

The rank a search engine gave a passage's page (``PassageInput.search_rank``: the page's place
in discovery's fused ranking, 1 is best) is evidence of relevance too: the ``search``
component is ``(k + 1) / (k + rank)`` (`evidence.scoring.fusion.rank_closeness`, the
reciprocal-rank curve scaled to 1 at rank 1), 0 for a page nobody ranked, and counts with a
small weight, so it orders passages the keywords cannot tell apart without overruling them.

Pure and deterministic: the pool is put in passage-id order before indexing and ties are
broken by passage id, so shuffled input gives the same order and an audit can recompute it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import bm25s
import numpy as np

from evidence.errors import BadInput
from evidence.scoring import features as ft
from evidence.scoring.fusion import rank_closeness

# bm25s logs every index build at DEBUG; ranking runs per claim, so keep it quiet
logging.getLogger("bm25s").setLevel(logging.WARNING)

SCORE_DECIMALS = 6  # scores are rounded so that float noise cannot reorder equal passages
RECENCY_WINDOW_DAYS = 365  # a passage published this close to the claim date is "of the time"
SEARCH_RANK_K = 10  # damping of the search rank: rank 10 counts 0.55, rank 30 0.28


@dataclass(frozen=True)
class Weights:
    """How much each part counts; the defaults were tuned on bench/data (docs/ranking.md)."""

    bm25: float = 1.0
    phrase: float = 0.5
    entity: float = 0.3
    number: float = 0.5
    date: float = 0.3
    coverage: float = 0.6
    recency: float = 0.05
    number_contradiction: float = 0.15
    date_contradiction: float = 0.1
    search: float = 0.2


BM25_ONLY = Weights(
    phrase=0,
    entity=0,
    number=0,
    date=0,
    coverage=0,
    recency=0,
    number_contradiction=0,
    date_contradiction=0,
    search=0,
)
DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class PassageInput:
    """One candidate passage with the page it came from (ids may be ints or strings)."""

    passage_id: int | str
    text: str
    url: str
    site: str | None = None
    title: str | None = None
    published: datetime | None = None
    document_id: int | str | None = None
    key: str | None = None  # stable hash of the normalised text: same key = same text
    search_rank: int | None = None  # the page's place in discovery's fused ranking; None: unranked


@dataclass(frozen=True)
class ScoredPassage:
    passage_id: int | str
    score: float
    components: dict[str, float]
    matched_terms: list[str]  # claim terms found, as the passage spells them (highlighting)
    passage: PassageInput = field(repr=False)


def id_order(passage_id: int | str) -> tuple[int, int, str]:
    """Ints before strings, each in natural order (the last resort of ``stable_order``)."""
    if isinstance(passage_id, int):
        return (0, passage_id, "")
    return (1, 0, passage_id)


StableKey = tuple[str, str, str, tuple[int, int, str]]


def stable_order(item: PassageInput | ScoredPassage) -> StableKey:
    """The one tie-break everywhere: the page's URL, then the passage's text key and text.

    Passage ids follow the order fetches complete, so breaking ties by id would make the
    same claim and pages give different evidence from run to run. The id decides only
    between two passages of one page with the same text (interchangeable as evidence).
    """
    p = item.passage if isinstance(item, ScoredPassage) else item
    return (p.url, p.key or "", p.text, id_order(p.passage_id))


def rank_passages(
    claim: str,
    passages: Sequence[PassageInput],
    *,
    claim_date: date | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[ScoredPassage]:
    """Every passage scored against ``claim``, best first."""
    _refuse_duplicate_ids(sorted(passages, key=lambda p: id_order(p.passage_id)))
    pool = sorted(passages, key=stable_order)
    if not pool:
        return []
    profile = ft.profile(claim)
    analysed = [ft.analyse(p.text) for p in pool]
    bm25 = _bm25_scores(list(profile.stems), [a.stems for a in analysed])
    scored = [
        _score(p, a, b, profile, claim_date, weights)
        for p, a, b in zip(pool, analysed, bm25, strict=True)
    ]
    return sorted(scored, key=lambda s: (-s.score, stable_order(s)))


def _refuse_duplicate_ids(pool: list[PassageInput]) -> None:
    for before, after in zip(pool, pool[1:], strict=False):
        if before.passage_id == after.passage_id:
            raise BadInput(f"The passage id {before.passage_id!r} appears twice in the pool.")


def _bm25_scores(query: list[str], corpus: list[list[str]]) -> list[float]:
    """BM25 of each passage, divided by the pool's best (0 when nothing matches)."""
    if not query:
        return [0.0] * len(corpus)
    retriever = bm25s.BM25()
    retriever.index([doc or [""] for doc in corpus], show_progress=False)
    raw = np.asarray(retriever.get_scores(query), dtype=np.float64)
    best = float(raw.max()) if raw.size else 0.0
    if best <= 0:
        return [0.0] * len(corpus)
    return [float(v) / best for v in raw]


def _score(
    passage: PassageInput,
    analysed: ft.PassageText,
    bm25: float,
    profile: ft.ClaimProfile,
    claim_date: date | None,
    w: Weights,
) -> ScoredPassage:
    feats = ft.features(profile, analysed)
    recency = _recency(passage.published, claim_date)
    search = rank_closeness(passage.search_rank, SEARCH_RANK_K)
    components = {"bm25": bm25, **feats.components(), "recency": recency, "search": search}
    components = {k: round(v, SCORE_DECIMALS) for k, v in components.items()}
    score = (
        w.bm25 * bm25
        + w.phrase * feats.phrase
        + w.entity * feats.entity
        + w.number * feats.number_agree
        + w.date * feats.date_agree
        + w.coverage * feats.coverage
        + w.recency * recency
        + w.search * search
        - w.number_contradiction * feats.number_contradict
        - w.date_contradiction * feats.date_contradict
    )
    return ScoredPassage(
        passage_id=passage.passage_id,
        score=round(score, SCORE_DECIMALS),
        components=components,
        matched_terms=_matched_terms(feats.matched_stems, analysed.tokens),
        passage=passage,
    )


def _recency(published: datetime | None, claim_date: date | None) -> float:
    if published is None or claim_date is None:
        return 0.0
    days = abs((published.date() - claim_date).days)
    return max(0.0, 1.0 - days / RECENCY_WINDOW_DAYS)


def _matched_terms(stems: tuple[str, ...], passage_tokens: list[str]) -> list[str]:
    """Each matched claim stem as the passage first spells it, in claim order."""
    spelling: dict[str, str] = {}
    for token in passage_tokens:
        spelling.setdefault(ft.normal_stem(token), token)
    return [spelling[s] for s in stems if s in spelling]
