"""The review queue: order, filters, leases, release, statistics (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from evidence import audit
from evidence.db import session_scope
from evidence.errors import BadInput, Conflict, Forbidden, NotFound
from evidence.models import AuditEvent, Claim, ReviewTask
from evidence.types import utcnow
from tests.conftest import DB
from tests.factories import make_claim
from tests.verdicts.factories import ACTOR, make_evidence, make_user, queued_claim
from verdicts import queue


def test_enqueue_is_idempotent_and_marks_the_claim_queued(db: DB) -> None:
    with session_scope(db.engine) as s:
        claim = make_claim(s)
        assert claim.id is not None
        first = queue.enqueue(s, claim.id, priority=3, actor=ACTOR)
        again = queue.enqueue(s, claim.id, priority=9, actor=ACTOR)
    assert first.id == again.id and again.priority == 3
    with Session(db.engine) as s:
        assert s.get(Claim, claim.id).status == "queued"  # type: ignore[union-attr]
        queued = s.exec(select(AuditEvent).where(AuditEvent.action == "task.queued")).all()
        assert len(queued) == 1 and queued[0].payload["priority"] == 3


def test_enqueue_refuses_an_unknown_claim(db: DB) -> None:
    with session_scope(db.engine) as s, pytest.raises(NotFound):
        queue.enqueue(s, 999_999, actor=ACTOR)


def test_order_is_priority_then_oldest(db: DB) -> None:
    with session_scope(db.engine) as s:
        old_low, _, _ = queued_claim(s, priority=0)
        high, _, _ = queued_claim(s, priority=5)
        new_low, _, _ = queued_claim(s, priority=0)
    with Session(db.engine) as s:
        items = queue.list_queue(s)
    assert [i.claim_id for i in items] == [high.id, old_low.id, new_low.id]
    assert items[0].evidence_count == 2 and items[0].version == 1
    assert items[1].age_seconds >= items[2].age_seconds


def test_filters_by_tag_claimant_source_and_status(db: DB) -> None:
    with session_scope(db.engine) as s:
        tagged, _, _ = queued_claim(s, tags=["health", "covid"], claimant="Ministry of Health")
        other, _, _ = queued_claim(s, tags=["economy"])
        sourced = make_claim(s)
        make_evidence(s, sourced, count=1, site="news.example.org")
        assert sourced.id is not None
        queue.enqueue(s, sourced.id, actor=ACTOR)
    with Session(db.engine) as s:

        def ids(**kw: str) -> list[int | None]:
            return [i.claim_id for i in queue.list_queue(s, queue.QueueFilter(**kw))]

        assert ids(tag="health") == [tagged.id]
        assert ids(tag="econ") == []
        assert ids(claimant="ministry of HEALTH") == [tagged.id]
        assert ids(source="News.Example.org") == [sourced.id]
        assert sorted(ids(status="queued")) == sorted([tagged.id, other.id, sourced.id])
        assert ids(status="done") == []
        with pytest.raises(BadInput, match="Unknown queue status"):
            ids(status="sleeping")


def test_page_size_is_bounded(db: DB) -> None:
    with Session(db.engine) as s, pytest.raises(BadInput):
        queue.list_queue(s, limit=0)


def test_next_task_leases_and_gives_a_holder_the_same_claim_back(db: DB) -> None:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        make_user(s, "bob")
        first, _, _ = queued_claim(s, priority=1)
        second, _, _ = queued_claim(s)
    with session_scope(db.engine) as s:
        alice = queue.next_task(s, "alice")
        assert alice is not None and alice.claim_id == first.id
        assert alice.state == "leased" and alice.version == 2 and alice.lease_holder == "alice"
    with session_scope(db.engine) as s:
        again = queue.next_task(s, "alice")
        bob = queue.next_task(s, "bob")
        assert again is not None and again.id == alice.id and again.version == 2
        assert bob is not None and bob.claim_id == second.id
        bob_again = queue.next_task(s, "bob")
        assert bob_again is not None and bob_again.id == bob.id
    with Session(db.engine) as s:
        held = queue.list_queue(s, queue.QueueFilter(holder="alice"))
        assert [i.claim_id for i in held] == [first.id]
        assert s.get(Claim, first.id).status == "in_review"  # type: ignore[union-attr]
        leased = s.exec(select(AuditEvent).where(AuditEvent.action == "task.leased")).all()
        assert {e.payload["holder"] for e in leased} == {"alice", "bob"}


def test_an_expired_lease_returns_the_claim_to_the_queue(db: DB) -> None:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        make_user(s, "bob")
        claim, _, _ = queued_claim(s)
    with session_scope(db.engine) as s:
        taken = queue.next_task(s, "alice", lease_minutes=5)
        assert taken is not None
    later = utcnow() + timedelta(minutes=6)
    with session_scope(db.engine) as s:
        items = queue.list_queue(s, now=later)
        assert items[0].state == "queued" and items[0].lease_holder is None
        stolen = queue.next_task(s, "bob", now=later)
        assert stolen is not None and stolen.claim_id == claim.id
        assert stolen.lease_holder == "bob" and stolen.version == 3


def test_no_claim_for_bob_while_alice_holds_the_only_one(db: DB) -> None:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        make_user(s, "bob")
        queued_claim(s)
    with session_scope(db.engine) as s:
        assert queue.next_task(s, "alice") is not None
        assert queue.next_task(s, "bob") is None


def test_only_users_who_may_decide_take_claims(db: DB) -> None:
    with session_scope(db.engine) as s:
        make_user(s, "audrey", role="auditor")
        queued_claim(s)
    with session_scope(db.engine) as s:
        with pytest.raises(Forbidden, match="may not decide"):
            queue.next_task(s, "audrey")
        with pytest.raises(Forbidden, match="no user named"):
            queue.next_task(s, "nobody")
        with pytest.raises(BadInput, match="at least one minute"):
            queue.next_task(s, "audrey", lease_minutes=0)


def test_release_by_the_holder_only(db: DB) -> None:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        make_user(s, "bob")
        claim, _, _ = queued_claim(s)
    with session_scope(db.engine) as s:
        task = queue.next_task(s, "alice")
        assert task is not None and task.id is not None
    with session_scope(db.engine) as s, pytest.raises(Conflict, match="not leased by bob"):
        queue.release(s, task.id, reviewer="bob", actor="user:bob")
    with session_scope(db.engine) as s:
        freed = queue.release(s, task.id, reviewer="alice", actor="user:alice")
        assert freed.state == "queued" and freed.lease_holder is None and freed.version == 3
    with session_scope(db.engine) as s:
        taken = queue.next_task(s, "bob")
        assert taken is not None and taken.claim_id == claim.id
    with Session(db.engine) as s:
        assert [e.action for e in audit.events_for(s, f"claim:{claim.id}")][-4:] == [
            "claim.status",
            "task.released",
            "claim.status",
            "task.leased",
        ]


def test_stats_count_states_and_the_oldest_item(db: DB) -> None:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        for _ in range(3):
            queued_claim(s)
    with session_scope(db.engine) as s:
        queue.next_task(s, "alice", lease_minutes=180)
    later = utcnow() + timedelta(hours=2)
    with Session(db.engine) as s:
        stats = queue.queue_stats(s, now=later)
        assert stats.counts["queued"] == 2 and stats.counts["leased"] == 1
        assert stats.queue_size == 3
        assert stats.oldest_age_seconds is not None and stats.oldest_age_seconds >= 7200
        assert len(stats.verdicts_per_day) == queue.STATS_DAYS
        assert stats.verdicts_per_day[-1].day == later.date()
        expired = queue.queue_stats(s, now=later + timedelta(hours=1))
        assert expired.counts["leased"] == 0 and expired.counts["queued"] == 3


def test_task_public_hides_an_expired_lease(db: DB) -> None:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        queued_claim(s)
    with session_scope(db.engine) as s:
        task = queue.next_task(s, "alice", lease_minutes=1)
        assert task is not None
    shown = queue.task_public(task, now=utcnow() + timedelta(minutes=2))
    assert shown.state == "queued" and shown.lease_holder is None
    assert queue.task_public(task).lease_holder == "alice"
    with Session(db.engine) as s:
        assert s.exec(select(ReviewTask)).one().state == "leased"
