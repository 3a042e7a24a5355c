"""Verdicts under each review policy, optimistic concurrency, re-opening, the claim page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, col, func, select

from evidence import audit
from evidence.db import session_scope
from evidence.errors import BadInput, Conflict, Forbidden
from evidence.models import AuditEvent, Claim, ReviewTask, Verdict
from evidence.settings import get_settings
from tests.conftest import DB
from tests.verdicts.factories import make_evidence, make_fact_check, make_user, queued_claim
from verdicts import decisions, notify, queue

Policy = Callable[[str], None]


@pytest.fixture
def policy(monkeypatch: pytest.MonkeyPatch) -> Policy:
    def set_policy(name: str) -> None:
        monkeypatch.setenv("FACTCHECK_REVIEW_POLICY", name)
        get_settings.cache_clear()

    return set_policy


@pytest.fixture
def team(db: DB) -> None:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        make_user(s, "bob")
        make_user(s, "carol")
        make_user(s, "ed", role="editor")
        make_user(s, "eve", role="editor")
        make_user(s, "audrey", role="auditor")


def _claim(db: DB, evidence: int = 2) -> tuple[int, list[int]]:
    with session_scope(db.engine) as s:
        claim, _, rows = queued_claim(s, evidence=evidence)
        assert claim.id is not None
        return claim.id, [r.id for r in rows if r.id is not None]


def _decide(
    db: DB,
    claim_id: int,
    reviewer: str,
    rating: str,
    evidence: list[int],
    version: int | None = None,
) -> Verdict:
    with session_scope(db.engine) as s:
        return decisions.decide(
            s,
            claim_id,
            reviewer=reviewer,
            rating=rating,
            rationale=f"{reviewer} read it",
            evidence_ids=evidence,
            expected_version=version,
            actor=f"user:{reviewer}",
        )


def _state(db: DB, claim_id: int) -> tuple[str, str, list[tuple[str, str]]]:
    with Session(db.engine) as s:
        claim = s.get(Claim, claim_id)
        task = s.exec(select(ReviewTask).where(ReviewTask.claim_id == claim_id)).one()
        verdicts = s.exec(
            select(Verdict).where(Verdict.claim_id == claim_id).order_by(col(Verdict.id))
        ).all()
        assert claim is not None
        return claim.status, task.state, [(v.reviewer, v.state) for v in verdicts]


def _count_verdicts(db: DB) -> int:
    with Session(db.engine) as s:
        return int(s.exec(select(func.count()).select_from(Verdict)).one())


# -- single review --------------------------------------------------------------------------


def test_single_review_publishes_at_once(db: DB, team: None) -> None:
    claim_id, evidence = _claim(db)
    with session_scope(db.engine) as s:
        task = queue.next_task(s, "alice")
        assert task is not None and task.claim_id == claim_id
    verdict = _decide(db, claim_id, "alice", "Mostly-False", evidence[:1], task.version)
    assert verdict.rating == "mostly-false" and verdict.published_at is not None
    assert _state(db, claim_id) == ("published", "done", [("alice", "published")])
    with Session(db.engine) as s:
        actions = [e.action for e in audit.events_for(s, f"claim:{claim_id}")]
    assert actions[-3:] == ["verdict.decided", "verdict.published", "claim.status"]


def test_rationale_rating_and_evidence_are_checked_and_nothing_is_written(
    db: DB, team: None
) -> None:
    claim_id, evidence = _claim(db)
    other_id, other_evidence = _claim(db)
    cases = [
        (dict(rating="false", rationale="  ", evidence_ids=evidence), "needs a rationale"),
        (dict(rating="pants-on-fire", rationale="x", evidence_ids=evidence), "Unknown rating"),
        (dict(rating="false", rationale="x", evidence_ids=[]), "at least one evidence"),
        (dict(rating="false", rationale="x", evidence_ids=other_evidence), "not evidence for"),
    ]
    for kwargs, message in cases:
        with session_scope(db.engine) as s, pytest.raises(BadInput, match=message):
            decisions.decide(
                s,
                claim_id,
                reviewer="alice",
                expected_version=None,
                actor="user:alice",
                **kwargs,  # type: ignore[arg-type]
            )
    assert _count_verdicts(db) == 0
    assert _state(db, claim_id)[:2] == ("queued", "queued")
    unverifiable = _decide(db, other_id, "alice", "unverifiable", [])
    assert unverifiable.state == "published" and unverifiable.evidence_ids == []


def test_a_stale_decision_is_refused_and_overwrites_nothing(db: DB, team: None) -> None:
    claim_id, evidence = _claim(db)
    with Session(db.engine) as s:
        seen = queue.task_for_claim(s, claim_id)
        assert seen is not None
    first = _decide(db, claim_id, "alice", "true", evidence, seen.version)
    with pytest.raises(Conflict, match="changed since you loaded it"):
        _decide(db, claim_id, "bob", "false", evidence, seen.version)
    with pytest.raises(Conflict, match="already decided"):
        _decide(db, claim_id, "bob", "false", evidence)
    with Session(db.engine) as s:
        kept = s.exec(select(Verdict)).all()
    assert [(v.id, v.reviewer, v.rating) for v in kept] == [(first.id, "alice", "true")]


def test_a_claim_leased_by_someone_else_cannot_be_decided(db: DB, team: None) -> None:
    claim_id, evidence = _claim(db)
    with session_scope(db.engine) as s:
        assert queue.next_task(s, "alice") is not None
    with pytest.raises(Conflict, match="leased by alice"):
        _decide(db, claim_id, "bob", "false", evidence)
    assert _decide(db, claim_id, "alice", "false", evidence).state == "published"


def test_auditors_and_strangers_cannot_decide(db: DB, team: None) -> None:
    claim_id, evidence = _claim(db)
    with pytest.raises(Forbidden):
        _decide(db, claim_id, "audrey", "false", evidence)
    with pytest.raises(Forbidden):
        _decide(db, claim_id, "mallory", "false", evidence)
    assert _count_verdicts(db) == 0


def test_a_claim_outside_the_queue_cannot_be_decided(db: DB, team: None) -> None:
    from tests.factories import make_claim

    with session_scope(db.engine) as s:
        claim = make_claim(s)
        rows = make_evidence(s, claim, count=1)
        claim_id, ev = claim.id, rows[0].id
    assert claim_id is not None and ev is not None
    with pytest.raises(BadInput, match="not in the review queue"):
        _decide(db, claim_id, "alice", "false", [ev])


# -- two-person rule ------------------------------------------------------------------------


def test_two_person_rule_needs_another_editor(db: DB, team: None, policy: Policy) -> None:
    policy("two-person")
    claim_id, evidence = _claim(db)
    mine = _decide(db, claim_id, "ed", "false", evidence)
    assert mine.state == "pending_approval" and mine.published_at is None
    assert _state(db, claim_id)[:2] == ("decided", "awaiting_approval")
    with session_scope(db.engine) as s, pytest.raises(Forbidden, match="own verdict"):
        decisions.approve(s, mine.id or 0, editor="ed", actor="user:ed")
    with session_scope(db.engine) as s, pytest.raises(Forbidden, match="may not approve"):
        decisions.approve(s, mine.id or 0, editor="alice", actor="user:alice")
    with session_scope(db.engine) as s:
        approved = decisions.approve(s, mine.id or 0, editor="eve", actor="user:eve")
        assert approved.state == "published" and approved.approver == "eve"
    assert _state(db, claim_id) == ("published", "done", [("ed", "published")])
    with session_scope(db.engine) as s, pytest.raises(Conflict, match="is published"):
        decisions.approve(s, mine.id or 0, editor="eve", actor="user:eve")


def test_an_editor_can_send_a_verdict_back(db: DB, team: None, policy: Policy) -> None:
    policy("two-person")
    claim_id, evidence = _claim(db)
    verdict = _decide(db, claim_id, "alice", "true", evidence)
    with session_scope(db.engine) as s:
        decisions.reject(
            s, verdict.id or 0, editor="ed", reason="cite the ministry page", actor="user:ed"
        )
    assert _state(db, claim_id) == ("queued", "queued", [("alice", "rejected")])
    again = _decide(db, claim_id, "bob", "mixed", evidence)
    assert again.state == "pending_approval"


def test_policy_can_differ_per_queue(db: DB, team: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_REVIEW_POLICY_BY_QUEUE", "health=two-person, x=single")
    get_settings.cache_clear()
    with session_scope(db.engine) as s:
        health, _, rows = queued_claim(s, queue_name="health")
        plain, _, plain_rows = queued_claim(s)
        ids = (health.id, rows[0].id, plain.id, plain_rows[0].id)
    assert None not in ids
    assert _decide(db, ids[0] or 0, "alice", "false", [ids[1] or 0]).state == "pending_approval"
    assert _decide(db, ids[2] or 0, "alice", "false", [ids[3] or 0]).state == "published"


def test_unknown_policy_is_refused(db: DB, team: None, policy: Policy) -> None:
    policy("three-person")
    claim_id, evidence = _claim(db)
    with pytest.raises(BadInput, match="Unknown review policy"):
        _decide(db, claim_id, "alice", "false", evidence)


# -- blind double review --------------------------------------------------------------------


def test_blind_double_agreement_publishes(db: DB, team: None, policy: Policy) -> None:
    policy("blind-double")
    claim_id, evidence = _claim(db)
    first = _decide(db, claim_id, "alice", "false", evidence[:1])
    assert first.state == "draft"
    assert _state(db, claim_id)[:2] == ("queued", "awaiting_second")
    with session_scope(db.engine) as s:
        # the first reviewer is not offered the claim again; the second is
        assert queue.next_task(s, "alice") is None
        leased = queue.next_task(s, "bob")
        assert leased is not None and leased.state == "awaiting_second"
        bob_sees = decisions.claim_detail(s, claim_id, viewer="bob")
        alice_sees = decisions.claim_detail(s, claim_id, viewer="alice")
        auditor_sees = decisions.claim_detail(s, claim_id, viewer="audrey")
        editor_sees = decisions.claim_detail(s, claim_id, viewer="ed")
    assert bob_sees.verdicts == [] and editor_sees.verdicts == []
    assert [v.reviewer for v in alice_sees.verdicts] == ["alice"]
    assert [v.reviewer for v in auditor_sees.verdicts] == ["alice"]
    with pytest.raises(Forbidden, match="already reviewed"):
        _decide(db, claim_id, "alice", "false", evidence)
    second = _decide(db, claim_id, "bob", "false", evidence, leased.version)
    assert second.state == "published"
    assert _state(db, claim_id) == (
        "published",
        "done",
        [("alice", "published"), ("bob", "published")],
    )
    with Session(db.engine) as s:
        assert decisions.current_verdict(s, claim_id).id == second.id  # type: ignore[union-attr]
        stats = queue.queue_stats(s)
    assert [(a.reviewer, a.compared, a.agreed, a.rate) for a in stats.agreement] == [
        ("alice", 1, 1, 1.0),
        ("bob", 1, 1, 1.0),
    ]


def test_blind_double_disagreement_goes_to_an_editor(db: DB, team: None, policy: Policy) -> None:
    policy("blind-double")
    claim_id, evidence = _claim(db)
    first = _decide(db, claim_id, "alice", "true", evidence)
    second = _decide(db, claim_id, "ed", "false", evidence)
    assert second.state == "draft"
    assert _state(db, claim_id)[:2] == ("decided", "disputed")
    with pytest.raises(Conflict, match="disputed"):
        _decide(db, claim_id, "carol", "mixed", evidence)
    with Session(db.engine) as s:
        assert len(decisions.claim_detail(s, claim_id, viewer="eve").verdicts) == 2
        assert decisions.claim_detail(s, claim_id, viewer="carol").verdicts == []
    with session_scope(db.engine) as s, pytest.raises(Forbidden, match="reviewed claim"):
        decisions.approve(s, first.id or 0, editor="ed", actor="user:ed")
    with session_scope(db.engine) as s:
        decisions.approve(s, first.id or 0, editor="eve", actor="user:eve")
    assert _state(db, claim_id) == (
        "published",
        "done",
        [("alice", "published"), ("ed", "rejected")],
    )
    with Session(db.engine) as s:
        rates = {a.reviewer: a.rate for a in queue.queue_stats(s).agreement}
    assert rates == {"alice": 0.0, "ed": 0.0}


# -- re-opening and history -----------------------------------------------------------------


def test_reopen_keeps_the_history_and_supersedes_on_the_next_publish(db: DB, team: None) -> None:
    claim_id, evidence = _claim(db)
    old = _decide(db, claim_id, "alice", "true", evidence)
    with session_scope(db.engine) as s:
        task = decisions.reopen(
            s, claim_id, reason="passage changed on the ministry page", actor="flow:nightly"
        )
        assert task.state == "queued" and task.reopen_count == 1
    assert notify.take_committed(s)[0].event == notify.CLAIM_REOPENED
    assert _state(db, claim_id) == ("queued", "queued", [("alice", "published")])
    new = _decide(db, claim_id, "bob", "false", evidence)
    assert _state(db, claim_id) == (
        "published",
        "done",
        [("alice", "superseded"), ("bob", "published")],
    )
    with Session(db.engine) as s:
        history = decisions.claim_detail(s, claim_id, viewer="carol").verdicts
        reopened = s.exec(select(AuditEvent).where(AuditEvent.action == "task.reopened")).one()
    assert [v.id for v in history] == [old.id, new.id]
    assert reopened.payload["reason"].startswith("passage changed")


def test_reopen_supersedes_unpublished_drafts(db: DB, team: None, policy: Policy) -> None:
    policy("two-person")
    claim_id, evidence = _claim(db)
    _decide(db, claim_id, "alice", "true", evidence)
    with session_scope(db.engine) as s:
        decisions.reopen(s, claim_id, reason="new fact-check", actor="flow:nightly")
    assert _state(db, claim_id) == ("queued", "queued", [("alice", "superseded")])


def test_claim_detail_lists_fact_checks_evidence_and_matched_terms(db: DB, team: None) -> None:
    with session_scope(db.engine) as s:
        claim, _, rows = queued_claim(s, evidence=3)
        make_fact_check(s, claim, rating="Pants on fire")
        assert claim.id is not None
        claim_id = claim.id
    with Session(db.engine) as s:
        detail = decisions.claim_detail(s, claim_id, viewer="alice")
    assert detail.claim.id == claim_id and detail.task is not None
    assert detail.task.state == "queued" and detail.policy == "single"
    assert [f.rating for f in detail.fact_checks] == ["Pants on fire"]
    assert [e.evidence_id for e in detail.evidence] == [r.id for r in rows]
    assert detail.evidence[0].matched_terms == detail.claim.text.split()[:2]
    dumped = detail.model_dump(mode="json")
    assert dumped["evidence"][0]["passage"] and dumped["claim"]["fingerprint"]


def test_a_published_notification_waits_for_the_commit(db: DB, team: None) -> None:
    claim_id, evidence = _claim(db)
    with pytest.raises(RuntimeError), session_scope(db.engine) as s:
        decisions.decide(
            s,
            claim_id,
            reviewer="alice",
            rating="false",
            rationale="r",
            evidence_ids=evidence,
            expected_version=None,
            actor="user:alice",
        )
        raise RuntimeError("the caller failed after deciding")
    assert notify.take_committed(s) == [] and _count_verdicts(db) == 0
    with session_scope(db.engine) as s:
        decisions.decide(
            s,
            claim_id,
            reviewer="alice",
            rating="false",
            rationale="r",
            evidence_ids=evidence,
            expected_version=None,
            actor="user:alice",
        )
        assert notify.take_committed(s) == []  # not yet committed
    sent = notify.take_committed(s)
    assert [n.event for n in sent] == [notify.VERDICT_PUBLISHED]
    assert sent[0].payload["rating"] == "false"
