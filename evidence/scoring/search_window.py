"""Timelines and search windows for claims about a first, a record, a "never" or an "only".

One passage cannot settle "the first direct offer": it takes the dated record of earlier
cases, and the honest statement of where we looked. ``search_window`` returns the dict the
verify flow stores in ``Run.search_window``::

    {"superlative": true, "claim_date": "2018-03-09",
     "sources": [...], "queries": [...],
     "date_range": {"earliest": "1994-10-21", "latest": "2018-03-09"},
     "timeline": [{"passage_id": 7, "date": "1994-10-21", "precision": "day",
                   "dated_by": "text-date", "published": "2018-03-09T…", "url": …}, …],
     "undated": [12, 40], "before_claim_date": 3, "note": "…"}

How a passage is dated, most specific first:

- ``text-date``  a full date written in the passage ("21 October 1994");
- ``text-year``  a year in the passage earlier than its page's publication (a past event);
- ``published``  the page's publication date (the passage reports news of its day).

A passage gets the earliest date of its kind: for "no earlier case" the earliest mention is
what counts. Pure: no clock, no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from evidence.scoring import features as ft
from evidence.scoring import text as tx
from evidence.scoring.rank import PassageInput, ScoredPassage, id_order


def passage_date(passage: PassageInput) -> tuple[date, str, str] | None:
    """(date, precision, dated_by) of one passage, or None when nothing dates it."""
    written = ft.parse_dates(passage.text)
    if written:
        return min(written), "day", "text-date"
    published = passage.published.date() if passage.published else None
    years = [y for y in tx.years(passage.text) if published is None or y < published.year]
    if years:
        return date(min(years), 1, 1), "year", "text-year"
    if published is not None:
        return published, "day", "published"
    return None


def build_timeline(ranked: Sequence[ScoredPassage]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Dated entries earliest first (ties by passage id), and the ids of undated passages."""
    dated: list[tuple[date, tuple[int, int, str], dict[str, Any]]] = []
    undated: list[Any] = []
    for scored in ranked:
        p = scored.passage
        found = passage_date(p)
        if found is None:
            undated.append(p.passage_id)
            continue
        when, precision, dated_by = found
        entry = {
            "passage_id": p.passage_id,
            "date": when.isoformat(),
            "precision": precision,
            "dated_by": dated_by,
            "published": p.published.isoformat() if p.published else None,
            "url": p.url,
            "site": p.site,
            "score": scored.score,
            "excerpt": p.text[:240],
        }
        dated.append((when, id_order(p.passage_id), entry))
    dated.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in dated], sorted(undated, key=id_order)


def search_window(
    claim: str,
    ranked: Sequence[ScoredPassage],
    *,
    sources: Sequence[str | Mapping[str, Any]],
    queries: Sequence[str],
    claim_date: date | None = None,
    adapter_errors: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The auditable record of where and when we looked; with a timeline for superlatives.

    ``sources`` are the discovery sources searched (``KIND=URL`` strings or dicts),
    ``queries`` the queries sent, ``ranked`` the passages found (all of them, not only
    the selected evidence: an earlier case may rank low on keywords).
    """
    superlative = tx.has_superlative(claim)
    timeline, undated = build_timeline(ranked)
    dates = [entry["date"] for entry in timeline]
    window: dict[str, Any] = {
        "superlative": superlative,
        "claim_date": claim_date.isoformat() if claim_date else None,
        "sources": [s if isinstance(s, str) else dict(s) for s in sources],
        "queries": list(queries),
        "adapter_errors": [dict(e) for e in adapter_errors],
        "passages_searched": len(ranked),
        "date_range": {
            "earliest": dates[0] if dates else None,
            "latest": dates[-1] if dates else None,
        },
    }
    if superlative:
        window["timeline"] = timeline
        window["undated"] = undated
        window["before_claim_date"] = (
            sum(d < claim_date.isoformat() for d in dates) if claim_date else None
        )
    window["note"] = _note(window, len(timeline))
    return window


def _note(window: dict[str, Any], dated: int) -> str:
    """One sentence a reviewer can quote: what was searched, over which dates."""
    span = window["date_range"]
    where = f"{len(window['sources'])} sources for {len(window['queries'])} queries"
    if not dated:
        return f"Searched {where}; no passage could be dated."
    text = f"Searched {where}; {dated} dated passages from {span['earliest']} to {span['latest']}."
    if window.get("before_claim_date") is not None:
        text += (
            f" {window['before_claim_date']} dated before the claim date {window['claim_date']}."
        )
    return text
