"""The auditor's timeline of a claim: its events and those of the fetches behind it.

(Not to be confused with ``evidence.scoring.search_window``, the dated record of earlier
cases that a first/only/never claim is weighed against.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from evidence.audit.chain import hashed_time
from evidence.errors import NotFound
from evidence.models import AuditEvent, Candidate, Claim, Document, Evidence, Fetch, Passage, Run

# -- reading a claim's trail ----------------------------------------------------------------


def claim_fetch_ids(session: Session, claim_id: int) -> list[int]:
    """The fetches behind a claim: those of its evidence passages, those its runs made, and
    those of its candidate URLs made outside any run."""
    cited = select(Passage.fetch_id).join(Evidence, col(Evidence.passage_id) == Passage.id)
    cited = cited.where(Evidence.claim_id == claim_id)
    runs = select(Run.id).where(Run.claim_id == claim_id)
    by_run = select(Fetch.id).where(col(Fetch.run_id).in_(runs))
    candidates = select(Candidate.url).where(Candidate.claim_id == claim_id)
    loose = select(Fetch.id).where(
        col(Fetch.run_id).is_(None), col(Fetch.requested_url).in_(candidates)
    )
    ids: set[int] = set()
    for query in (cited, by_run, loose):
        ids.update(i for i in session.exec(query).all() if i is not None)
    return sorted(ids)


def claim_events(session: Session, claim_id: int) -> list[AuditEvent]:
    """A claim's trail in sequence order: its own events and those of the fetches behind it."""
    subjects = [f"claim:{claim_id}"] + [f"fetch:{i}" for i in claim_fetch_ids(session, claim_id)]
    found: list[AuditEvent] = []
    for start in range(0, len(subjects), 500):  # bounded IN lists
        chunk = subjects[start : start + 500]
        found.extend(
            session.exec(select(AuditEvent).where(col(AuditEvent.subject).in_(chunk))).all()
        )
    return sorted(found, key=lambda ev: ev.seq)


def event_json(ev: Any) -> dict[str, Any]:
    """An event as bundled: ``at`` in exactly the form the hash covers."""
    return {
        "seq": ev.seq,
        "at": hashed_time(ev.at),
        "actor": ev.actor,
        "action": ev.action,
        "subject": ev.subject,
        "payload": ev.payload,
        "prev_hash": ev.prev_hash,
        "hash": ev.hash,
    }


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a claim's trail, with the fetch and page it is about or cites."""

    event: AuditEvent
    fetch: dict[str, Any] | None = None  # the fetch a fetch:N event is about
    cites: list[dict[str, Any]] = field(default_factory=list)  # fetches behind cited evidence

    def as_json(self) -> dict[str, Any]:
        return {**event_json(self.event), "fetch": self.fetch, "cites": self.cites}


def _fetch_summary(fetch: Fetch, document: Document | None) -> dict[str, Any]:
    return {
        "fetch_id": fetch.id,
        "url": fetch.final_url or fetch.requested_url,
        "title": document.title if document else None,
        "fetched_at": hashed_time(fetch.fetched_at),
        "status_code": fetch.status_code,
        "sha256": fetch.sha256,
        "warc_file": fetch.warc_file,
        "warc_offset": fetch.warc_offset,
    }


def _fetches_by_id(session: Session, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    query = (
        select(Fetch, Document)
        .join(Document, col(Document.id) == Fetch.document_id, isouter=True)
        .where(col(Fetch.id).in_(sorted(set(ids))))
    )
    return {f.id: _fetch_summary(f, d) for f, d in session.exec(query).all() if f.id is not None}


def _evidence_fetches(session: Session, claim_id: int) -> dict[str, dict[int, int]]:
    """Evidence id -> fetch id and passage id -> fetch id, for the claim's evidence."""
    rows = session.exec(
        select(Evidence.id, Passage.id, Passage.fetch_id)
        .join(Passage, col(Passage.id) == Evidence.passage_id)
        .where(Evidence.claim_id == claim_id)
    ).all()
    return {
        "evidence": {e: f for e, _, f in rows if e is not None},
        "passage": {p: f for _, p, f in rows if p is not None},
    }


def _cited(payload: dict[str, Any], cited: dict[str, dict[int, int]]) -> list[tuple[str, int, int]]:
    """(kind, id, fetch id) of the evidence or passages an event's payload names."""
    found = []
    for eid in payload.get("evidence_ids") or []:
        if eid in cited["evidence"]:
            found.append(("evidence", eid, cited["evidence"][eid]))
    for item in payload.get("evidence") or []:
        pid = item.get("passage_id") if isinstance(item, dict) else None
        if pid in cited["passage"]:
            found.append(("passage", pid, cited["passage"][pid]))
    return found


def claim_timeline(session: Session, claim_id: int) -> list[TimelineEntry]:
    """Who did what, when, citing which fetch of which page: the claim's events and the
    events of the fetches behind it, in sequence order."""
    if session.get(Claim, claim_id) is None:
        raise NotFound("claim", claim_id)
    events = claim_events(session, claim_id)
    cited = _evidence_fetches(session, claim_id)
    fetch_ids = set(cited["evidence"].values())
    fetch_ids.update(int(ev.subject.split(":", 1)[1]) for ev in events if _is_fetch(ev))
    fetches = _fetches_by_id(session, fetch_ids)
    entries = []
    for ev in events:
        about = fetches.get(int(ev.subject.split(":", 1)[1])) if _is_fetch(ev) else None
        cites = [
            {"kind": kind, "id": ident, **fetches[fid]}
            for kind, ident, fid in _cited(ev.payload, cited)
            if fid in fetches
        ]
        entries.append(TimelineEntry(ev, about, cites))
    return entries


def _is_fetch(ev: AuditEvent) -> bool:
    return ev.subject.startswith("fetch:") and ev.subject[6:].isdigit()
