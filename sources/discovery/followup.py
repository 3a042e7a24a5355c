"""The second discovery round: follow the story from what the first round found.

A claim names some people and places; the passages that bear on it name others. The official
correction of "North Korea made its first direct offer of talks" says who was really on the
phone ("South Korea's national security adviser Chung Eui-yong"), and the stories after the
claim point to an event and a date ("the 8 March briefing"). Those names and dates are what
a fact-checker searches for next. ``followup_queries`` finds them::

    >>> followup_queries(claim, top_passages, max_queries=3)
    (PlannedQuery(family='followup', terms=('North Korea', 'Chung Eui-yong')), ...)

A name or full date counts when it recurs in FOLLOWUP_MIN_PASSAGES of the top passages (one
outlet's aside is not the story), is not already one of the claim's own (or the claimant's),
and ranks by how many passages name it, then by how many name it beside one of the claim's
entities, then by first appearance. Each becomes a short query beside the claim's main
entity. Pure, deterministic and bounded by ``max_queries`` (setting ``followup_queries``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evidence.scoring import text as textmod
from evidence.scoring.rank import PassageInput, ScoredPassage
from sources.discovery.config import FOLLOWUP_MIN_PASSAGES
from sources.discovery.plan import (
    FOLLOWUP,
    PlannedQuery,
    QueryPlan,
    claim_terms,
    salient_entities,
    with_round,
)
from sources.discovery.words import match_key

FOLLOWUP_ROUND = 2


@dataclass
class _Seen:
    passages: int = 0  # how many of the top passages name it
    beside: int = 0  # ... of them beside one of the claim's entities
    first: int = 0  # where it first appeared (passage order, then text order)


def followup_queries(
    claim: str,
    passages: Sequence[ScoredPassage | PassageInput],
    *,
    claimant: str | None = None,
    max_queries: int = 3,
) -> tuple[PlannedQuery, ...]:
    """At most ``max_queries`` follow-up queries: the claim's main entity beside each name
    or date the top ``passages`` (best first) add to the claim."""
    if max_queries <= 0 or not passages:
        return ()
    terms = claim_terms(claim)
    anchor = (terms["entities"] or terms["predicates"] or [""])[0]
    if not anchor:
        return ()
    known = _known_words(claim, claimant)
    names, dates = _new_terms([_text(p) for p in passages], known)
    need = min(FOLLOWUP_MIN_PASSAGES, len(passages))
    names = [n for n in names if n[1].passages >= need]
    dates = [d for d in dates if d[1].passages >= need]
    picked = [n for n, _ in names[: max_queries - 1 if dates else max_queries]]
    picked += [d for d, _ in dates[: max_queries - len(picked)]]
    return tuple(PlannedQuery(FOLLOWUP, (anchor, term)) for term in picked)


def followup_plan(
    first: QueryPlan,
    passages: Sequence[ScoredPassage | PassageInput],
    *,
    claimant: str | None = None,
    max_queries: int = 3,
) -> QueryPlan:
    """Round two of ``first``: the same claim and dates, the follow-up queries."""
    queries = followup_queries(first.claim, passages, claimant=claimant, max_queries=max_queries)
    return with_round(first, queries, FOLLOWUP_ROUND)


def _text(passage: ScoredPassage | PassageInput) -> str:
    return passage.passage.text if isinstance(passage, ScoredPassage) else passage.text


def _known_words(claim: str, claimant: str | None) -> set[str]:
    names = salient_entities(claim) + ([claimant] if claimant else [])
    return {match_key(w) for name in names for w in name.split()} | {
        match_key(w) for w in textmod.content_tokens(claim)
    }


def _covered(name: str, known: set[str]) -> bool:
    """Every word of ``name`` is (a form of) a word the claim already has: "North Korean"
    for a claim about "North Korea"."""
    return all(any(match_key(w).startswith(k) for k in known) for w in name.split())


def _new_terms(
    texts: list[str], known: set[str]
) -> tuple[list[tuple[str, _Seen]], list[tuple[str, _Seen]]]:
    """New names and full dates with their counts, best first."""
    names: dict[str, _Seen] = {}
    dates: dict[str, _Seen] = {}
    spelling: dict[str, str] = {}
    order = 0
    for text in texts:
        beside_claim = any(match_key(w) in known for w in textmod.content_tokens(text))
        found = [n for n in salient_entities(text) if not _covered(n, known)]
        for table, items in ((names, found), (dates, textmod.dates(text))):
            for item in dict.fromkeys(textmod.fold(i) for i in items):
                seen = table.setdefault(item, _Seen(first=order))
                seen.passages += 1
                seen.beside += beside_claim
                order += 1
        for name in found + textmod.dates(text):
            spelling.setdefault(textmod.fold(name), name)

    def best(table: dict[str, _Seen]) -> list[tuple[str, _Seen]]:
        ranked = sorted(table.items(), key=lambda i: (-i[1].passages, -i[1].beside, i[1].first))
        return [(spelling[key], seen) for key, seen in ranked]

    return best(names), best(dates)
