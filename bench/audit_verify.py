"""How long `factcheck audit verify` takes over a million events, and how much memory.

    python -m bench.audit_verify                      # 1,000,000 events on SQLite
    python -m bench.audit_verify --events 100000      # smaller, to compare peak memory
    python -m bench.audit_verify --postgres           # also on a PostgreSQL database it
                                                      # creates and drops

Builds a fresh database, bulk-inserts valid chained events (hash rule 2, hashes precomputed
with ``audit.compute_hash``; executemany on SQLite, COPY on PostgreSQL) of several kinds, of
which ``--fetches`` are ``fetch.recorded`` events whose pages are real WARC records (so the
digest half of verify runs too), and one claim row per seven events that every claim event
records (``rows``), so the table half of verify compares ~N/7 rows with their latest
events. Then it runs the real command in a child process and reports its wall time, CPU
time and peak RSS (``os.wait4``), CLI start-up included.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from evidence import audit
from evidence.audit import rows as vouch
from evidence.db import make_engine, upgrade
from evidence.models import AuditEvent, Claim, Fetch

PG_ADMIN_URL = os.environ.get(
    "FACTCHECK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CHUNK = 20_000
WARC_NAME = "bench.warc.gz"
_BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)


def write_warc(warc_dir: Path, fetches: int) -> list[dict[str, Any]]:
    """``fetches`` gzip WARC response records; returns the fetch rows that point at them."""
    warc_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with (warc_dir / WARC_NAME).open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i in range(1, fetches + 1):
            url = f"https://news.example/{i}"
            body = (f"<html><body><p>Report {i}: " + "the summit went ahead. " * 80).encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=_Bytes(body), http_headers=headers
            )
            offset = out.tell()
            writer.write_record(record)
            rows.append(
                {
                    "id": i,
                    "requested_url": url,
                    "final_url": url,
                    "status_code": 200,
                    "headers": {},
                    "content_type": "text/html",
                    "sha256": sha256(body).hexdigest(),
                    "byte_count": len(body),
                    "warc_file": WARC_NAME,
                    "warc_offset": offset,
                    "warc_length": out.tell() - offset,
                    "not_modified": False,
                    "fetched_at": _BASE_TIME,
                }
            )
    return rows


class _Bytes:
    """A readable over bytes (warcio wants a stream)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.pos + size
        chunk, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return chunk


def claim_row(claim: int) -> dict[str, Any]:
    """The claim row the bench's events record (and the table holds)."""
    text_ = f"The minister said the budget rose {claim % 97} percent in {2000 + claim % 24}"
    return {
        "id": claim,
        "text": text_,
        "normalized_text": text_.casefold(),
        "fingerprint": sha256(f"{claim}:{text_}".encode()).hexdigest(),
        "status": "queued",
        "tags": [],
        "created_at": _BASE_TIME,
        "updated_at": _BASE_TIME,
    }


_CLAIM_SPEC = vouch.BY_KIND["claim"]


def _claim_payload(seq: int, claim: int) -> tuple[str, dict[str, Any]]:
    kind = seq % 4
    row = claim_row(claim)
    if kind == 0:
        return "claim.added", {
            "claim_id": claim,
            "text": row["text"],
            "fingerprint": row["fingerprint"],
        }
    if kind == 1:
        return "claim.status", {"claim_id": claim, "old": "new", "new": "queued"}
    if kind == 2:
        evidence = [{"evidence_id": seq * 10 + r, "rank": r, "score": 0.5} for r in range(3)]
        return "evidence.selected", {"claim_id": claim, "evidence": evidence}
    return "task.leased", {
        "claim_id": claim,
        "task_id": claim,
        "holder": "alice",
        "expires_at": "2024-01-01T00:30",
    }


def _payload(seq: int, fetch: dict[str, Any] | None) -> tuple[str, str, dict[str, Any]]:
    """(action, subject, payload) of a plausible rule-2 event; fetch events every so often.
    Claim events record their claim's row, as the application's own events do."""
    if fetch is not None:
        payload = {
            "fetch_id": fetch["id"],
            "url": fetch["requested_url"],
            "status_code": fetch["status_code"],
            "sha256": fetch["sha256"],
            "error_kind": None,
            "v": 2,
        }
        return "fetch.recorded", f"fetch:{fetch['id']}", payload
    claim = seq // 7 + 1
    action, payload = _claim_payload(seq, claim)
    record = vouch.row_record(_CLAIM_SPEC, claim_row(claim))
    body = {**payload, "v": 2, "rows": {f"claim:{claim}": record}}
    return action, f"claim:{claim}", json.loads(audit.canonical_json(body))  # as record() does


def generate_events(count: int, fetches: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A valid chain of ``count`` events; fetch events spread evenly through it."""
    every = max(count // max(len(fetches), 1), 1)
    prev = audit.GENESIS
    for seq in range(1, count + 1):
        index = seq // every - 1 if seq % every == 0 else -1
        fetch = fetches[index] if 0 <= index < len(fetches) else None
        action, subject, payload = _payload(seq, fetch)
        at = _BASE_TIME + timedelta(milliseconds=seq)
        actor = "flow-run:bench" if fetch else "cli:bench"
        digest = audit.compute_hash(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            payload=payload,
            prev_hash=prev,
        )
        yield {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload,
            "prev_hash": prev,
            "hash": digest,
        }
        prev = digest


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def insert_claims(engine: Engine, events: int) -> None:
    table = Claim.__table__  # type: ignore[attr-defined]
    rows = (claim_row(c) for c in range(1, events // 7 + 2))
    with engine.begin() as conn:
        for chunk in _chunks(rows):
            conn.execute(table.insert(), chunk)


def insert_sqlite(engine: Engine, events: Iterator[dict[str, Any]], fetches: list[Any]) -> None:
    fetch_table = Fetch.__table__  # type: ignore[attr-defined]
    event_table = AuditEvent.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        if fetches:
            conn.execute(fetch_table.insert(), fetches)
        for chunk in _chunks(events):
            conn.execute(event_table.insert(), chunk)


def insert_postgres(engine: Engine, events: Iterator[dict[str, Any]], fetches: list[Any]) -> None:
    fetch_table = Fetch.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        if fetches:
            conn.execute(fetch_table.insert(), fetches)
    columns = "seq, at, actor, action, subject, payload, prev_hash, hash"
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur, cur.copy(f"COPY audit_event ({columns}) FROM STDIN") as copy:
            for ev in events:
                copy.write_row(
                    (
                        ev["seq"],
                        ev["at"],
                        ev["actor"],
                        ev["action"],
                        ev["subject"],
                        json.dumps(ev["payload"]),
                        ev["prev_hash"],
                        ev["hash"],
                    )
                )
        raw.commit()
    finally:
        raw.close()


def run_verify(url: str, data_dir: Path) -> dict[str, Any]:
    """Run `factcheck audit verify --json` in a child; its wall time and peak RSS."""
    env = {**os.environ, "FACTCHECK_DATABASE_URL": url, "FACTCHECK_DATA_DIR": str(data_dir)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "audit", "verify", "--json"],
            env=env,
            stdout=out,
            stderr=err,
        )
        # wait4, not wait: it hands back the child's own resource usage (peak RSS)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return {
        "seconds": round(elapsed, 1),
        # CPU time too: on a shared machine wall time also measures the neighbours
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": child.returncode,
        "report": json.loads(stdout) if stdout.strip() else stderr.decode(),
    }


def bench(kind: str, url: str, data_dir: Path, events: int, fetch_count: int) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    fetches = write_warc(data_dir / "warc", fetch_count)
    started = time.perf_counter()
    insert = insert_postgres if kind == "postgresql" else insert_sqlite
    insert(engine, generate_events(events, fetches), fetches)
    insert_claims(engine, events)
    engine.dispose()
    inserted = time.perf_counter() - started
    result = run_verify(url, data_dir)
    return {"database": kind, "events": events, "insert_seconds": round(inserted, 1), **result}


def _postgres_database() -> tuple[Engine, str, str]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"factcheck_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    return admin, name, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--fetches", type=int, default=2_000, help="archived pages among them")
    parser.add_argument("--postgres", action="store_true", help="also bench PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
        data_dir = Path(tmp) / "sqlite"
        url = f"sqlite:///{data_dir / 'factcheck.db'}"
        print(json.dumps(bench("sqlite", url, data_dir, args.events, args.fetches)), flush=True)
        if args.postgres:
            admin, name, pg_url = _postgres_database()
            try:
                pg_dir = Path(tmp) / "postgresql"
                result = bench("postgresql", pg_url, pg_dir, args.events, args.fetches)
                print(json.dumps(result), flush=True)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
