"""The whole-database check behind ``factcheck audit verify``: the hash chain and every
archived payload its events reference.

One streamed pass in sequence order. Each page of events (``audit.VERIFY_BATCH``) is checked
link by link; the ``fetch.recorded`` events in it name a fetch and the SHA-256 of the page
as received, so the fetch rows of the page are loaded in one query and each archived WARC
record is re-read and digested. The first failure in sequence order is named, whichever
kind it is, so "the chain is fine up to event N" always holds.

Memory is one page of events plus one archived payload (bounded by the fetcher's
decompressed-size cap), whatever the length of the chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from evidence.archive import ArchiveError, payload_sha256
from evidence.audit import chain as audit
from evidence.audit.events import FetchRecorded
from evidence.errors import BadInput, NotFound
from evidence.models import Fetch

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
    kind: str | None = None  # "chain" | "archive" | "anchor"
    head_hash: str | None = None


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


def verify_audit(
    engine: Engine,
    *,
    warc_dir: Path,
    anchor: Anchor | None = None,
    batch: int = audit.VERIFY_BATCH,
) -> AuditReport:
    """Recompute the chain and every archived payload digest; stop at the first mismatch."""
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
    if anchor is not None and chain.checked < anchor.seq:
        reason = f"the chain ends at event {chain.checked}; events after it were removed"
        return AuditReport(False, chain.checked, payloads, anchor.seq, reason, "anchor")
    return AuditReport(True, chain.checked, payloads, head_hash=chain.report().head_hash)
