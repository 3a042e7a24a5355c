"""What the audit tests share: a real page server, a real claim trail, ways to tamper.

The trail is built by the real code: pages fetched by ``AsyncFetcher`` from a threaded
``http.server`` on 127.0.0.1 (archived to WARC), recorded by ``sources.store``, passages by
``sources.extract``, a verdict through the review queue. Tampering goes straight at the
database rows and the files, as an attacker would.
"""

from __future__ import annotations

import asyncio
import gzip
import http.server
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from evidence import audit
from evidence.models import Evidence, Fetch, Passage, Run
from evidence.settings import Settings
from sources.fetch import AsyncFetcher
from sources.results import FetchResult
from tests.factories import make_claim

TOPICS = ("harbour", "bridge", "library", "railway", "orchard", "stadium")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Valley Gazette</title>
<meta property="article:published_time" content="2024-0{month}-1{day}T08:00:00Z"></head>
<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>
<p>The {topic} in the northern district reopened on Tuesday after {weeks} weeks of work, the
council said, and about {people} residents came to the opening ceremony in the rain.</p>
<p>Engineers replaced {metres} metres of the old structure at a cost of {cost} million euros,
according to figures the regional council published on its website last week.</p>
<p>Local traders said the closure had cost them most of the season; one shop owner said the
{topic} brought customers back within hours of the reopening.</p>
</article><footer>Copyright Valley Gazette</footer></body></html>
"""


def page_html(number: int) -> bytes:
    rng = random.Random(number)
    topic = TOPICS[number % len(TOPICS)]
    return PAGE.format(
        title=f"The {topic} reopens after repairs (report {number})",
        topic=topic,
        month=1 + number % 9,
        day=number % 10,
        weeks=rng.randint(2, 30),
        people=rng.randint(100, 900),
        metres=rng.randint(20, 400),
        cost=rng.randint(2, 90),
    ).encode()


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        number = self.path.rsplit("/", 1)[-1]
        if not self.path.startswith("/article/") or not number.isdigit():
            self.send_error(404)
            return
        body = page_html(int(number))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def page_server() -> Iterator[str]:
    """Base URL of a threaded HTTP server on 127.0.0.1 serving /article/N."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def fetch_settings() -> Settings:
    return Settings(allowed_networks=["127.0.0.0/8"], per_host_delay_s=0, respect_robots=False)


def fetch_pages(urls: list[str]) -> list[FetchResult]:
    """Fetch (and archive) ``urls`` with the real fetcher, one WARC file for all."""

    async def run() -> list[FetchResult]:
        async with AsyncFetcher(fetch_settings()) as fetcher:
            return [await fetcher.get(url) for url in urls]

    results = asyncio.run(run())
    assert all(r.ok and r.warc_file for r in results), [r.error for r in results]
    return results


@dataclass(frozen=True)
class Trail:
    claim_id: int
    fetch_ids: list[int]
    evidence_ids: list[int]
    verdict_id: int | None


ACTOR = "flow-run:test-audit"


def record_pages(session: Session, claim_id: int, results: list[FetchResult]) -> list[int]:
    """Record the fetches of one run of the claim, with their passages when extractable."""
    from sources.extract import extract
    from sources.store import record_extraction, record_fetch

    run = Run(claim_id=claim_id)
    session.add(run)
    session.flush()
    assert run.id is not None
    audit.record(
        session, audit.RunStarted(claim_id=claim_id, run_id=run.id, kind="verify"), actor=ACTOR
    )
    ids = []
    for result in results:
        row = record_fetch(session, result, actor=ACTOR, run_id=run.id)
        url = result.final_url or result.url
        extraction = extract(result.text or "", url=url, content_type=result.content_type)
        record_extraction(session, row, extraction, actor=ACTOR)
        assert row.id is not None
        ids.append(row.id)
    return ids


def select_evidence(session: Session, claim_id: int, fetch_ids: list[int]) -> list[int]:
    """The first passage of each page becomes evidence, in page order."""
    rows = []
    for rank, fetch_id in enumerate(fetch_ids, start=1):
        passage = session.exec(
            select(Passage).where(Passage.fetch_id == fetch_id).order_by(Passage.ordinal)  # type: ignore[arg-type]
        ).first()
        assert passage is not None and passage.id is not None
        row = Evidence(claim_id=claim_id, passage_id=passage.id, score=1.0 / rank, rank=rank)
        session.add(row)
        rows.append(row)
    session.flush()
    audit.record(
        session,
        audit.EvidenceSelected(
            claim_id=claim_id,
            evidence=[{"passage_id": r.passage_id, "score": r.score, "rank": r.rank} for r in rows],
        ),
        actor=ACTOR,
        rows=rows,
    )
    return [r.id for r in rows if r.id is not None]


def publish_verdict(session: Session, claim_id: int, evidence_ids: list[int]) -> int:
    from verdicts import decisions, queue, users

    name = f"rev{claim_id}x{random.randint(1000, 9999)}"
    users.add_user(session, name, role="reviewer", actor="cli:admin")
    queue.enqueue(session, claim_id, actor=ACTOR)
    task = queue.next_task(session, name)
    assert task is not None
    verdict = decisions.decide(
        session,
        claim_id,
        reviewer=name,
        rating="false",
        rationale="The council figures contradict the claim.",
        evidence_ids=evidence_ids,
        expected_version=None,
        actor=f"user:{name}",
    )
    assert verdict.id is not None
    return verdict.id


def build_trail(engine: object, base_url: str, pages: list[int], *, verdict: bool) -> Trail:
    """A claim with ``pages`` fetched, extracted and cited, and optionally a verdict."""
    results = fetch_pages([f"{base_url}/article/{n}" for n in pages])
    with Session(engine) as session:  # type: ignore[call-overload]
        claim = make_claim(session)
        assert claim.id is not None
        fetch_ids = record_pages(session, claim.id, results)
        evidence_ids = select_evidence(session, claim.id, fetch_ids)
        verdict_id = publish_verdict(session, claim.id, evidence_ids) if verdict else None
        session.commit()
        return Trail(claim.id, fetch_ids, evidence_ids, verdict_id)


# -- tampering ------------------------------------------------------------------------------


def tamper_sql(db: object, *statements: str) -> None:
    """Run SQL as an attacker with table-owner rights would (triggers off on PostgreSQL)."""
    kind = db.kind  # type: ignore[attr-defined]
    with db.engine.begin() as conn:  # type: ignore[attr-defined]
        if kind == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for sql in statements:
            conn.execute(text(sql))
        if kind == "postgresql":
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


def fetch_row(engine: object, fetch_id: int) -> Fetch:
    with Session(engine) as session:  # type: ignore[call-overload]
        row = session.get(Fetch, fetch_id)
        assert row is not None
        return row


def event_seq(engine: object, subject: str, action: str) -> int:
    with Session(engine) as session:  # type: ignore[call-overload]
        events = [e for e in audit.events_for(session, subject) if e.action == action]
    assert events
    return events[0].seq


def rewrite_record(path: Path, offset: int, length: int, old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` inside the record's payload and re-gzip it in place, as a
    careful forger would (a valid record, only the words changed)."""
    data = path.read_bytes()
    member = gzip.decompress(data[offset : offset + length])
    assert old in member
    forged = gzip.compress(member.replace(old, new, 1))
    path.write_bytes(data[:offset] + forged + data[offset + length :])


def flip_byte(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0xFF
    path.write_bytes(bytes(data))
