"""Verdicts: deciding a claim, approving, settling disputes, re-opening; the claim page data.

Review policy, per queue (``settings.review_policy``, overridden per queue by
``settings.review_policy_by_queue``):

- ``single``: a decision publishes at once.
- ``two-person``: a decision waits (``pending_approval``) until an editor other than its
  reviewer approves it (``approve``) or sends it back (``reject``).
- ``blind-double``: the first decision is a hidden ``draft`` and the task waits for a second
  reviewer (``awaiting_second``), who cannot see the first draft. Equal ratings publish both;
  different ratings make the task ``disputed`` and an editor approves one of the two.

Who may decide: a user whose role allows it (``users.PERMISSIONS``) and who holds the claim's
lease, or anyone allowed when nobody holds a live lease on it (a reviewer may decide a claim
found by browsing without taking it through ``next`` first). A claim leased by someone else
is refused.

Optimistic concurrency: a decision carries the task version its reviewer loaded
(``expected_version``). The task is moved with one conditional UPDATE on that version, so of
two concurrent decisions exactly one wins and the other gets ``Conflict``; nothing of the
loser is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from evidence import audit, claims
from evidence.errors import BadInput, Conflict, Forbidden, NotFound
from evidence.models import Claim, ClaimPublic, Evidence, FactCheck, ReviewTask, User, Verdict
from evidence.settings import Settings, get_settings
from evidence.types import utcnow
from verdicts import notify, queue, scale, users

POLICIES = ("single", "two-person", "blind-double")
MAX_RATIONALE_CHARS = 20_000
MAX_REASON_CHARS = 2_000
_UNPUBLISHED = ("draft", "pending_approval")


class VerdictPublic(BaseModel):
    id: int
    claim_id: int
    task_id: int | None
    rating: str
    rationale: str
    reviewer: str
    evidence_ids: list[int]
    suggested_rating: str | None = None
    agreed_with_suggestion: bool | None = None
    state: str
    approver: str | None
    approved_at: datetime | None
    published_at: datetime | None
    created_at: datetime


class EvidenceItem(BaseModel):
    """One evidence passage as the claim page shows it (``matched_terms`` for highlighting)."""

    evidence_id: int
    rank: int
    score: float
    components: dict[str, float]
    matched_terms: list[str]
    copies: list[dict[str, Any]]
    passage_id: int
    passage: str
    passage_key: str
    url: str
    title: str | None
    site: str | None
    published: str | None
    fetch_id: int
    fetched_at: str
    sha256: str | None
    active: bool
    stance: str | None = None  # supports | refutes | context
    stance_confidence: float | None = None
    reasons: list[str] = []  # the cues behind the stance, in words
    role: str | None = None  # origin | refutes | supports | context


class FactCheckPublic(BaseModel):
    id: int
    source: str
    url: str
    claim_reviewed: str | None
    rating: str | None
    publisher: str | None
    review_date: Any = None
    similarity: float | None


class ClaimDetail(BaseModel):
    """Everything a reviewer needs on one page: existing fact-checks first, then evidence."""

    claim: ClaimPublic
    task: queue.TaskPublic | None
    policy: str
    fact_checks: list[FactCheckPublic]
    evidence: list[EvidenceItem]
    verdicts: list[VerdictPublic]
    suggestion: dict[str, Any] | None = None  # rating, confidence, explanation; never published


# -- policy ---------------------------------------------------------------------------------


def _check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise BadInput(f"Unknown review policy {policy!r}; use one of: {', '.join(POLICIES)}.")
    return policy


def policy_for(queue_name: str, settings: Settings | None = None) -> str:
    """The review policy of a queue: its override in ``review_policy_by_queue``, else the
    default ``review_policy``."""
    settings = settings or get_settings()
    for pair in settings.review_policy_by_queue.split(","):
        name, sep, policy = pair.partition("=")
        if sep and name.strip() == queue_name:
            return _check_policy(policy.strip())
    return _check_policy(settings.review_policy)


# -- validation -----------------------------------------------------------------------------


def _clean_rationale(rationale: str) -> str:
    text = (rationale or "").strip()
    if not text:
        raise BadInput("A verdict needs a rationale; say why the evidence supports the rating.")
    if len(text) > MAX_RATIONALE_CHARS:
        raise BadInput(f"The rationale is longer than {MAX_RATIONALE_CHARS} characters.")
    return text


def _check_evidence(
    session: Session, claim_id: int, evidence_ids: list[int], rating: scale.Rating
) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in evidence_ids))
    if not ids and rating.needs_evidence:
        raise BadInput(
            f"A {rating.name!r} verdict must cite at least one evidence item "
            "(only 'unverifiable' may cite none)."
        )
    if ids:
        found = set(
            session.exec(
                select(Evidence.id).where(
                    col(Evidence.id).in_(ids), col(Evidence.claim_id) == claim_id
                )
            ).all()
        )
        missing = [i for i in ids if i not in found]
        if missing:
            raise BadInput(f"Evidence {missing[0]} is not evidence for claim {claim_id}.")
    return ids


def _task_or_refuse(session: Session, claim_id: int) -> ReviewTask:
    claims.get_claim(session, claim_id)
    task = queue.task_for_claim(session, claim_id)
    if task is None:
        raise BadInput(f"Claim {claim_id} is not in the review queue; queue it first.")
    return task


def _refuse_state(task: ReviewTask) -> None:
    messages = {
        "done": f"Claim {task.claim_id} was already decided; re-open it to decide again.",
        "awaiting_approval": f"Claim {task.claim_id} already has a verdict awaiting approval.",
        "disputed": f"Claim {task.claim_id} is disputed; an editor must approve one of the "
        "two verdicts.",
    }
    if task.state in messages:
        raise Conflict(messages[task.state])


def _refuse_stale(task: ReviewTask, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != task.version:
        raise Conflict(
            f"Claim {task.claim_id} changed since you loaded it (version {expected_version}, "
            f"now {task.version}); reload it and decide again."
        )


def _refuse_foreign_lease(task: ReviewTask, reviewer: str, now: datetime) -> None:
    expires = task.lease_expires_at
    if task.lease_holder not in (None, reviewer) and expires is not None and expires > now:
        raise Conflict(
            f"Claim {task.claim_id} is leased by {task.lease_holder} until "
            f"{expires:%Y-%m-%d %H:%M} UTC."
        )


# -- deciding -------------------------------------------------------------------------------


def decide(
    session: Session,
    claim_id: int,
    *,
    reviewer: str,
    rating: str,
    rationale: str,
    evidence_ids: list[int],
    expected_version: int | None,
    actor: str,
    now: datetime | None = None,
) -> Verdict:
    """Record ``reviewer``'s verdict on a claim and move the task on per the queue's policy.

    ``expected_version`` is the task version the reviewer loaded; None skips that check
    (for callers holding the lease, like the CLI) but never the state and lease checks.
    """
    now = now or utcnow()
    users.user_with(session, reviewer, users.DECIDE)
    chosen = scale.get_rating(rating)
    text = _clean_rationale(rationale)
    cited = _check_evidence(session, claim_id, evidence_ids, chosen)
    task = _task_or_refuse(session, claim_id)
    first = _check_decidable(session, task, reviewer, expected_version, now)
    policy = "blind-double" if task.state == "awaiting_second" else policy_for(task.queue)
    next_state, verdict_state = _transition(policy, first, chosen.name)
    moved = _move_decided(session, task, reviewer, next_state, now)
    suggested = (claims.latest_suggestion(session, claim_id) or {}).get("rating")
    verdict = Verdict(
        claim_id=claim_id,
        task_id=task.id,
        rating=chosen.name,
        rationale=text,
        reviewer=reviewer,
        evidence_ids=cited,
        suggested_rating=suggested,
        agreed_with_suggestion=None if suggested is None else suggested == chosen.name,
        state=verdict_state,
    )
    session.add(verdict)
    session.flush()
    # beyond the event's declared fields: who, under which policy, and the version it made
    extra = {
        "reviewer": reviewer,
        "policy": policy,
        "state": verdict_state,
        "version": moved.version,
        "suggested_rating": verdict.suggested_rating,
        "agreed_with_suggestion": verdict.agreed_with_suggestion,
    }
    audit.record(
        session,
        audit.VerdictDecided(
            claim_id=claim_id,
            verdict_id=_id(verdict),
            rating=chosen.name,
            evidence_ids=cited,
            **extra,
        ),
        actor=actor,
        rows=[verdict, moved],
    )
    _after_decision(session, moved, verdict, first, actor=actor, now=now)
    return verdict


def _check_decidable(
    session: Session, task: ReviewTask, reviewer: str, expected_version: int | None, now: datetime
) -> Verdict | None:
    """Refuse a stale, closed, foreign-leased or own-second decision; returns the first
    blind draft when this is the second review."""
    _refuse_stale(task, expected_version)
    _refuse_state(task)
    first = _first_draft(session, task) if task.state == "awaiting_second" else None
    if first is not None and first.reviewer == reviewer:
        raise Forbidden(
            f"You already reviewed claim {task.claim_id}; a second reviewer must decide it."
        )
    _refuse_foreign_lease(task, reviewer, now)
    return first


def _move_decided(
    session: Session, task: ReviewTask, reviewer: str, next_state: str, now: datetime
) -> ReviewTask:
    """The one conditional UPDATE that makes a decision win or lose (version, state, lease)."""
    moved = queue.swap(
        session,
        _id(task),
        and_(
            col(ReviewTask.version) == task.version,
            col(ReviewTask.state) == task.state,
            or_(
                col(ReviewTask.lease_holder).is_(None),
                col(ReviewTask.lease_holder) == reviewer,
                col(ReviewTask.lease_expires_at) <= now,
            ),
        ),
        {"state": next_state, "lease_holder": None, "lease_expires_at": None},
    )
    if moved is None:
        raise Conflict(
            f"Claim {task.claim_id} was decided or taken by someone else a moment ago; "
            "reload it and decide again."
        )
    return moved


def _transition(policy: str, first: Verdict | None, rating: str) -> tuple[str, str]:
    """(next task state, new verdict state) for a decision under ``policy``."""
    if policy == "single":
        return "done", "published"
    if policy == "two-person":
        return "awaiting_approval", "pending_approval"
    if first is None:
        return "awaiting_second", "draft"
    return ("done", "published") if first.rating == rating else ("disputed", "draft")


def _after_decision(
    session: Session,
    task: ReviewTask,
    verdict: Verdict,
    first: Verdict | None,
    *,
    actor: str,
    now: datetime,
) -> None:
    claim = claims.get_claim(session, task.claim_id)
    if first is not None:
        agreed = first.rating == verdict.rating
        audit.record(
            session,
            audit.ReviewsCompared(
                claim_id=task.claim_id,
                task_id=_id(task),
                verdict_ids=[_id(first), _id(verdict)],
                reviewers=[first.reviewer, verdict.reviewer],
                ratings=[first.rating, verdict.rating],
                agreed=agreed,
            ),
            actor=actor,
        )
        if agreed:
            _publish(session, [first, verdict], actor=actor, now=now)
            return
    if verdict.state == "published":
        _publish(session, [verdict], actor=actor, now=now)
        return
    claims.set_status(
        session, claim, "queued" if task.state == "awaiting_second" else "decided", actor=actor
    )


def _first_draft(session: Session, task: ReviewTask) -> Verdict | None:
    return session.exec(
        select(Verdict)
        .where(col(Verdict.task_id) == task.id, col(Verdict.state) == "draft")
        .order_by(col(Verdict.created_at), col(Verdict.id))
    ).first()


def _publish(session: Session, verdicts: list[Verdict], *, actor: str, now: datetime) -> None:
    """Publish ``verdicts`` (one claim); earlier published verdicts become superseded."""
    claim_id = verdicts[0].claim_id
    keep = {_id(v) for v in verdicts}
    earlier = session.exec(
        select(Verdict).where(col(Verdict.claim_id) == claim_id, col(Verdict.state) == "published")
    ).all()
    for old in earlier:
        if old.id not in keep:
            old.state = "superseded"
            session.add(old)
    for verdict in verdicts:
        verdict.state, verdict.published_at = "published", now
        session.add(verdict)
        session.flush()
        audit.record(
            session,
            audit.VerdictPublished(
                claim_id=claim_id, verdict_id=_id(verdict), rating=verdict.rating
            ),
            actor=actor,
            rows=[verdict, *earlier],
        )
    claims.set_status(session, claims.get_claim(session, claim_id), "published", actor=actor)
    latest = verdicts[-1]
    notify.add_pending(
        session,
        notify.Notification(
            event=notify.VERDICT_PUBLISHED,
            claim_id=claim_id,
            payload={
                "claim_id": claim_id,
                "verdict_id": _id(latest),
                "rating": latest.rating,
                "reviewer": latest.reviewer,
                "published_at": now.isoformat(),
            },
        ),
    )


def _id(row: Verdict | ReviewTask | Claim) -> int:
    assert row.id is not None
    return row.id


# -- approving ------------------------------------------------------------------------------


def _verdict(session: Session, verdict_id: int) -> Verdict:
    verdict = session.get(Verdict, verdict_id)
    if verdict is None:
        raise NotFound("verdict", verdict_id)
    return verdict


def _settling_task(session: Session, verdict: Verdict, editor: str) -> ReviewTask:
    """The task an editor acts on through ``verdict``; refuses what the rules forbid."""
    task = session.get(ReviewTask, verdict.task_id) if verdict.task_id else None
    waiting = task is not None and (
        (task.state == "awaiting_approval" and verdict.state == "pending_approval")
        or (task.state == "disputed" and verdict.state == "draft")
    )
    if task is None or not waiting:
        raise Conflict(
            f"Verdict {verdict.id} is {verdict.state}; only a verdict awaiting approval "
            "or in dispute can be approved."
        )
    if verdict.reviewer == editor:
        raise Forbidden(
            f"Nobody approves their own verdict; another editor must approve verdict {verdict.id}."
        )
    if task.state == "disputed":
        parties = {v.reviewer for v in _drafts(session, task)}
        if editor in parties:
            raise Forbidden(
                f"You reviewed claim {task.claim_id} yourself; another editor "
                "must settle the dispute."
            )
    return task


def _drafts(session: Session, task: ReviewTask) -> list[Verdict]:
    return list(
        session.exec(
            select(Verdict).where(
                col(Verdict.task_id) == task.id, col(Verdict.state).in_(_UNPUBLISHED)
            )
        ).all()
    )


def _close_task(session: Session, task: ReviewTask, state: str, verdict_id: int) -> ReviewTask:
    moved = queue.swap(
        session,
        _id(task),
        and_(col(ReviewTask.version) == task.version, col(ReviewTask.state) == task.state),
        {"state": state, "lease_holder": None, "lease_expires_at": None},
    )
    if moved is None:
        raise Conflict(
            f"Verdict {verdict_id} was approved or changed by someone else a moment ago; reload it."
        )
    return moved


def approve(
    session: Session, verdict_id: int, *, editor: str, actor: str, now: datetime | None = None
) -> Verdict:
    """An editor approves (and so publishes) a verdict awaiting approval or in dispute;
    in a dispute the other verdict is rejected."""
    now = now or utcnow()
    users.user_with(session, editor, users.APPROVE)
    verdict = _verdict(session, verdict_id)
    task = _settling_task(session, verdict, editor)
    _close_task(session, task, "done", verdict_id)
    for other in _drafts(session, task):
        if other.id != verdict.id:
            _reject(
                session, other, reason=f"editor {editor} approved verdict {verdict_id}", actor=actor
            )
    verdict.approver, verdict.approved_at = editor, now
    session.add(verdict)
    audit.record(
        session,
        audit.VerdictApproved(
            claim_id=verdict.claim_id, verdict_id=verdict_id, **{"approver": editor}
        ),
        actor=actor,
        rows=[verdict, task],
    )
    _publish(session, [verdict], actor=actor, now=now)
    return verdict


def _reject(session: Session, verdict: Verdict, *, reason: str, actor: str) -> None:
    verdict.state = "rejected"
    session.add(verdict)
    audit.record(
        session,
        audit.VerdictRejected(claim_id=verdict.claim_id, verdict_id=_id(verdict), reason=reason),
        actor=actor,
        rows=[verdict, session.get(ReviewTask, verdict.task_id) if verdict.task_id else None],
    )


def reject(session: Session, verdict_id: int, *, editor: str, reason: str, actor: str) -> Verdict:
    """Two-person rule: an editor sends a verdict awaiting approval back to the queue."""
    users.user_with(session, editor, users.APPROVE)
    reason = _clean_reason(reason)
    verdict = _verdict(session, verdict_id)
    if verdict.state != "pending_approval":
        raise Conflict(
            f"Verdict {verdict_id} is {verdict.state}; only a verdict awaiting "
            "approval can be sent back."
        )
    task = _settling_task(session, verdict, editor)
    _close_task(session, task, "queued", verdict_id)
    _reject(session, verdict, reason=reason, actor=actor)
    claims.set_status(session, claims.get_claim(session, verdict.claim_id), "queued", actor=actor)
    return verdict


# -- re-opening -----------------------------------------------------------------------------


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise BadInput("Give a reason.")
    return text[:MAX_REASON_CHARS]


def reopener(session: Session, name: str) -> User:
    """The user ``name`` if they may re-open a claim (the approve permission: an editor or
    an admin), else Forbidden saying so in those words."""
    user = users.find_user(session, name)
    if user is not None and not user.active:
        raise Forbidden(f"User {user.name} is deactivated and may not re-open a claim.")
    if user is not None and not users.can(user, users.APPROVE):
        raise Forbidden(
            f"User {user.name} ({user.role}) may not re-open a claim; an editor or admin can."
        )
    return users.user_with(session, name, users.APPROVE)


def reopen(session: Session, claim_id: int, *, reason: str, actor: str) -> ReviewTask:
    """Put a decided claim back in the queue (evidence drifted, a new fact-check appeared).

    The published verdict stays published, and in the history, until a new one is published
    (then it becomes superseded); verdicts not yet published are superseded at once.
    """
    reason = _clean_reason(reason)
    claim = claims.get_claim(session, claim_id)
    task = queue.task_for_claim(session, claim_id)
    if task is None:
        task = queue.enqueue(session, claim_id, actor=actor)
    drafts = _drafts(session, task)
    for pending in drafts:
        pending.state = "superseded"
        session.add(pending)
    moved = queue.swap(
        session,
        _id(task),
        and_(True),
        {
            "state": "queued",
            "lease_holder": None,
            "lease_expires_at": None,
            "reopen_count": ReviewTask.reopen_count + 1,
            "reason": reason,
        },
    )
    assert moved is not None
    claims.set_status(session, claim, "queued", actor=actor)
    audit.record(
        session,
        audit.TaskReopened(claim_id=claim_id, task_id=_id(moved), reason=reason),
        actor=actor,
        rows=[moved, *drafts],
    )
    notify.add_pending(
        session,
        notify.Notification(
            event=notify.CLAIM_REOPENED,
            claim_id=claim_id,
            payload={"claim_id": claim_id, "task_id": moved.id, "reason": reason},
        ),
    )
    return moved


# -- reading --------------------------------------------------------------------------------


def current_verdict(session: Session, claim_id: int) -> Verdict | None:
    """The claim's published verdict (the latest, if a blind double review published two)."""
    return session.exec(
        select(Verdict)
        .where(col(Verdict.claim_id) == claim_id, col(Verdict.state) == "published")
        .order_by(col(Verdict.published_at).desc(), col(Verdict.id).desc())
    ).first()


def verdict_history(session: Session, claim_id: int) -> list[Verdict]:
    return list(
        session.exec(
            select(Verdict)
            .where(col(Verdict.claim_id) == claim_id)
            .order_by(col(Verdict.created_at), col(Verdict.id))
        ).all()
    )


def _draft_visible(
    verdict: Verdict, task: ReviewTask | None, viewer: User | None, viewer_name: str | None
) -> bool:
    """Blind review: a draft is seen by its author, by auditors (who never decide), and in
    a dispute by those who settle it; never by the other blind reviewer while both work."""
    if viewer_name is None or verdict.reviewer == viewer_name:
        return True
    if viewer is None:
        return False
    if viewer.role == "auditor":
        return True
    return task is not None and task.state == "disputed" and users.can(viewer, users.APPROVE)


def visible_verdicts(session: Session, claim_id: int, *, viewer: str | None) -> list[Verdict]:
    """The claim's verdicts that ``viewer`` may see (None: a system view, all of them)."""
    task = queue.task_for_claim(session, claim_id)
    viewer_user = users.find_user(session, viewer) if viewer else None
    return [
        v
        for v in verdict_history(session, claim_id)
        if v.state != "draft" or _draft_visible(v, task, viewer_user, viewer)
    ]


def claim_detail(session: Session, claim_id: int, *, viewer: str | None = None) -> ClaimDetail:
    """The claim page: claim, task, existing fact-checks, evidence, visible verdicts."""
    claim = claims.get_claim(session, claim_id)
    task = queue.task_for_claim(session, claim_id)
    verdicts = visible_verdicts(session, claim_id, viewer=viewer)
    cited = {i for v in verdicts for i in v.evidence_ids}
    evidence = [
        EvidenceItem(**item)
        for item in claims.claim_evidence(session, claim_id, active_only=False)
        if item["active"] or item["evidence_id"] in cited
    ]
    checks = session.exec(
        select(FactCheck)
        .where(col(FactCheck.claim_id) == claim_id)
        .order_by(col(FactCheck.similarity).desc().nulls_last(), col(FactCheck.id))
    ).all()
    return ClaimDetail(
        claim=ClaimPublic.model_validate(claim, from_attributes=True),
        task=queue.task_public(task) if task is not None else None,
        policy=policy_for(task.queue if task is not None else "default"),
        fact_checks=[FactCheckPublic.model_validate(f, from_attributes=True) for f in checks],
        evidence=evidence,
        verdicts=[VerdictPublic.model_validate(v, from_attributes=True) for v in verdicts],
        suggestion=claims.latest_suggestion(session, claim_id),
    )
