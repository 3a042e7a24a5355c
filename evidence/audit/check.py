"""The whole-database check behind ``factcheck audit verify``: the hash chain, every
archived payload its events reference, and the vouched tables.

One streamed pass in sequence order. Each page of events (``audit.VERIFY_BATCH``) is checked
link by link; the ``fetch.recorded`` events in it name a fetch and the SHA-256 of the page
as received, so the fetch rows of the page are loaded in one query and each archived WARC
record is re-read and digested. The first failure in sequence order is named, whichever
kind it is, so "the chain is fine up to event N" always holds.

Along the way the latest event that recorded each row of a vouched table
(``evidence.audit.rows``) is noted: its sequence number and a 16-byte digest of what it
recorded. Once the chain holds, each vouched table is streamed in id order and every row
compared with that record; the first row that differs, was deleted, or was never recorded
by any event is named.

Memory is one page of events plus one archived payload (bounded by the fetcher's
decompressed-size cap), plus about 200 bytes per vouched row (the notes above).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from evidence.archive import ArchiveError, payload_sha256
from evidence.audit import chain as audit
from evidence.audit import rows as vouch
from evidence.audit.events import FetchRecorded, RowsAdopted
from evidence.db import session_scope
from evidence.errors import AuditError, BadInput, NotFound
from evidence.models import AuditEvent, Fetch

FETCH_ACTION = FetchRecorded.action
_IN_CHUNK = 500  # ids per IN (...) list: far below SQLite's bound-parameter limit


@dataclass(frozen=True)
class AuditReport:
    """Outcome of ``verify_audit``; ``payloads`` counts archived records re-digested."""

    ok: bool
    events: int
    payloads: int
    first_bad_seq: int | None = None
    reason: str | None = None
    kind: str | None = None  # "chain" | "archive" | "anchor" | "row" | "unvouched"
    head_hash: str | None = None
    rows: int = 0  # rows of vouched tables compared
    row_problems: int = 0  # rows that differ from their latest record, or were deleted
    unvouched: int = 0  # rows no event ever recorded


@dataclass(frozen=True)
class Anchor:
    """An event an auditor wrote down earlier (``SEQ:HASH``); the chain must still hold it."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, _, digest = text.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise BadInput(f"The anchor {text!r} is not SEQ:HASH (a number and 64 hex digits).")
        return cls(int(seq), digest.lower())


# -- verifying ------------------------------------------------------------------------------


def _pages(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while page := list(islice(rows, size)):
        yield page


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


def _fetch_ids(page: Iterable[Any]) -> list[int]:
    ids = {
        ev.payload.get("fetch_id")
        for ev in page
        if ev.action == FETCH_ACTION and isinstance(ev.payload, dict)
    }
    return sorted(i for i in ids if isinstance(i, int))


def load_fetches(engine: Engine, ids: list[int]) -> dict[int, Any]:
    """Fetch rows by id (only the columns a digest check needs)."""
    table = Fetch.__table__  # type: ignore[attr-defined]
    cols = [table.c[name] for name in ("id", "sha256", "warc_file", "warc_offset", "final_url")]
    found: dict[int, Any] = {}
    with engine.connect() as conn:
        for chunk in _chunks(ids):
            for row in conn.execute(
                table.select().with_only_columns(*cols).where(table.c.id.in_(chunk))
            ):
                found[row.id] = row
    return found


def check_archived_payload(
    ev: Any, fetches: dict[int, Any], warc_dir: Path
) -> tuple[bool, str | None]:
    """(whether an archived copy was digested, why it no longer matches the event or None).

    Events without a digest (failed fetches) or fetches never archived have nothing to check.
    The event is the trusted side: the chain already proved its payload unaltered.
    """
    payload = ev.payload if isinstance(ev.payload, dict) else {}
    recorded = payload.get("sha256")
    fetch_id = payload.get("fetch_id")
    if ev.action != FETCH_ACTION or not recorded:
        return False, None
    row = fetches.get(fetch_id) if isinstance(fetch_id, int) else None
    if row is None:
        return False, f"fetch {fetch_id} that it records is not in the database"
    if row.sha256 != recorded:
        return False, f"fetch {fetch_id} holds SHA-256 {row.sha256}, the event recorded {recorded}"
    warc_file = payload.get("warc_file") or row.warc_file
    offset = payload.get("warc_offset", row.warc_offset)
    if not warc_file or offset is None:
        return False, None
    try:
        actual = payload_sha256(warc_file, int(offset), directory=warc_dir)
    except (ArchiveError, NotFound) as exc:
        return True, f"the archived page of fetch {fetch_id} is unreadable: {str(exc).rstrip('.')}"
    if actual != recorded:
        return True, (
            f"the archived page of fetch {fetch_id} ({row.final_url or payload.get('url')}) in "
            f"{warc_file} at offset {offset} has SHA-256 {actual}, the event recorded {recorded}"
        )
    return True, None


class RowNotes:
    """The latest event that recorded each vouched row: (seq, layout id, record digest)."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[int, tuple[int, int, bytes]]] = {
            spec.kind: {} for spec in vouch.TABLES
        }
        self._layout_ids: dict[vouch.Layout, int] = {}
        self.layouts: list[vouch.Layout] = []
        # (kind, literal keys, digest keys) as stored -> (layout id, stored already canonical)
        self._shapes: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[int, bool]] = {}

    def _layout_id(self, layout: vouch.Layout) -> int:
        found = self._layout_ids.get(layout)
        if found is None:
            found = self._layout_ids[layout] = len(self.layouts)
            self.layouts.append(layout)
        return found

    def _note(self, seq: int, spec: vouch.TableSpec, record: Any) -> tuple[int, int, bytes]:
        literal, digested = record.get("v") or {}, record.get("d") or {}
        shape = (spec.kind, tuple(literal), tuple(digested))
        known = self._shapes.get(shape)
        if known is None:
            layout, cut = vouch.restrict(spec, record)
            canonical = (
                list(record) == ["d", "v"]
                and list(literal) == sorted(literal)
                and list(digested) == sorted(digested)
                and cut == record
            )
            known = self._shapes[shape] = (self._layout_id(layout), canonical)
        if known[1]:  # the common case: fingerprint the record as stored
            return seq, known[0], vouch.record_digest(record)
        return seq, known[0], vouch.record_digest(vouch.restrict(spec, record)[1])

    def see(self, ev: Any) -> None:
        recorded = ev.payload.get(vouch.ROWS_KEY) if isinstance(ev.payload, dict) else None
        if not isinstance(recorded, dict):
            return
        for key, record in recorded.items():
            parsed = vouch.parse_key(key)
            if parsed is None or not isinstance(record, dict):
                continue
            spec, ident = parsed
            self.latest[spec.kind][ident] = self._note(ev.seq, spec, record)


@dataclass
class RowScan:
    checked: int = 0
    problems: int = 0
    unvouched: int = 0
    first: tuple[vouch.TableSpec, int, int | None, dict[str, Any] | None] | None = None
    first_unvouched: tuple[vouch.TableSpec, int] | None = None
    adoptable: list[tuple[vouch.TableSpec, int, str]] = field(default_factory=list)


def iter_table(engine: Engine, spec: vouch.TableSpec, batch: int) -> Iterator[Any]:
    """A vouched table's rows (id and audited columns) in id order, in keyset pages."""
    table = spec.table
    columns = [table.c.id, *(table.c[c] for c in spec.columns)]
    after: int | None = None
    while True:
        query = core_select(*columns).order_by(table.c.id).limit(batch)
        if after is not None:
            query = query.where(table.c.id > after)
        with engine.connect() as conn:
            page = conn.execute(query).all()
        if not page:
            return
        yield from page
        after = page[-1].id


def _compare_table(
    engine: Engine, spec: vouch.TableSpec, notes: RowNotes, scan: RowScan, batch: int
) -> None:
    recorded = notes.latest[spec.kind]
    for row in iter_table(engine, spec, batch):
        values = row._mapping
        scan.checked += 1
        note = recorded.pop(row.id, None)
        if note is None:
            scan.unvouched += 1
            scan.first_unvouched = scan.first_unvouched or (spec, row.id)
            scan.adoptable.append((spec, row.id, spec.owner_subject(values)))
            continue
        seq, layout_id, digest = note
        canon = vouch.row_values(spec, values)
        layout = notes.layouts[layout_id]
        same = vouch.record_digest(vouch.shaped(layout, canon)) == digest
        if same and vouch.unrecorded_problem(spec, layout, canon) is None:
            continue
        if _confirmed_equal(engine, spec, row.id, seq, values):
            continue  # the fingerprint missed (keys stored in another order), the row holds
        scan.problems += 1
        scan.first = scan.first or (spec, row.id, seq, canon)
    for ident in sorted(recorded):  # recorded by an event, gone from the table
        scan.problems += 1
        scan.first = scan.first or (spec, ident, recorded[ident][0], None)


def _confirmed_equal(
    engine: Engine, spec: vouch.TableSpec, ident: int, seq: int, values: Any
) -> bool:
    record = _event_payload(engine, seq)[vouch.ROWS_KEY][vouch.row_key(spec, ident)]
    return vouch.row_problem(spec, values, record, seq) is None


def compare_tables(engine: Engine, notes: RowNotes, *, batch: int = audit.VERIFY_BATCH) -> RowScan:
    """Every row of every vouched table against the latest event that recorded it."""
    scan = RowScan()
    for spec in vouch.TABLES:
        _compare_table(engine, spec, notes, scan, batch)
    return scan


def _event_payload(engine: Engine, seq: int) -> Any:
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return conn.execute(core_select(table.c.payload).where(table.c.seq == seq)).scalar_one()


def _row_reason(engine: Engine, scan: RowScan) -> tuple[str, int | None, str]:
    """(kind, seq, reason) naming the first row problem of a scan with problems."""
    if scan.first is not None:
        spec, ident, seq, canon = scan.first
        name = f"{spec.label} {ident}"
        if canon is None:
            return "row", seq, f"{name} is not in the table; event {seq} recorded it"
        assert seq is not None
        record = _event_payload(engine, seq)[vouch.ROWS_KEY][vouch.row_key(spec, ident)]
        return "row", seq, f"{name}: {vouch.describe_mismatch(spec, canon, record, seq)}"
    assert scan.first_unvouched is not None
    spec, ident = scan.first_unvouched
    return (
        "unvouched",
        None,
        (
            f"{spec.label} {ident} is in the table, but no audit event records it "
            f"({scan.unvouched} such row{'s' if scan.unvouched > 1 else ''} in all: rows older "
            "than row vouching, or written outside the application; check them, then "
            "`factcheck audit adopt` vouches for them)"
        ),
    )


def _scan_chain(
    engine: Engine, warc_dir: Path, anchor: Anchor | None, batch: int, notes: RowNotes
) -> AuditReport:
    chain = audit.ChainVerifier()
    payloads = 0
    for page in _pages(audit.iter_event_rows(engine, batch=batch), batch):
        fetches = load_fetches(engine, _fetch_ids(page))
        for ev in page:
            broken = chain.check(ev)
            if broken is not None:
                return AuditReport(
                    False, chain.checked, payloads, broken.first_bad_seq, broken.reason, "chain"
                )
            if anchor is not None and ev.seq == anchor.seq and ev.hash != anchor.hash:
                reason = f"its hash is {ev.hash}, the anchor says {anchor.hash}"
                return AuditReport(False, chain.checked, payloads, ev.seq, reason, "anchor")
            digested, problem = check_archived_payload(ev, fetches, warc_dir)
            if problem is not None:
                return AuditReport(False, chain.checked, payloads, ev.seq, problem, "archive")
            payloads += digested
            notes.see(ev)
    if anchor is not None and chain.checked < anchor.seq:
        reason = f"the chain ends at event {chain.checked}; events after it were removed"
        return AuditReport(False, chain.checked, payloads, anchor.seq, reason, "anchor")
    return AuditReport(True, chain.checked, payloads, head_hash=chain.report().head_hash)


def verify_audit(
    engine: Engine,
    *,
    warc_dir: Path,
    anchor: Anchor | None = None,
    batch: int = audit.VERIFY_BATCH,
    rows: bool = True,
) -> AuditReport:
    """Recompute the chain and every archived payload digest, then hold the vouched tables
    to the events; stop at the first mismatch."""
    notes = RowNotes()
    report = _scan_chain(engine, warc_dir, anchor, batch, notes)
    if not report.ok or not rows:
        return report
    scan = compare_tables(engine, notes, batch=batch)
    report = replace(
        report, rows=scan.checked, row_problems=scan.problems, unvouched=scan.unvouched
    )
    if not scan.problems and not scan.unvouched:
        return report
    kind, seq, reason = _row_reason(engine, scan)
    return replace(report, ok=False, first_bad_seq=seq, reason=reason, kind=kind)


# -- adopting rows written before row vouching ----------------------------------------------


def adopt_rows(engine: Engine, *, warc_dir: Path, actor: str) -> int:
    """Vouch for the rows no event records (data older than row vouching), as they stand.

    Refused unless the chain, the archive and every recorded row check out: adoption must
    never absorb a row that differs from its record. One ``rows.adopted`` event per subject
    (a claim with its evidence, verdicts and task; a fetch's passages; a user). Returns the
    number of rows adopted.
    """
    notes = RowNotes()
    report = _scan_chain(engine, warc_dir, None, audit.VERIFY_BATCH, notes)
    if not report.ok:
        raise AuditError(
            f"Not adopting: the chain fails at event {report.first_bad_seq}: {report.reason}."
        )
    scan = compare_tables(engine, notes)
    if scan.problems:
        _, _, reason = _row_reason(engine, scan)
        raise AuditError(f"Not adopting: {reason}.")
    by_subject: dict[str, list[tuple[vouch.TableSpec, int]]] = {}
    for spec, ident, subject in scan.adoptable:
        by_subject.setdefault(subject, []).append((spec, ident))
    with session_scope(engine) as session:
        for subject, members in by_subject.items():
            found: list[SQLModel | None] = [session.get(spec.model, i) for spec, i in members]
            audit.record(
                session, RowsAdopted(of=subject, count=len(members)), actor=actor, rows=found
            )
    return len(scan.adoptable)
