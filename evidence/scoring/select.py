"""Choose a claim's evidence from its ranked passages: existing fact-checks first, then the
top passages, diverse across sites, with syndicated copies counted once.

::

    selection = select_evidence(claim.text, rank_passages(claim.text, pool), fact_checks=found,
                                top_k=8, max_per_site=2, match_threshold=0.65)
    selection.fact_checks   # matching ClaimReviews, most similar first
    selection.evidence      # top-k groups, each a passage with its copies on other sites
    selection.as_list()     # both, fact-checks ranked first (what the UI and audit show)

Syndication: the same wire story on five sites is one origin. Passages with the same
passage key, or whose word 3-shingles overlap at ``SYNDICATION_JACCARD`` or more, form a
group led by the best-ranked member; the others are listed as ``copies`` and take no slot.
Diversity: at most ``max_per_site`` groups per site, so one domain cannot take every slot.
Pure and deterministic, like the ranking it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from evidence.scoring import text as tx
from evidence.scoring.matching import similarity
from evidence.scoring.rank import ScoredPassage, id_order

SYNDICATION_JACCARD = 0.6  # shingle overlap from which two passages are one text
SHINGLE_WORDS = 3
MIN_EVIDENCE_SCORE = 0.0  # a passage sharing no claim term is never evidence


@dataclass(frozen=True)
class FactCheckInput:
    """An existing fact-check: a ClaimReview embedded in a page or from the fact-check search."""

    url: str
    claim_reviewed: str | None
    rating: str | None
    publisher: str | None
    review_date: date | None = None
    source: str = "embedded"  # embedded | factcheck-api
    document_id: int | None = None


@dataclass(frozen=True)
class MatchedFactCheck:
    fact_check: FactCheckInput
    similarity: float


@dataclass(frozen=True)
class Copy:
    passage_id: int | str
    url: str
    site: str | None

    def as_json(self) -> dict[str, Any]:
        return {"passage_id": self.passage_id, "url": self.url, "site": self.site}


@dataclass(frozen=True)
class SelectedPassage:
    scored: ScoredPassage
    rank: int  # 1-based among passages
    copies: tuple[Copy, ...]


@dataclass(frozen=True)
class Selection:
    fact_checks: tuple[MatchedFactCheck, ...]
    evidence: tuple[SelectedPassage, ...]

    @property
    def corroboration(self) -> int:
        """Independent origins among the evidence: a syndicated story counts once."""
        return len(self.evidence)

    def as_list(self) -> list[dict[str, Any]]:
        """Fact-checks first, then passages; ``rank`` runs across both."""
        out: list[dict[str, Any]] = []
        for fc in self.fact_checks:
            out.append(
                {
                    "kind": "fact_check",
                    "rank": len(out) + 1,
                    "url": fc.fact_check.url,
                    "claim_reviewed": fc.fact_check.claim_reviewed,
                    "rating": fc.fact_check.rating,
                    "publisher": fc.fact_check.publisher,
                    "similarity": fc.similarity,
                }
            )
        for ev in self.evidence:
            out.append(
                {
                    "kind": "passage",
                    "rank": len(out) + 1,
                    "passage_id": ev.scored.passage_id,
                    "url": ev.scored.passage.url,
                    "site": ev.scored.passage.site,
                    "score": ev.scored.score,
                    "components": ev.scored.components,
                    "matched_terms": ev.scored.matched_terms,
                    "copies": [c.as_json() for c in ev.copies],
                }
            )
        return out


def select_evidence(
    claim: str,
    ranked: Sequence[ScoredPassage],
    *,
    fact_checks: Sequence[FactCheckInput] = (),
    top_k: int,
    max_per_site: int,
    match_threshold: float,
) -> Selection:
    """The evidence to record for ``claim``. Pure: the caller passes the limits (the flow
    takes them from the settings: ``evidence_top_k``, ``max_per_site``, ``match_threshold``)."""
    threshold = match_threshold
    ordered = sorted(ranked, key=lambda s: (-s.score, id_order(s.passage_id)))
    groups = group_syndicated([s for s in ordered if _is_evidence(s)])
    chosen = _diverse(groups, top_k=top_k, max_per_site=max_per_site)
    evidence = tuple(
        SelectedPassage(scored=lead, rank=i, copies=tuple(_copy(c) for c in copies))
        for i, (lead, copies) in enumerate(chosen, start=1)
    )
    return Selection(match_fact_checks(claim, fact_checks, threshold=threshold), evidence)


def _is_evidence(scored: ScoredPassage) -> bool:
    return scored.score > MIN_EVIDENCE_SCORE and bool(scored.matched_terms)


def _copy(scored: ScoredPassage) -> Copy:
    return Copy(scored.passage_id, scored.passage.url, scored.passage.site)


def match_fact_checks(
    claim: str, fact_checks: Sequence[FactCheckInput], *, threshold: float
) -> tuple[MatchedFactCheck, ...]:
    """Fact-checks whose reviewed claim is our claim, most similar first (one per URL)."""
    best: dict[str, MatchedFactCheck] = {}
    for fc in fact_checks:
        if not fc.claim_reviewed:
            continue
        score = similarity(claim, fc.claim_reviewed)
        if score >= threshold and (fc.url not in best or score > best[fc.url].similarity):
            best[fc.url] = MatchedFactCheck(fc, score)
    return tuple(sorted(best.values(), key=lambda m: (-m.similarity, m.fact_check.url)))


# -- syndication --------------------------------------------------------------------------


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    words = tx.tokens(text)
    if len(words) < size:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def is_copy(a: ScoredPassage, b: ScoredPassage, a_sh: frozenset[Any], b_sh: frozenset[Any]) -> bool:
    if a.passage.key and a.passage.key == b.passage.key:
        return True
    union = a_sh | b_sh
    return bool(union) and len(a_sh & b_sh) / len(union) >= SYNDICATION_JACCARD


def group_syndicated(
    ordered: Sequence[ScoredPassage],
) -> list[tuple[ScoredPassage, list[ScoredPassage]]]:
    """(leader, copies) in rank order; each passage joins the first group it copies."""
    groups: list[tuple[ScoredPassage, list[ScoredPassage]]] = []
    leader_shingles: list[frozenset[Any]] = []
    for scored in ordered:
        mine = shingles(scored.passage.text)
        for (lead, copies), lead_sh in zip(groups, leader_shingles, strict=True):
            if is_copy(lead, scored, lead_sh, mine):
                copies.append(scored)
                break
        else:
            groups.append((scored, []))
            leader_shingles.append(mine)
    return groups


def site_of(scored: ScoredPassage) -> str:
    """The passage's site, or its URL's host when extraction found no site name."""
    return scored.passage.site or urlsplit(scored.passage.url).hostname or scored.passage.url


def _diverse(
    groups: list[tuple[ScoredPassage, list[ScoredPassage]]], *, top_k: int, max_per_site: int
) -> list[tuple[ScoredPassage, list[ScoredPassage]]]:
    per_site: dict[str, int] = {}
    chosen: list[tuple[ScoredPassage, list[ScoredPassage]]] = []
    for lead, copies in groups:
        if len(chosen) >= top_k:
            break
        site = site_of(lead)
        if per_site.get(site, 0) >= max_per_site:
            continue
        per_site[site] = per_site.get(site, 0) + 1
        chosen.append((lead, copies))
    return chosen
