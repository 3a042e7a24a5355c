"""Many reviewers taking claims at once: no claim is ever handed out twice.

PostgreSQL: 20 threads, each with its own session (and connection), take tasks until the
queue is empty (``FOR UPDATE SKIP LOCKED`` plus the conditional UPDATE). SQLite: several
threads through the one write lock. Every take is checked against the audit log too.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlmodel import Session, col, select

from evidence.db import session_scope
from evidence.models import AuditEvent, ReviewTask
from tests.conftest import DB
from tests.verdicts.factories import make_user, queued_claim
from verdicts import queue

CLAIMS = 120


def _seed(db: DB, reviewers: int) -> list[str]:
    names = [f"worker{i:02d}" for i in range(reviewers)]
    with session_scope(db.engine) as s:
        for name in names:
            make_user(s, name)
        for i in range(CLAIMS):
            queued_claim(s, evidence=1, priority=i % 3)
    return names


def _drain(db: DB, names: list[str]) -> dict[str, list[int]]:
    """Each worker takes a claim, closes its task in a second transaction (as a decision
    would), and takes the next; a lease found taken by someone else fails the worker."""
    taken: dict[str, list[int]] = {name: [] for name in names}
    errors: list[BaseException] = []
    start = threading.Barrier(len(names))

    def work(name: str) -> None:
        try:
            start.wait()
            while True:
                with session_scope(db.engine) as s:
                    task = queue.next_task(s, name)
                if task is None:
                    return
                taken[name].append(task.claim_id)
                time.sleep(0.002)  # "reviewing": lets the other workers take their turns
                with session_scope(db.engine) as s:
                    row = s.get(ReviewTask, task.id)
                    assert row is not None and row.lease_holder == name
                    row.state, row.lease_holder, row.lease_expires_at = "done", None, None
                    s.add(row)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    return taken


def _check(db: DB, taken: dict[str, list[int]], workers: int) -> None:
    handed = [claim for claims in taken.values() for claim in claims]
    twice = [claim for claim, n in Counter(handed).items() if n > 1]
    assert twice == []
    assert len(handed) == CLAIMS
    assert sum(1 for claims in taken.values() if claims) >= min(workers, 2)
    with Session(db.engine) as s:
        leases = s.exec(select(AuditEvent).where(col(AuditEvent.action) == "task.leased")).all()
        open_tasks = s.exec(select(ReviewTask).where(col(ReviewTask.state) != "done")).all()
    assert len(leases) == CLAIMS and open_tasks == []
    assert Counter(e.subject for e in leases).most_common(1)[0][1] == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_twenty_workers_on_postgresql_never_share_a_claim(pg_db: DB) -> None:
    names = _seed(pg_db, 20)
    _check(pg_db, _drain(pg_db, names), 20)


@pytest.mark.slow
def test_several_threads_on_sqlite_never_share_a_claim(sqlite_db: DB) -> None:
    names = _seed(sqlite_db, 6)
    _check(sqlite_db, _drain(sqlite_db, names), 6)


@pytest.mark.postgres
def test_two_concurrent_decisions_one_wins(pg_db: DB) -> None:
    """Both reviewers loaded version v; they decide at the same moment on PostgreSQL."""
    from evidence.errors import Conflict
    from verdicts import decisions

    with session_scope(pg_db.engine) as s:
        make_user(s, "alice")
        make_user(s, "bob")
        claim, task, rows = queued_claim(s)
        ids = [r.id for r in rows if r.id]
    outcomes: dict[str, str] = {}
    start = threading.Barrier(2)

    def decide(name: str, rating: str) -> None:
        start.wait()
        try:
            with session_scope(pg_db.engine) as s:
                decisions.decide(
                    s,
                    claim.id or 0,
                    reviewer=name,
                    rating=rating,
                    rationale=name,
                    evidence_ids=ids,
                    expected_version=task.version,
                    actor=f"user:{name}",
                )
            outcomes[name] = "won"
        except Conflict as exc:
            outcomes[name] = str(exc)

    threads = [
        threading.Thread(target=decide, args=a) for a in (("alice", "true"), ("bob", "false"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o == "won" for o in outcomes.values()) == [False, True]
    with Session(pg_db.engine) as s:
        verdicts = decisions.verdict_history(s, claim.id or 0)
    winner = next(name for name, o in outcomes.items() if o == "won")
    assert [(v.reviewer, v.state) for v in verdicts] == [(winner, "published")]
