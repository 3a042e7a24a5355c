"""Choose a claim's evidence from its ranked passages: existing fact-checks first, then the
passages that decide the claim — refuting, the origin, supporting, context — diverse across
sites, with syndicated copies counted once.

::

    selection = select_evidence(claim.text, rank_passages(claim.text, pool), fact_checks=found,
                                top_k=8, max_per_site=2, match_threshold=0.65)
    selection.fact_checks   # matching ClaimReviews, most similar first
    selection.evidence      # top-k groups, each a passage with its copies on other sites
    selection.as_list()     # both, fact-checks ranked first (what the UI and audit show)

Syndication: the same wire story on five sites is one origin. Passages with the same
passage key, or whose word 3-shingles overlap at ``SYNDICATION_JACCARD`` or more, form a
group led by the best-ranked member; the others are listed as ``copies`` and take no slot.
Diversity: a first pass gives each site at most ``max_per_site`` groups, so one domain
cannot crowd out the others; slots still free after every site had its turn go to the best
remaining groups (a soft cap: with one wiki as the only source every slot is filled).

Composition: with stances (``evidence.scoring.stance``) the evidence holds, where they
exist, the best refuting groups, the origin (the earliest passage that states the claim,
by published date), the best supporting groups and context, each with its ``role``, shown
in that order. A refuting passage need not share the claim's words ("he was referring to
the South Korean envoys"), so a confident refutation is evidence even with a low score.
Pure and deterministic, like the ranking it reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from evidence.scoring import text as tx
from evidence.scoring.matching import similarity
from evidence.scoring.rank import ScoredPassage, StableKey, stable_order

if TYPE_CHECKING:  # stance imports this module for MatchedFactCheck
    from evidence.scoring.stance import Stance

SYNDICATION_JACCARD = 0.6  # shingle overlap from which two passages are one text
SHINGLE_WORDS = 3
MIN_EVIDENCE_SCORE = 0.0  # a passage sharing no claim term is never evidence...
MIN_REFUTE_CONFIDENCE = 0.6  # ...unless its stance refutes the claim this confidently
ROLES = ("refutes", "origin", "supports", "context")  # display order
# First-pass slots per role (the rest of top_k goes to the best remaining groups).
ROLE_QUOTA = {"refutes": 0.5, "origin": 0.125, "supports": 0.25, "context": 0.125}


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
    stance: Stance | None = None
    role: str | None = None  # origin | refutes | supports | context (None without stances)


@dataclass(frozen=True)
class Selection:
    fact_checks: tuple[MatchedFactCheck, ...]
    evidence: tuple[SelectedPassage, ...]
    origin: SelectedPassage | None = None  # the earliest passage stating the claim

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
                    "stance": ev.stance.label if ev.stance else None,
                    "stance_confidence": ev.stance.confidence if ev.stance else None,
                    "reasons": list(ev.stance.reasons) if ev.stance else [],
                    "role": ev.role,
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
    stances: Mapping[int | str, Stance] | None = None,
) -> Selection:
    """The evidence to record for ``claim``. Pure: the caller passes the limits (the flow
    takes them from the settings: ``evidence_top_k``, ``max_per_site``, ``match_threshold``)
    and, when it has them, each passage's stance by passage id."""
    matched = match_fact_checks(claim, fact_checks, threshold=match_threshold)
    ordered = sorted(ranked, key=lambda s: (-s.score, stable_order(s)))
    if stances is None:
        groups = group_syndicated([s for s in ordered if _is_evidence(s)])
        chosen = _diverse([("", g) for g in groups], top_k=top_k, max_per_site=max_per_site)
        chosen.sort(key=lambda rg: (-rg[1][0].score, stable_order(rg[1][0])))
        evidence = tuple(
            SelectedPassage(scored=lead, rank=i, copies=tuple(_copy(c) for c in copies))
            for i, (_, (lead, copies)) in enumerate(chosen, start=1)
        )
        return Selection(matched, evidence)
    return _compose(matched, ordered, stances, top_k=top_k, max_per_site=max_per_site)


def _compose(
    matched: tuple[MatchedFactCheck, ...],
    ordered: list[ScoredPassage],
    stances: Mapping[int | str, Stance],
    *,
    top_k: int,
    max_per_site: int,
) -> Selection:
    """Refuting, origin, supporting and context groups, each role best first."""
    pool = [s for s in ordered if _is_evidence(s) or _confident_refutation(stances, s)]
    groups = group_syndicated(pool)
    origin = _origin(groups, stances)
    in_origin = {m.passage_id for m in (origin[0], *origin[1])} if origin else set()
    roles: dict[str, list[Group]] = {role: [] for role in ROLES}
    for group in groups:
        if group[0].passage_id in in_origin:
            continue
        stance = stances.get(group[0].passage_id)
        roles[stance.label if stance else "context"].append(group)
    roles["refutes"].sort(key=lambda g: _refute_order(g, stances))
    if origin is not None:
        roles["origin"] = [origin]
    queue = _quota_order(roles, top_k)
    chosen = _diverse(queue, top_k=top_k, max_per_site=max_per_site)
    chosen.sort(key=lambda rg: (ROLES.index(rg[0]), queue.index(rg)))
    evidence = tuple(
        SelectedPassage(
            scored=lead,
            rank=i,
            copies=tuple(_copy(c) for c in copies),
            stance=stances.get(lead.passage_id),
            role=role,
        )
        for i, (role, (lead, copies)) in enumerate(chosen, start=1)
    )
    shown_origin = next((e for e in evidence if e.role == "origin"), None)
    return Selection(matched, evidence, shown_origin)


Group = tuple[ScoredPassage, list[ScoredPassage]]


def _confident_refutation(stances: Mapping[int | str, Stance], scored: ScoredPassage) -> bool:
    stance = stances.get(scored.passage_id)
    return (
        stance is not None
        and stance.label == "refutes"
        and stance.confidence >= MIN_REFUTE_CONFIDENCE
    )


def _refute_order(
    group: Group, stances: Mapping[int | str, Stance]
) -> tuple[float, float, StableKey]:
    stance = stances.get(group[0].passage_id)
    confidence = stance.confidence if stance else 0.0
    return (-round(confidence, 2), -group[0].score, stable_order(group[0]))


def _origin(groups: list[Group], stances: Mapping[int | str, Stance]) -> Group | None:
    """The group holding the earliest passage that states the claim, led by that passage."""
    best: tuple[tuple[float, float, StableKey], Group, ScoredPassage] | None = None
    for lead, copies in groups:
        for member in (lead, *copies):
            stance = stances.get(member.passage_id)
            if stance is None or not stance.makes_claim or stance.label != "supports":
                continue
            key = (_timestamp(member.passage.published), -member.score, stable_order(member))
            if best is None or key < best[0]:
                best = (key, (lead, copies), member)
    if best is None:
        return None
    _, (lead, copies), member = best
    if member is lead:
        return lead, copies
    rest = [lead, *(c for c in copies if c is not member)]
    return member, rest


def _timestamp(published: datetime | None) -> float:
    return published.timestamp() if published is not None else float("inf")


def _quota_order(roles: dict[str, list[Group]], top_k: int) -> list[tuple[str, Group]]:
    """Each role's share of the slots first (refutes, origin, supports, context), then the
    rest of every role in the same order: what ``_diverse`` walks through."""
    first: list[tuple[str, Group]] = []
    rest: list[tuple[str, Group]] = []
    for role in ROLES:
        quota = max(1, round(ROLE_QUOTA[role] * top_k))
        first.extend((role, g) for g in roles[role][:quota])
        rest.extend((role, g) for g in roles[role][quota:])
    return first + rest


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
    queue: list[tuple[str, Group]], *, top_k: int, max_per_site: int
) -> list[tuple[str, Group]]:
    """Up to ``top_k`` of ``queue`` in its order, at most ``max_per_site`` per site; slots
    left over once every site had its turn go to the best of the rest (the cap is soft)."""
    per_site: dict[str, int] = {}
    chosen: list[tuple[str, Group]] = []
    skipped: list[tuple[str, Group]] = []
    for item in queue:
        if len(chosen) >= top_k:
            break
        site = site_of(item[1][0])
        if per_site.get(site, 0) >= max_per_site:
            skipped.append(item)
            continue
        per_site[site] = per_site.get(site, 0) + 1
        chosen.append(item)
    chosen.extend(skipped[: max(0, top_k - len(chosen))])
    return chosen
