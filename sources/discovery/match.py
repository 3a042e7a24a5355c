"""Matching listed entries (feed items, sitemap URLs, local files) against the queries.

Feeds, sitemaps and archives have no search API: discovery reads their entries and ranks
them itself. ``ListingIndex`` scores every entry (title and summary or URL words) with BM25
against each planned query's terms, so an entry that says "Seoul clarifies: the offer came
from the South" ranks on "clarif…" and the names it shares with the claim, not on an exact
keyword filter; an entry must hold MATCH_MIN_WORDS of the query's terms to be listed at all.
``QueryMatcher`` (token overlap) is the older filter, kept for one-off checks. Pure.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sources.discovery.config import (
    BM25_B,
    BM25_K1,
    LISTING_TITLE_WEIGHT,
    MATCH_MIN_SCORE,
    MATCH_MIN_WORDS,
)
from sources.discovery.words import match_keys

SCORE_DECIMALS = 6


class ListingIndex:
    """BM25 statistics of a listing's entries, given as (title, text) pairs; only the words
    in ``vocabulary`` (the plan's terms, as match keys) are counted, so a 100,000-entry
    sitemap costs one tokenisation per entry."""

    def __init__(self, entries: Iterable[tuple[str, str]], vocabulary: Iterable[str]) -> None:
        wanted = frozenset(vocabulary)
        self._counts: list[Counter[str]] = []
        self._lengths: list[int] = []
        for title, text in entries:
            keys = match_keys(title) * LISTING_TITLE_WEIGHT + match_keys(text)
            self._counts.append(Counter(k for k in keys if k in wanted))
            self._lengths.append(len(keys))
        self._df: Counter[str] = Counter(k for counts in self._counts for k in counts)
        self._avg = sum(self._lengths) / len(self._lengths) if self._lengths else 0.0

    def __len__(self) -> int:
        return len(self._counts)

    def rank(self, terms: Sequence[str]) -> list[tuple[int, float]]:
        """(entry position, BM25 score) of the entries holding at least MATCH_MIN_WORDS of
        ``terms`` (all of them when there are fewer), best first, ties in listing order."""
        wanted = list(dict.fromkeys(terms))
        if not wanted or not self._counts:
            return []
        need = min(MATCH_MIN_WORDS, len(wanted))
        n = len(self._counts)
        idf = {t: math.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5)) for t in wanted}
        scored = []
        for i, counts in enumerate(self._counts):
            found = [t for t in wanted if counts[t]]
            if len(found) < need:
                continue
            norm = BM25_K1 * (1 - BM25_B + BM25_B * self._lengths[i] / (self._avg or 1.0))
            score = sum(idf[t] * counts[t] * (BM25_K1 + 1) / (counts[t] + norm) for t in found)
            scored.append((i, round(score, SCORE_DECIMALS)))
        return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


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
