"""Matching listed entries (feed items, sitemap URLs, local files) against the queries.

Feeds, sitemaps and archives have no search API: discovery reads their entries and keeps
those whose words cover enough of one query. Token overlap, not ranking — the rank step
scores passages properly later; here it only decides what is worth fetching. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from sources.discovery.config import MATCH_MIN_SCORE, MATCH_MIN_WORDS
from sources.discovery.words import match_keys


@dataclass(frozen=True)
class Match:
    query: str
    score: float  # share of the query's words found in the entry
    words: int  # how many of them


class QueryMatcher:
    """The queries' words computed once, for matching many entries (a sitemap has up to
    50,000 per file)."""

    def __init__(self, queries: list[str] | tuple[str, ...]) -> None:
        self._wanted = [(q, frozenset(match_keys(q))) for q in queries]
        self._wanted = [(q, keys) for q, keys in self._wanted if keys]
        self._any = frozenset().union(*(keys for _, keys in self._wanted))

    def best(self, entry_text: str) -> Match | None:
        """The query the entry covers best, or None when it covers none well enough."""
        entry = self._any.intersection(match_keys(entry_text))
        if not entry:
            return None
        best: Match | None = None
        for query, wanted in self._wanted:
            found = len(wanted & entry)
            score = found / len(wanted)
            if score < MATCH_MIN_SCORE or found < min(MATCH_MIN_WORDS, len(wanted)):
                continue
            if best is None or (score, found) > (best.score, best.words):
                best = Match(query, round(score, 4), found)
        return best


def best_match(queries: list[str] | tuple[str, ...], entry_text: str) -> Match | None:
    """One-off form of ``QueryMatcher(queries).best(entry_text)``."""
    return QueryMatcher(queries).best(entry_text)


def ranked(matches: list[tuple[Match, int]]) -> list[tuple[Match, int]]:
    """(match, position in the listing) pairs, best first; ties keep listing order."""
    return sorted(matches, key=lambda pair: (-pair[0].score, -pair[0].words, pair[1]))
