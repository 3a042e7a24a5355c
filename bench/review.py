"""Load test of the review web app: p50/p95 latency of `review next`, decide and the claim
page under concurrent reviewers, on PostgreSQL.

Creates its own PostgreSQL database (dropped at the end), seeds reviewers and queued claims
with evidence, runs the app under uvicorn on 127.0.0.1 in a subprocess, and drives it with
N concurrent httpx clients. Each client signs in through the login form (the claim page is
a browser page) and uses its API token for the JSON calls, then loops:

    POST /api/queue/next  ->  GET /claims/{id}  ->  POST /api/claims/{id}/verdict

until the queue is empty. Run: ``make bench-review`` (or ``python -m bench.review --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from evidence import claims
from evidence.db import make_engine, session_scope, upgrade
from evidence.models import Document, Evidence, Fetch, Passage
from verdicts import queue, users

ADMIN_URL = os.environ.get(
    "FACTCHECK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench-password-123"
_EVIDENCE_ID = re.compile(r'data-evidence-id="(\d+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_database() -> tuple[str, str]:
    name = f"factcheck_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(url: str, *, reviewers: int, claim_count: int) -> list[tuple[str, str]]:
    """Reviewers (name, token) and queued claims, each with two evidence passages."""
    engine = make_engine(url)
    upgrade(engine)
    people = []
    with session_scope(engine) as s:
        for i in range(reviewers):
            user, token = users.add_user(
                s, f"bench-reviewer-{i}", role="reviewer", password=PASSWORD, actor="bench"
            )
            people.append((user.name, token))
    with session_scope(engine) as s:
        for i in range(claim_count):
            data = claims.make_create(text=f"Bench claim {i}: the {secrets.token_hex(4)} rose")
            claim = claims.add_claim(s, data, actor="bench").claim
            assert claim.id is not None
            for rank in (1, 2):
                _evidence(s, claim.id, i, rank)
            queue.enqueue(s, claim.id, priority=i % 3, actor="bench")
    engine.dispose()
    return people


def _evidence(session: object, claim_id: int, i: int, rank: int) -> None:
    from sqlmodel import Session

    assert isinstance(session, Session)
    url = f"https://bench{rank}.example/{i}"
    body = f"Officials said the figure for claim {i} rose sharply, report {rank}."
    doc = Document(url=url, site=f"bench{rank}.example", title=f"Report {i}/{rank}")
    session.add(doc)
    session.flush()
    fetch = Fetch(document_id=doc.id, requested_url=url, final_url=url, status_code=200)
    session.add(fetch)
    session.flush()
    assert doc.id is not None and fetch.id is not None
    digest = hashlib.sha256(body.encode()).hexdigest()
    passage = Passage(
        document_id=doc.id,
        fetch_id=fetch.id,
        ordinal=0,
        key=digest[:16],
        text=body,
        start=0,
        end=len(body),
        sha256=digest,
    )
    session.add(passage)
    session.flush()
    assert passage.id is not None
    session.add(
        Evidence(
            claim_id=claim_id,
            passage_id=passage.id,
            score=1.0 / rank,
            rank=rank,
            matched_terms=["figure", "rose"],
        )
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FACTCHECK_DATABASE_URL": url,
        "FACTCHECK_DATA_DIR": str(data_dir),
        "FACTCHECK_SECRET_KEY": secrets.token_hex(16),
    }
    cmd = [sys.executable, "-m", "uvicorn", "verdicts.web.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, env=env)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the web app exited during start-up")
        try:
            if httpx.get(f"{base}/login", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the web app did not start in time")


Timings = dict[str, list[float]]


async def reviewer_loop(
    base: str, name: str, token: str, timings: Timings, taken: list[int]
) -> None:
    api = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        login_page = await client.get("/login")
        csrf = _CSRF.search(login_page.text)
        assert csrf is not None
        form = {"name": name, "password": PASSWORD, "csrf_token": csrf.group(1)}
        assert (await client.post("/login", data=form)).status_code == 303
        while True:
            t0 = time.perf_counter()
            answer = await client.post("/api/queue/next", headers=api)
            timings["review next"].append(time.perf_counter() - t0)
            if answer.status_code == 204:
                return
            answer.raise_for_status()
            task = answer.json()
            taken.append(task["claim_id"])
            t0 = time.perf_counter()
            page = await client.get(f"/claims/{task['claim_id']}")
            timings["claim page"].append(time.perf_counter() - t0)
            page.raise_for_status()
            evidence_ids = [int(i) for i in _EVIDENCE_ID.findall(page.text)][:1]
            decision = {
                "rating": "false",
                "rationale": "Both reports contradict it.",
                "evidence_ids": evidence_ids,
                "expected_version": task["version"],
            }
            t0 = time.perf_counter()
            decided = await client.post(
                f"/api/claims/{task['claim_id']}/verdict", json=decision, headers=api
            )
            timings["decide"].append(time.perf_counter() - t0)
            decided.raise_for_status()


async def run_load(base: str, people: list[tuple[str, str]]) -> tuple[Timings, list[int], float]:
    timings: Timings = defaultdict(list)
    taken: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(*(reviewer_loop(base, n, t, timings, taken) for n, t in people))
    return timings, taken, time.perf_counter() - started


def percentile(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def report(timings: Timings, taken: list[int], elapsed: float, args: argparse.Namespace) -> None:
    print(
        f"review bench: {args.clients} concurrent clients, {args.claims} claims, PostgreSQL, "
        f"uvicorn --workers {args.workers} on 127.0.0.1 ({os.cpu_count()} CPUs)"
    )
    print(f"{'operation':<14}{'count':>7}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for op in ("review next", "claim page", "decide"):
        values = timings[op]
        print(
            f"{op:<14}{len(values):>7}{percentile(values, 50) * 1000:>10.1f}"
            f"{percentile(values, 95) * 1000:>10.1f}{max(values) * 1000:>10.1f}"
        )
    print(f"decided {len(taken)} claims in {elapsed:.1f} s ({len(taken) / elapsed:.1f} claims/s)")
    duplicates = len(taken) - len(set(taken))
    print(f"claims handed out twice: {duplicates}")
    if duplicates or len(set(taken)) != args.claims:
        raise SystemExit("FAILED: every claim must be handed out exactly once")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent reviewers")
    parser.add_argument("--claims", type=int, default=640, help="queued claims to decide")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args = parser.parse_args(argv)
    name, url = create_database()
    proc: subprocess.Popen[bytes] | None = None
    try:
        people = seed(url, reviewers=args.clients, claim_count=args.claims)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as data_dir:
            proc = start_server(url, Path(data_dir), port, args.workers)
            wait_ready(base, proc)
            timings, taken, elapsed = asyncio.run(run_load(base, people))
        report(timings, taken, elapsed, args)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        drop_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
