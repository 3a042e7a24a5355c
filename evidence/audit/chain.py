"""The hash chain: appending events and verifying them.

Two hash rules, told apart by the payload's ``v`` field (absent: rule 1):

- rule 1 (events written before rule 2): SHA-256 of the previous hash, a newline and the
  canonical JSON of the event (seq, time, actor, action, subject, payload);
- rule 2: the same canonical JSON is digested first (the event's *content digest*), and the
  hash links ``v2``, the previous hash, seq, subject and that digest. A bundle can then carry
  another claim's event reduced to seq, subject, previous hash, content digest and hash
  (``ReducedEvent``): it still links, and discloses nothing but its subject.

Altering, deleting or reordering any row breaks the chain at that row, under either rule.
Appends are serialised: on SQLite by the write lock every write transaction takes
(``BEGIN IMMEDIATE``), on PostgreSQL by a transaction-scoped advisory lock taken only at
commit, when a transaction's buffered events are appended (see "appending at commit").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import String, insert, text, type_coerce
from sqlalchemy import event as sa_event
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel, col, select

from evidence.audit.events import EVENT_KINDS, Event
from evidence.audit.rows import ROWS_KEY, records_of
from evidence.errors import AuditError
from evidence.models import AuditEvent
from evidence.types import utcnow

GENESIS = "0" * 64
HASH_RULE = 2  # the rule new events are written under
RULE_KEY = "v"  # payload field naming an event's hash rule (absent: rule 1)
_PG_AUDIT_LOCK = 7_311_337  # advisory lock key serialising appends on PostgreSQL


# -- writing --------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hash_rule(payload: Any) -> int:
    return 2 if isinstance(payload, dict) and payload.get(RULE_KEY) == 2 else 1


def _body(seq: int, at: datetime, actor: str, action: str, subject: str, payload: Any) -> str:
    return canonical_json(
        {
            "seq": seq,
            "at": _iso(at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload,
        }
    )


def content_digest(
    *, seq: int, at: datetime, actor: str, action: str, subject: str, payload: Any
) -> str:
    """Rule 2: the digest of an event's content, which its hash links (see the docstring)."""
    return hashlib.sha256(_body(seq, at, actor, action, subject, payload).encode()).hexdigest()


def link_hash(prev_hash: str, seq: int, subject: str, digest: str) -> str:
    """Rule 2: an event's hash from its link fields and content digest."""
    return hashlib.sha256(f"v2\n{prev_hash}\n{seq}\n{subject}\n{digest}".encode()).hexdigest()


def compute_hash(
    *, seq: int, at: datetime, actor: str, action: str, subject: str, payload: Any, prev_hash: str
) -> str:
    """An event's hash under the rule its payload names."""
    if hash_rule(payload) == 2:
        digest = content_digest(
            seq=seq, at=at, actor=actor, action=action, subject=subject, payload=payload
        )
        return link_hash(prev_hash, seq, subject, digest)
    body = _body(seq, at, actor, action, subject, payload)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def event_digest(ev: Any) -> str:
    """The content digest of a full rule-2 event (what its reduced form carries)."""
    return content_digest(
        seq=ev.seq,
        at=ev.at,
        actor=ev.actor,
        action=ev.action,
        subject=ev.subject,
        payload=ev.payload,
    )


class ReducedEvent(NamedTuple):
    """A rule-2 event without its content: enough to link, nothing else but the subject."""

    seq: int
    subject: str
    prev_hash: str
    digest: str
    hash: str


class WithheldEvent(NamedTuple):
    """A rule-1 event left out of a bundle: its hash cannot be recomputed without its
    content, so it is only taken as the link between its neighbours."""

    seq: int
    prev_hash: str
    hash: str


def rehash(ev: AuditEvent | EventRow | ReducedEvent | WithheldEvent) -> str:
    """The hash an event's stored fields imply (what verification compares with ``ev.hash``)."""
    if isinstance(ev, ReducedEvent):
        return link_hash(ev.prev_hash, ev.seq, ev.subject, ev.digest)
    if isinstance(ev, WithheldEvent):
        return ev.hash
    return compute_hash(
        seq=ev.seq,
        at=ev.at,
        actor=ev.actor,
        action=ev.action,
        subject=ev.subject,
        payload=ev.payload,
        prev_hash=ev.prev_hash,
    )


def record(
    session: Session,
    event: Event,
    *,
    actor: str,
    rows: Iterable[SQLModel | None] = (),
) -> AuditEvent:
    """Queue ``event`` for the chain; it is appended when ``session``'s transaction commits.

    ``rows`` are the rows of vouched tables (``evidence.audit.rows.TABLES``) this change
    wrote, in their new state: the event records them now, and ``audit verify`` later holds
    the tables to the latest event that recorded each row. None entries are skipped.

    The returned event's ``seq``, ``at``, ``prev_hash`` and ``hash`` are filled at commit
    (``_append_pending``): the chain's lock is taken then, for the append alone. Events
    recorded inside a savepoint that rolls back are dropped with it.
    """
    kind = EVENT_KINDS.get(getattr(event, "action", ""))
    if kind is None or type(event) is not kind:
        raise AuditError(f"Unknown audit event kind {type(event).__name__}.")
    if not actor:
        raise AuditError("An audit event needs an actor.")
    dumped = event.model_dump(mode="json")
    if RULE_KEY in dumped or ROWS_KEY in dumped:
        raise AuditError(f"The payload fields {RULE_KEY!r} and {ROWS_KEY!r} are the chain's own.")
    rows = [row for row in rows if row is not None]
    if rows:
        session.flush()  # ids and defaults, as the database will hold them
    vouched = records_of(rows)
    body = {**dumped, RULE_KEY: HASH_RULE, **({ROWS_KEY: vouched} if vouched else {})}
    # JSON round trip, so the hash covers exactly what the database will hand back
    payload = json.loads(canonical_json(body))
    row = AuditEvent(
        seq=0,
        at=utcnow(),
        actor=actor,
        action=event.action,
        subject=event.subject_text(),
        payload=payload,
        prev_hash="",
        hash="",
    )
    innermost = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append(_Pending(row, innermost))
    return row


# -- appending at commit --------------------------------------------------------------------
#
# A transaction's events wait in ``session.info`` and are appended just before it commits:
# one read of the chain head and one multi-row insert. On PostgreSQL the advisory lock is
# taken there, so it is held for the append and the COMMIT alone, not while Python works
# for the rest of the transaction (issue 15: with the lock taken at the first event, the
# holder was idle in transaction 87% of the time and most backends queued behind it).
# On SQLite every write transaction holds the database's write lock from ``BEGIN IMMEDIATE``
# anyway (evidence/db.py), so buffering saves round trips there but not lock time.

_PENDING = "factcheck_audit_pending"
_INSERT_ROWS = 1000  # rows per INSERT: 8 columns each, under SQLite's 32,766 parameters


@dataclass
class _Pending:
    row: AuditEvent
    transaction: SessionTransaction | None  # innermost when recorded: a savepoint, or the root


def pending_events(session: Session) -> list[AuditEvent]:
    """Events recorded in ``session``'s open transaction, not yet appended."""
    return [p.row for p in session.info.get(_PENDING, [])]


@sa_event.listens_for(OrmSession, "before_commit")
def _append_pending(session: OrmSession) -> None:
    if session.in_nested_transaction():  # a savepoint's release: the root decides
        return
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # the transaction's own writes first, outside the lock
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    head = session.execute(
        core_select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head[0], head[1]) if head else (0, GENESIS)
    at = utcnow()
    values: list[dict[str, Any]] = []
    for item in pending:
        row = item.row
        seq += 1
        row.seq, row.at, row.prev_hash = seq, at, prev_hash
        row.hash = prev_hash = rehash(row)
        values.append({name: getattr(row, name) for name in EventRow._fields})
    for start in range(0, len(values), _INSERT_ROWS):  # one statement unless it is huge
        session.execute(insert(table).values(values[start : start + _INSERT_ROWS]))


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _drop_rolled_back(session: OrmSession, previous: SessionTransaction) -> None:
    """Forget the events recorded inside the transaction (or savepoint) that rolled back."""
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if pending:
        pending[:] = [p for p in pending if not _inside(p.transaction, previous)]


@sa_event.listens_for(OrmSession, "after_transaction_end")
def _forget_at_end(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the root ended (committed, rolled back or closed)
        session.info.pop(_PENDING, None)


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


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
    """The subject's events in sequence order, those this transaction recorded but has not
    appended yet last (read your own writes: ``seq`` and ``hash`` are filled at commit)."""
    stored = session.exec(
        select(AuditEvent).where(AuditEvent.subject == subject).order_by(col(AuditEvent.seq))
    ).all()
    return [*stored, *(ev for ev in pending_events(session) if ev.subject == subject)]


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
