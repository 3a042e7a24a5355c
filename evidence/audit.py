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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from evidence.errors import AuditError
from evidence.models import AuditEvent
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
        hash=compute_hash(
            seq=seq,
            at=at,
            actor=actor,
            action=event.action,
            subject=subject,
            payload=payload,
            prev_hash=prev_hash,
        ),
    )
    session.add(row)
    session.flush()
    return row


# -- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def iter_events(engine: Engine, *, batch: int = 5000) -> Iterator[AuditEvent]:
    """All events in sequence order, streamed in batches (constant memory)."""
    after = 0
    while True:
        with Session(engine) as session:
            rows = session.exec(
                select(AuditEvent)
                .where(AuditEvent.seq > after)
                .order_by(col(AuditEvent.seq))
                .limit(batch)
            ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def verify_chain(events: Iterator[AuditEvent]) -> ChainReport:
    """Recompute the chain; name the first event whose link or hash does not match."""
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for ev in events:
        if ev.seq != expected_seq:
            return ChainReport(
                False, checked, expected_seq, f"event {expected_seq} is missing (next is {ev.seq})"
            )
        if ev.prev_hash != prev_hash:
            return ChainReport(
                False, checked, ev.seq, "its previous-hash does not match the event before it"
            )
        recomputed = compute_hash(
            seq=ev.seq,
            at=ev.at,
            actor=ev.actor,
            action=ev.action,
            subject=ev.subject,
            payload=ev.payload,
            prev_hash=ev.prev_hash,
        )
        if recomputed != ev.hash:
            return ChainReport(False, checked, ev.seq, "its content does not match its hash")
        prev_hash, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
    return ChainReport(True, checked)


def events_for(session: Session, subject: str) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.subject == subject).order_by(col(AuditEvent.seq))
        ).all()
    )
