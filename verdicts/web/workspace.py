"""The reviewer's claim workspace as the template shows it: evidence cards grouped by
stance, a plain-language "why this passage" line, the suggested verdict, and the search
window folded into one sentence.

Everything here turns data the pipeline recorded into words a fact-checker reads; nothing
decides anything. The search window is an open dict (older runs lack ``timeline``, newer
ones may add keys), so every key is optional.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup
from sqlmodel import Session, col, select

from evidence.models import Document, Evidence, Passage
from verdicts.decisions import ClaimDetail, EvidenceItem
from verdicts.scale import Rating
from verdicts.web.highlight import distinctive_terms, highlight

STANCES = ("refutes", "supports", "context")  # the order a fact-checker reads them in
GROUP_HEADINGS = {
    "refutes": "Refutes the claim",
    "supports": "Supports the claim",
    "context": "Context",
    "unlabelled": "Not labelled",
}
STANCE_WORDS = {"refutes": "Refutes", "supports": "Supports", "context": "Context"}
EXCERPT_CHARS = 220
WHY_TERMS = 4  # claim words named in a "why this passage" line


@dataclass(frozen=True)
class Card:
    item: EvidenceItem
    passage: Markup  # escaped, distinctive claim terms marked
    stance: str | None  # refutes | supports | context
    stance_words: str  # "Refutes", ...; colour is never the only signal
    confidence_words: str  # "high confidence", or ""
    origin: bool
    why: str
    date: str  # YYYY-MM-DD or ""


@dataclass(frozen=True)
class Group:
    key: str
    heading: str
    cards: list[Card]


@dataclass(frozen=True)
class TimelineRow:
    date: str  # a year alone when only the year is known
    year_only: bool
    site: str
    excerpt: str
    url: str
    dated_by: str


@dataclass(frozen=True)
class WindowView:
    summary: str
    note: str
    sources: list[str]
    queries: list[str]
    errors: list[str]
    timeline: list[TimelineRow] = field(default_factory=list)


@dataclass(frozen=True)
class SuggestionView:
    rating: str
    label: str
    confidence: int | None  # percent
    confidence_words: str
    explanation: str
    model: str
    cites: list[tuple[int, str]]  # (evidence id, outlet) of the passages it rests on


# -- small words ----------------------------------------------------------------------------


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` cut at a word boundary with an ellipsis, never mid-word."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    # trailing punctuation goes, unless it is all there is (a "word" of dots)
    return f"{cut.rstrip(',;:.-–— ') or cut}…"


def confidence_words(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 0.75:
        return "high confidence"
    return "medium confidence" if value >= 0.5 else "low confidence"


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _timing(published: date | None, claim_date: date | None) -> str:
    if published is None or claim_date is None:
        return ""
    days = (published - claim_date).days
    if days == 0:
        return "published the day the claim was made"
    n, unit = abs(days), "day"
    if n >= 730:
        n, unit = n // 365, "year"
    elif n >= 60:
        n, unit = n // 30, "month"
    return (
        f"published {n} {unit}{'' if n == 1 else 's'} {'after' if days > 0 else 'before'} the claim"
    )


def why_line(item: EvidenceItem, claim_date: date | None) -> str:
    """Why this passage is in front of the reviewer, in words (no ranks, no scores)."""
    parts: list[str] = []
    terms = distinctive_terms(item.matched_terms)[:WHY_TERMS]
    if terms:
        parts.append("uses the claim's " + ", ".join(f"“{t}”" for t in terms))
    if item.role == "origin":
        parts.append("the earliest page found that makes the claim")
    timing = _timing(_day(item.published), claim_date)
    if timing:
        parts.append(timing)
    if item.copies:
        n = len(item.copies)
        parts.append(f"{n} other outlet{'s' if n > 1 else ''} ran the same text")
    if not parts:
        parts.append("among the passages closest to the claim")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


# -- evidence cards -------------------------------------------------------------------------


def _stance_of(item: EvidenceItem) -> str | None:
    if item.stance in STANCES:
        return item.stance
    return item.role if item.role in STANCES else None


def card(item: EvidenceItem, claim_date: date | None) -> Card:
    stance = _stance_of(item)
    return Card(
        item=item,
        passage=highlight(item.passage, distinctive_terms(item.matched_terms)),
        stance=stance,
        stance_words=STANCE_WORDS.get(stance or "", ""),
        confidence_words=confidence_words(item.stance_confidence) if stance else "",
        origin=item.role == "origin",
        why=why_line(item, claim_date),
        date=(item.published or "")[:10],
    )


def evidence_groups(items: Sequence[EvidenceItem], claim_date: date | None) -> list[Group]:
    """Refuting evidence first, then supporting, then context, each in rank order; one
    group in rank order when no passage carries a stance (runs before stance existed)."""
    ordered = sorted(items, key=lambda i: (i.rank, i.evidence_id))
    cards = [card(item, claim_date) for item in ordered]
    if not any(c.stance for c in cards):
        return [Group("ranked", "Evidence, closest to the claim first", cards)] if cards else []
    groups = []
    for key in (*STANCES, "unlabelled"):
        members = [c for c in cards if (c.stance or "unlabelled") == key]
        if members:
            groups.append(Group(key, GROUP_HEADINGS[key], members))
    return groups


# -- the suggested verdict ------------------------------------------------------------------


def suggestion_view(detail: ClaimDetail, ratings: Iterable[Rating]) -> SuggestionView | None:
    """The run's suggestion with the evidence it names as links; None without one."""
    raw = detail.suggestion or {}
    rating = str(raw.get("rating") or "")
    if not rating:
        return None
    labels = {r.name: r.label for r in ratings}
    confidence = raw.get("confidence")
    value = float(confidence) if isinstance(confidence, int | float) else None
    wanted = {int(p) for p in raw.get("passage_ids") or [] if str(p).isdigit()}
    cites = [
        (e.evidence_id, e.site or urlsplit(e.url).hostname or e.url)
        for e in detail.evidence
        if e.passage_id in wanted
    ]
    return SuggestionView(
        rating=rating,
        label=labels.get(rating, rating.replace("-", " ").capitalize()),
        confidence=None if value is None else round(value * 100),
        confidence_words=confidence_words(value),
        explanation=str(raw.get("explanation") or ""),
        model=str(raw.get("model") or ""),
        cites=cites,
    )


# -- the search window ----------------------------------------------------------------------


def _source_words(source: Any) -> str:
    if isinstance(source, Mapping):
        kind, url = str(source.get("kind") or ""), str(source.get("url") or "")
    else:
        kind, _, url = str(source).partition("=")
    host = urlsplit(url).hostname or url
    return f"{kind} ({host})" if kind and host else kind or host


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _timeline_rows(window: Mapping[str, Any], outlets: Mapping[int, str]) -> list[TimelineRow]:
    rows = []
    for entry in window.get("timeline") or []:
        if not isinstance(entry, Mapping):
            continue
        year_only = entry.get("precision") == "year"
        when = str(entry.get("date") or "")
        url = str(entry.get("url") or "")
        pid = entry.get("passage_id")
        site = outlets.get(pid) if isinstance(pid, int) else None
        rows.append(
            TimelineRow(
                date=when[:4] if year_only else when,
                year_only=year_only,
                site=site or str(entry.get("site") or "") or (urlsplit(url).hostname or ""),
                excerpt=excerpt(str(entry.get("excerpt") or "")),
                url=url,
                dated_by=str(entry.get("dated_by") or ""),
            )
        )
    return rows


def _span(window: Mapping[str, Any], rows: list[TimelineRow]) -> str:
    if rows:
        first, last = rows[0].date, rows[-1].date
    else:
        span = window.get("date_range") or {}
        first, last = str(span.get("earliest") or ""), str(span.get("latest") or "")
    if first and last and first != last:
        return f"{first} to {last}"
    return first or last


def window_view(
    window: Mapping[str, Any] | None, outlets: Mapping[int, str] | None = None
) -> WindowView | None:
    """The search window folded to one line ("Searched 4 sources, 11 queries, 2018-02-01 to
    2018-04-03; 3 dated passages before the claim") with the details behind it."""
    if not window:
        return None
    rows = _timeline_rows(window, outlets or {})
    sources = [_source_words(s) for s in window.get("sources") or []]
    queries = [str(q) for q in window.get("queries") or []]
    summary = (
        f"Searched {_plural(len(sources), 'source')}, {_plural(len(queries), 'query', 'queries')}"
    )
    span = _span(window, rows)
    if span:
        summary += f", {span}"
    before = window.get("before_claim_date")
    if isinstance(before, int):
        summary += f"; {_plural(before, 'dated passage')} before the claim"
    errors = [
        str(e.get("message") or e.get("error") or e) if isinstance(e, Mapping) else str(e)
        for e in window.get("adapter_errors") or []
    ]
    if errors:
        summary += f"; {_plural(len(errors), 'source')} failed"
    return WindowView(
        summary=summary,
        note=str(window.get("note") or ""),
        sources=sources,
        queries=queries,
        errors=errors,
        timeline=rows,
    )


def timeline_outlets(session: Session, window: Mapping[str, Any] | None) -> dict[int, str]:
    """Outlet names of the pages the timeline's passages came from, by passage id."""
    ids = [
        e["passage_id"]
        for e in (window or {}).get("timeline") or []
        if isinstance(e, Mapping) and isinstance(e.get("passage_id"), int)
    ]
    if not ids:
        return {}
    rows = session.exec(
        select(Passage.id, Document.site)
        .join(Document, col(Document.id) == Passage.document_id)
        .where(col(Passage.id).in_(ids))
    ).all()
    return {pid: site for pid, site in rows if pid is not None and site}


# -- cited evidence on the approvals page ---------------------------------------------------


@dataclass(frozen=True)
class Cited:
    evidence_id: int
    outlet: str
    title: str
    excerpt: str
    fetch_id: int
    passage_id: int


def cited_evidence(session: Session, evidence_ids: Iterable[int]) -> dict[int, Cited]:
    """Outlet, title and an excerpt for each cited evidence id, by id."""
    ids = sorted({int(i) for i in evidence_ids})
    if not ids:
        return {}
    rows = session.exec(
        select(Evidence, Passage, Document)
        .join(Passage, col(Passage.id) == Evidence.passage_id)
        .join(Document, col(Document.id) == Passage.document_id)
        .where(col(Evidence.id).in_(ids))
    ).all()
    out = {}
    for ev, passage, doc in rows:
        assert ev.id is not None and passage.id is not None
        out[ev.id] = Cited(
            evidence_id=ev.id,
            outlet=doc.site or urlsplit(doc.url).hostname or doc.url,
            title=doc.title or doc.url,
            excerpt=excerpt(passage.text),
            fetch_id=passage.fetch_id,
            passage_id=passage.id,
        )
    return out
