"""The hash-chained audit log.

Every state change records one typed event in the same transaction as the change::

    record(session, ClaimAdded(claim_id=7, text="...", fingerprint="..."), actor="cli:alice")

Each event's hash is SHA-256 over the previous hash and a canonical JSON of the event
(seq, time, actor, action, subject, payload), so altering, deleting or reordering any row
breaks the chain at that row. Appends are serialised: on SQLite by the write lock every
transaction takes (``BEGIN IMMEDIATE``), on PostgreSQL by a transaction-scoped advisory lock.

Kinds are classes with a fixed ``action`` name; ``record`` refuses any other. A kind lists
the fields that explain the change; extra fields are allowed so a payload can say more.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, text, type_coerce
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from evidence.errors import AuditError, NotFound
from evidence.models import (
    AuditEvent,
    Candidate,
    Claim,
    Document,
    Evidence,
    Fetch,
    Passage,
    Run,
)
from evidence.types import utcnow

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 7_311_337  # advisory lock key serialising appends on PostgreSQL

EVENT_KINDS: dict[str, type[Event]] = {}


class Event(BaseModel):
    """Base of every audit event kind; subclasses set ``action`` and ``subject_kind``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    action: ClassVar[str]
    subject_kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "action" in cls.__dict__:
            EVENT_KINDS[cls.action] = cls

    def subject_id(self) -> object:
        return getattr(self, f"{self.subject_kind}_id")


# -- the vocabulary -------------------------------------------------------------------------


class ClaimAdded(Event):
    action = "claim.added"
    subject_kind = "claim"
    claim_id: int
    text: str
    fingerprint: str
    claimant: str | None = None
    origin_url: str | None = None
    claim_date: date | None = None


class ClaimLinked(Event):
    action = "claim.linked"
    subject_kind = "claim"
    claim_id: int
    duplicate_of_id: int
    similarity: float


class ClaimStatusChanged(Event):
    action = "claim.status"
    subject_kind = "claim"
    claim_id: int
    old: str
    new: str


class RunStarted(Event):
    action = "run.started"
    subject_kind = "claim"
    claim_id: int
    run_id: int
    kind: str


class RunFinished(Event):
    action = "run.finished"
    subject_kind = "claim"
    claim_id: int
    run_id: int
    status: str
    error: str | None = None


class CandidatesProposed(Event):
    action = "candidates.proposed"
    subject_kind = "claim"
    claim_id: int
    candidates: list[dict[str, Any]]


class FetchRecorded(Event):
    action = "fetch.recorded"
    subject_kind = "fetch"
    fetch_id: int
    url: str
    status_code: int | None
    sha256: str | None
    error_kind: str | None


class PassagesExtracted(Event):
    action = "passages.extracted"
    subject_kind = "fetch"
    fetch_id: int
    document_id: int
    passages: int


class EvidenceSelected(Event):
    action = "evidence.selected"
    subject_kind = "claim"
    claim_id: int
    evidence: list[dict[str, Any]]


class FactCheckFound(Event):
    action = "factcheck.found"
    subject_kind = "claim"
    claim_id: int
    url: str
    rating: str | None


class DriftDetected(Event):
    action = "drift.detected"
    subject_kind = "claim"
    claim_id: int
    changes: list[dict[str, Any]]
    material: bool = False  # true when the change re-opens a decided claim


class TaskQueued(Event):
    action = "task.queued"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    priority: int


class TaskLeased(Event):
    action = "task.leased"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    holder: str
    expires_at: str


class TaskReleased(Event):
    action = "task.released"
    subject_kind = "claim"
    claim_id: int
    task_id: int


class TaskReopened(Event):
    action = "task.reopened"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    reason: str


class VerdictDecided(Event):
    action = "verdict.decided"
    subject_kind = "claim"
    claim_id: int
    verdict_id: int
    rating: str
    evidence_ids: list[int]


class VerdictApproved(Event):
    action = "verdict.approved"
    subject_kind = "claim"
    claim_id: int
    verdict_id: int


class VerdictPublished(Event):
    action = "verdict.published"
    subject_kind = "claim"
    claim_id: int
    verdict_id: int
    rating: str


class UserAdded(Event):
    action = "user.added"
    subject_kind = "user"
    user_id: int
    name: str
    role: str


class UserRoleChanged(Event):
    action = "user.role"
    subject_kind = "user"
    user_id: int
    old: str
    new: str


class VerdictRejected(Event):
    action = "verdict.rejected"
    subject_kind = "claim"
    claim_id: int
    verdict_id: int
    reason: str


class ReviewsCompared(Event):
    """Blind double review: the second verdict was compared with the first."""

    action = "review.compared"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    verdict_ids: list[int]
    reviewers: list[str]
    ratings: list[str]
    agreed: bool


class UserPasswordChanged(Event):
    action = "user.password"
    subject_kind = "user"
    user_id: int


class AdapterFailed(Event):
    """A discovery source failed for a claim; the claim went on with the others."""

    action = "discovery.adapter_failed"
    subject_kind = "claim"
    claim_id: int
    run_id: int | None
    adapter: str
    source: str
    failure: str
    message: str


class SearchWindowRecorded(Event):
    """Where and over which dates a run looked: for a "first/never/only" claim, "no earlier
    case found" is only as good as this record, so it goes into the chain."""

    action = "search.window"
    subject_kind = "claim"
    claim_id: int
    run_id: int
    window: dict[str, Any]


# -- writing --------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(
    *, seq: int, at: datetime, actor: str, action: str, subject: str, payload: Any, prev_hash: str
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": _iso(at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def rehash(ev: AuditEvent | EventRow) -> str:
    """The hash an event's stored fields imply (what verification compares with ``ev.hash``)."""
    return compute_hash(
        seq=ev.seq,
        at=ev.at,
        actor=ev.actor,
        action=ev.action,
        subject=ev.subject,
        payload=ev.payload,
        prev_hash=ev.prev_hash,
    )


def record(session: Session, event: Event, *, actor: str) -> AuditEvent:
    """Append ``event`` to the chain inside the caller's transaction."""
    kind = EVENT_KINDS.get(getattr(event, "action", ""))
    if kind is None or type(event) is not kind:
        raise AuditError(f"Unknown audit event kind {type(event).__name__}.")
    if not actor:
        raise AuditError("An audit event needs an actor.")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    seq = (last.seq + 1) if last else 1
    prev_hash = last.hash if last else GENESIS
    # JSON round trip, so the hash covers exactly what the database will hand back
    payload = json.loads(canonical_json(event.model_dump(mode="json")))
    at = utcnow()
    subject = f"{event.subject_kind}:{event.subject_id()}"
    row = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=event.action,
        subject=subject,
        payload=payload,
        prev_hash=prev_hash,
        hash="",
    )
    row.hash = rehash(row)
    session.add(row)
    session.flush()
    return row


# -- verifying ------------------------------------------------------------------------------
#
# Verification reads Core rows, not ORM objects (a tenth of the cost per row), in keyset pages
# of ``VERIFY_BATCH`` events. Each page is its own short transaction: on SQLite every
# transaction takes the write lock (BEGIN IMMEDIATE), and one long read over a million rows
# would stall every writer for the whole verify. Memory stays at one page.

VERIFY_BATCH = 10_000


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_hash: str | None = None  # hash of the last event checked: an anchor to keep elsewhere


class EventRow(NamedTuple):
    """An event as stored, without ORM overhead (what the verifier reads)."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    payload: Any
    prev_hash: str
    hash: str


def _raw_event_columns() -> list[Any]:
    # ``at`` and ``payload`` are read as the driver hands them over and converted below:
    # SQLAlchemy's per-row type processing would cost more than the hashing itself
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    raw = {"at", "payload"}
    return [
        type_coerce(c, String).label(c.name) if c.name in raw else c
        for c in (table.c[name] for name in EventRow._fields)
    ]


def _event_row(row: Any) -> EventRow:
    seq, at, actor, action, subject, payload, prev_hash, digest = row
    if isinstance(at, str):  # SQLite stores naive UTC text
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if isinstance(payload, str):  # PostgreSQL's driver already parsed the JSON
        payload = json.loads(payload)
    return EventRow(seq, at, actor, action, subject, payload, prev_hash, digest)


def iter_event_rows(engine: Engine, *, batch: int = VERIFY_BATCH) -> Iterator[EventRow]:
    """Every event in sequence order, streamed in keyset pages. The first page has no lower
    bound, so a row whose ``seq`` was set to zero or below is still seen (and fails)."""
    seq = AuditEvent.__table__.c.seq  # type: ignore[attr-defined]
    columns = _raw_event_columns()
    after: int | None = None
    while True:
        query = core_select(*columns).order_by(seq).limit(batch)
        if after is not None:
            query = query.where(seq > after)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield _event_row(row)
        after = rows[-1][0]


def iter_events(engine: Engine, *, batch: int = 5000) -> Iterator[AuditEvent]:
    """All events in sequence order as ``AuditEvent`` objects, streamed (constant memory)."""
    for row in iter_event_rows(engine, batch=batch):
        yield AuditEvent(**row._asdict())


class ChainVerifier:
    """Checks events one at a time, in sequence order; ``check`` returns the first failure.

    Used by ``verify_chain`` and by callers that check more per event (archived payloads)
    and need to stop at whichever failure comes first in sequence order.
    """

    def __init__(self, *, start_seq: int = 1, prev_hash: str = GENESIS) -> None:
        # a piece of the chain (an exported segment) starts from its first event's link
        self.expected_seq = start_seq
        self.prev_hash = prev_hash
        self.checked = 0

    def check(self, ev: Any) -> ChainReport | None:
        if ev.seq != self.expected_seq:
            if ev.seq > self.expected_seq:
                reason = f"event {self.expected_seq} is missing (next is {ev.seq})"
            else:
                reason = f"event {ev.seq} is out of sequence (expected {self.expected_seq})"
            return self.failure(self.expected_seq, reason)
        if ev.prev_hash != self.prev_hash:
            return self.failure(ev.seq, "its previous-hash does not match the event before it")
        if rehash(ev) != ev.hash:
            return self.failure(ev.seq, "its content does not match its hash")
        self.prev_hash, self.expected_seq, self.checked = ev.hash, ev.seq + 1, self.checked + 1
        return None

    def failure(self, seq: int, reason: str) -> ChainReport:
        return ChainReport(False, self.checked, seq, reason)

    def report(self) -> ChainReport:
        head = self.prev_hash if self.checked else None
        return ChainReport(True, self.checked, head_hash=head)


def verify_chain(events: Iterable[Any]) -> ChainReport:
    """Recompute the chain; name the first event whose link or hash does not match."""
    verifier = ChainVerifier()
    for ev in events:
        failed = verifier.check(ev)
        if failed is not None:
            return failed
    return verifier.report()


def hashed_time(at: datetime) -> str:
    """An event time in exactly the form its hash covers (for exports that must re-hash)."""
    return _iso(at)


def events_for(session: Session, subject: str) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.subject == subject).order_by(col(AuditEvent.seq))
        ).all()
    )


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


def iter_event_range(
    engine: Engine, first: int, last: int, *, batch: int = VERIFY_BATCH
) -> Iterator[EventRow]:
    """Events ``first``..``last`` inclusive in sequence order, streamed in keyset pages."""
    seq = AuditEvent.__table__.c.seq  # type: ignore[attr-defined]
    columns = _raw_event_columns()
    after = first - 1
    while after < last:
        query = core_select(*columns).where(seq > after, seq <= last).order_by(seq).limit(batch)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield _event_row(row)
        after = rows[-1][0]
