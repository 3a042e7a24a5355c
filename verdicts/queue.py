"""The review queue: one task per claim, ordered by priority then age, handed out on leases.

A lease, not a lock: ``next_task`` gives a reviewer the next claim for ``lease_minutes``;
once that time has passed the task is free again, and nobody needs to clean up after a
reviewer who walked away. Two reviewers never hold the same claim:

- PostgreSQL: the candidate row is picked with ``SELECT … FOR UPDATE SKIP LOCKED``, so
  concurrent reviewers skip each other's rows instead of waiting on them;
- SQLite: every transaction holds the write lock (``BEGIN IMMEDIATE``), and the take is one
  conditional ``UPDATE … WHERE id = :id AND (free)`` whose row count says who won.

Both dialects run the same conditional UPDATE, so correctness never rests on the lock alone.
Every take, release and hand-out bumps ``ReviewTask.version``: a decision carries the version
its reviewer saw, and a decision made on a version that has since moved is refused.

Task states (``evidence.models.TASK_STATES``): ``queued`` → ``leased`` → (decision) →
``done``, or ``awaiting_approval`` (two-person rule), ``awaiting_second`` / ``disputed``
(blind double review). A ``leased`` task whose lease has run out counts as ``queued``.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, case, cast, exists, func, or_, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from evidence import audit, claims
from evidence.actors import user_actor
from evidence.db import insert_once
from evidence.errors import BadInput, Conflict, NotFound
from evidence.models import (
    TASK_STATES,
    AuditEvent,
    Candidate,
    Claim,
    Document,
    Evidence,
    Passage,
    ReviewTask,
    Verdict,
)
from evidence.settings import get_settings
from evidence.types import utcnow
from verdicts import users

OPEN_STATES = ("queued", "leased", "awaiting_second", "awaiting_approval", "disputed")
"""States of a task that still needs somebody; ``done`` is the only closed one."""
MAX_PAGE = 500
STATS_DAYS = 14
SUBJECT_BATCH = 500  # audit subjects per IN (...) query
MAX_TAKE_ATTEMPTS = 5  # candidates tried before giving up (each loss means a rival won it)

T = ReviewTask


class QueueFilter(BaseModel):
    """Narrow the queue. ``status`` is a task state, ``open`` (default: not done) or ``all``;
    ``source`` matches an evidence page's site or a discovery adapter; ``claimant`` is
    case-insensitive; ``holder`` keeps tasks whose live lease that reviewer holds."""

    status: str | None = None
    source: str | None = None
    claimant: str | None = None
    tag: str | None = None
    holder: str | None = None
    queue: str | None = None


class TaskPublic(BaseModel):
    id: int
    claim_id: int
    queue: str
    priority: int
    state: str
    lease_holder: str | None
    lease_expires_at: datetime | None
    version: int
    reopen_count: int
    reason: str | None
    created_at: datetime
    updated_at: datetime
    assigned_to: str | None = None


class QueueItem(BaseModel):
    """One row of the queue page and of ``GET /api/queue``."""

    task_id: int
    claim_id: int
    text: str
    claimant: str | None
    tags: list[str]
    priority: int
    state: str
    created_at: datetime
    age_seconds: float
    lease_holder: str | None
    lease_expires_at: datetime | None
    evidence_count: int
    version: int
    assigned_to: str | None = None


class DayCount(BaseModel):
    day: date
    count: int


class ReviewerAgreement(BaseModel):
    reviewer: str
    compared: int  # blind double reviews this reviewer took part in
    agreed: int
    rate: float


class SuggestionAgreement(BaseModel):
    compared: int  # verdicts decided on a claim that had a suggestion
    agreed: int
    rate: float | None  # None until a verdict was compared


class QueueStats(BaseModel):
    counts: dict[str, int] = Field(description="tasks per (effective) state")
    queue_size: int = Field(description="tasks not done")
    oldest_age_seconds: float | None = Field(description="age of the oldest task not done")
    verdicts_per_day: list[DayCount] = Field(description="verdicts published, last 14 days")
    agreement: list[ReviewerAgreement] = Field(description="blind double review agreement")
    suggestion_agreement: SuggestionAgreement = Field(
        description="how often reviewers' verdicts matched the suggested verdict"
    )


class ReviewerNumbers(BaseModel):
    """One reviewer's throughput (last ``STATS_DAYS`` days) and agreement (all time)."""

    reviewer: str
    verdicts: int  # decided in the last STATS_DAYS days
    suggestion_compared: int
    suggestion_agreed: int
    blind_compared: int
    blind_agreed: int


class DeskStats(BaseModel):
    """The dashboard charts' raw numbers; ``verdicts.web.charts`` draws them."""

    days: list[date]
    claims_in: list[int] = Field(description="claims added per day")
    verdicts_out: list[int] = Field(description="verdicts published per day")
    intake_hours: list[float] = Field(description="claim added -> first verdict published")
    median_hours: float | None
    p90_hours: float | None
    by_rating: dict[str, int] = Field(description="published verdicts per rating")
    reviewers: list[ReviewerNumbers]
    open_age_seconds: list[float] = Field(description="age of every task not done")


# -- conditions -----------------------------------------------------------------------------


def _lease_live(now: datetime) -> ColumnElement[bool]:
    return and_(col(T.lease_holder).is_not(None), col(T.lease_expires_at) > now)


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(col(T.lease_holder).is_(None), col(T.lease_expires_at) <= now)


def _effective_state(now: datetime) -> Any:
    return case((and_(col(T.state) == "leased", _lease_free(now)), "queued"), else_=col(T.state))


def _available_to(reviewer: str, now: datetime) -> ColumnElement[bool]:
    """Free for ``reviewer``: queued, an expired lease, or a blind second review that
    someone else (not this reviewer) decided first."""
    own_draft = exists().where(
        col(Verdict.task_id) == T.id,
        col(Verdict.reviewer) == reviewer,
        col(Verdict.state) == "draft",
    )
    return or_(
        col(T.state) == "queued",
        and_(col(T.state) == "leased", _lease_free(now)),
        and_(col(T.state) == "awaiting_second", _lease_free(now), ~own_draft),
    )


def _status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    if status == "all":
        return and_(True)
    if status == "open":
        return col(T.state) != "done"
    if status not in TASK_STATES:
        raise BadInput(
            f"Unknown queue status {status!r}; use open, all or one of: {', '.join(TASK_STATES)}."
        )
    condition: ColumnElement[bool] = _effective_state(now) == status
    return condition


def _tag_condition(tag: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return cast(Claim.tags, JSONB).contains([tag])
    return text(
        "EXISTS (SELECT 1 FROM json_each(claim.tags) WHERE json_each.value = :queue_tag)"
    ).bindparams(queue_tag=tag)  # type: ignore[return-value]


def _source_condition(source: str) -> ColumnElement[bool]:
    key = source.strip().lower()
    from_evidence = (
        select(Evidence.id)
        .join(Passage, col(Passage.id) == Evidence.passage_id)
        .join(Document, col(Document.id) == Passage.document_id)
        .where(col(Evidence.claim_id) == Claim.id, func.lower(Document.site) == key)
    )
    from_adapter = select(Candidate.id).where(
        col(Candidate.claim_id) == Claim.id, func.lower(Candidate.adapter) == key
    )
    return or_(exists(from_evidence), exists(from_adapter))


def _filtered(
    query: SelectOfScalar[Any], filters: QueueFilter, now: datetime, dialect: str
) -> SelectOfScalar[Any]:
    query = query.where(_status_condition(filters.status or "open", now))
    if filters.source:
        query = query.where(_source_condition(filters.source))
    if filters.claimant:
        query = query.where(func.lower(Claim.claimant) == filters.claimant.strip().lower())
    if filters.tag:
        query = query.where(_tag_condition(filters.tag.strip(), dialect))
    if filters.holder:
        query = query.where(col(T.lease_holder) == filters.holder, _lease_live(now))
    if filters.queue:
        query = query.where(col(T.queue) == filters.queue)
    return query


def _ordered(query: SelectOfScalar[Any], viewer: str | None = None) -> SelectOfScalar[Any]:
    """Priority, then age; with a ``viewer``, the tasks assigned to them come first."""
    if viewer is not None:
        query = query.order_by(case((col(T.assigned_to) == viewer, 0), else_=1))
    return query.order_by(col(T.priority).desc(), col(T.created_at), col(T.id))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# -- reading --------------------------------------------------------------------------------


def get_task(session: Session, task_id: int) -> ReviewTask:
    task = session.get(ReviewTask, task_id)
    if task is None:
        raise NotFound("review task", task_id)
    return task


def task_for_claim(session: Session, claim_id: int) -> ReviewTask | None:
    return session.exec(select(ReviewTask).where(col(ReviewTask.claim_id) == claim_id)).first()


def task_public(task: ReviewTask, *, now: datetime | None = None) -> TaskPublic:
    """The task as shown to people: an expired lease shows as queued with no holder."""
    now = now or utcnow()
    data = task.model_dump()
    live = task.lease_holder is not None and task.lease_expires_at is not None
    if not (live and task.lease_expires_at is not None and task.lease_expires_at > now):
        data.update(lease_holder=None, lease_expires_at=None)
        if task.state == "leased":
            data["state"] = "queued"
    return TaskPublic(**data)


def list_queue(
    session: Session,
    filters: QueueFilter | None = None,
    *,
    now: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    viewer: str | None = None,
) -> list[QueueItem]:
    """Open tasks (or as filtered), highest priority first, then oldest first; the tasks
    assigned to ``viewer`` (when given) before all others."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadInput(f"The page size must be between 1 and {MAX_PAGE}.")
    if offset < 0:
        raise BadInput("The offset cannot be negative.")
    now = now or utcnow()
    evidence_count = (
        select(func.count())
        .select_from(Evidence)
        .where(col(Evidence.claim_id) == T.claim_id, col(Evidence.active).is_(True))
        .scalar_subquery()
    )
    query: Any = select(T, Claim, evidence_count).join(Claim, col(Claim.id) == T.claim_id)
    query = _ordered(_filtered(query, filters or QueueFilter(), now, _dialect(session)), viewer)
    rows = session.exec(query.offset(offset).limit(limit)).all()
    return [_item(task, claim, int(count), now) for task, claim, count in rows]


def _item(task: ReviewTask, claim: Claim, evidence_count: int, now: datetime) -> QueueItem:
    shown = task_public(task, now=now)
    assert task.id is not None and claim.id is not None
    return QueueItem(
        task_id=task.id,
        claim_id=claim.id,
        text=claim.text,
        claimant=claim.claimant,
        tags=claim.tags,
        priority=task.priority,
        state=shown.state,
        created_at=task.created_at,
        age_seconds=max(0.0, (now - task.created_at).total_seconds()),
        lease_holder=shown.lease_holder,
        lease_expires_at=shown.lease_expires_at,
        evidence_count=evidence_count,
        version=task.version,
        assigned_to=task.assigned_to,
    )


# -- writing --------------------------------------------------------------------------------


def enqueue(
    session: Session, claim_id: int, *, priority: int = 0, queue: str = "default", actor: str
) -> ReviewTask:
    """Put a claim in the review queue; a claim already queued keeps its one task."""
    claim = claims.get_claim(session, claim_id)
    if claim.status == "duplicate":
        raise BadInput(
            f"Claim {claim_id} is a duplicate of claim {claim.duplicate_of_id}; review that one."
        )
    queue = (queue or "").strip()
    if not queue or len(queue) > 60:
        raise BadInput("The queue name must be 1 to 60 characters.")
    existing = task_for_claim(session, claim_id)
    if existing is not None:
        return existing
    task = ReviewTask(claim_id=claim_id, queue=queue, priority=priority)
    task, inserted = insert_once(session, task, lambda: task_for_claim(session, claim_id))
    if not inserted:  # a concurrent enqueue of the same claim won; one task per claim
        return task
    assert task.id is not None
    claims.set_status(session, claim, "queued", actor=actor)
    audit.record(
        session,
        audit.TaskQueued(claim_id=claim_id, task_id=task.id, priority=priority, **{"queue": queue}),
        actor=actor,
        rows=[task],
    )
    return task


def swap(
    session: Session, task_id: int, where: ColumnElement[bool], values: dict[str, Any]
) -> ReviewTask | None:
    """One conditional UPDATE of a task (version bumped); the fresh row, or None if the
    condition no longer held (another writer got there first)."""
    stmt = (
        update(ReviewTask)
        .where(col(ReviewTask.id) == task_id, where)
        .values(version=ReviewTask.version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(ReviewTask, task_id, populate_existing=True)


def held_by(session: Session, reviewer: str, *, now: datetime | None = None) -> ReviewTask | None:
    """The task whose live lease ``reviewer`` holds, if any."""
    now = now or utcnow()
    query = select(ReviewTask).where(
        col(ReviewTask.lease_holder) == reviewer,
        _lease_live(now),
        col(ReviewTask.state).in_(("leased", "awaiting_second")),
    )
    return session.exec(query.order_by(col(ReviewTask.id))).first()


def next_task(
    session: Session,
    reviewer: str,
    *,
    filters: QueueFilter | None = None,
    lease_minutes: int | None = None,
    now: datetime | None = None,
) -> ReviewTask | None:
    """Lease the next claim to ``reviewer``, or give back the one they already hold.

    None when nothing is free. The reviewer must be a user allowed to decide.
    """
    minutes = get_settings().lease_minutes if lease_minutes is None else lease_minutes
    if minutes <= 0:
        raise BadInput("The lease must last at least one minute.")
    users.user_with(session, reviewer, users.DECIDE)
    now = now or utcnow()
    held = held_by(session, reviewer, now=now)
    if held is not None:
        return held
    expires = now + timedelta(minutes=minutes)
    tried: list[int] = []
    for _ in range(MAX_TAKE_ATTEMPTS):
        task_id = _candidate(session, reviewer, filters, now, tried)
        if task_id is None:
            return None
        task = swap(
            session,
            task_id,
            _available_to(reviewer, now),
            {
                "state": case(
                    (col(T.state) == "awaiting_second", "awaiting_second"), else_="leased"
                ),
                "lease_holder": reviewer,
                "lease_expires_at": expires,
            },
        )
        if task is not None:
            _leased(session, task, reviewer, expires)
            return task
        tried.append(task_id)
    return None


def _candidate(
    session: Session, reviewer: str, filters: QueueFilter | None, now: datetime, tried: list[int]
) -> int | None:
    dialect = _dialect(session)
    base = QueueFilter(**(filters.model_dump() if filters else {}))
    base.status = "all"  # availability, not the status filter, decides what can be taken
    query: Any = select(T.id).join(Claim, col(Claim.id) == T.claim_id)
    query = _filtered(query, base, now, dialect).where(_available_to(reviewer, now))
    if tried:
        query = query.where(col(T.id).not_in(tried))
    query = _ordered(query, reviewer).limit(1)  # claims assigned to them first
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=T)
    found = session.exec(query).first()
    return int(found) if found is not None else None


def _leased(session: Session, task: ReviewTask, reviewer: str, expires: datetime) -> None:
    assert task.id is not None
    claim = claims.get_claim(session, task.claim_id)
    claims.set_status(session, claim, "in_review", actor=user_actor(reviewer))
    audit.record(
        session,
        audit.TaskLeased(
            claim_id=task.claim_id,
            task_id=task.id,
            holder=reviewer,
            expires_at=expires.isoformat(),
            **{"version": task.version},
        ),
        actor=user_actor(reviewer),
        rows=[task],
    )


def release(session: Session, task_id: int, *, reviewer: str, actor: str) -> ReviewTask:
    """Give a leased claim back to the queue before the lease runs out."""
    task = get_task(session, task_id)
    now = utcnow()
    freed = swap(
        session,
        task_id,
        and_(col(T.lease_holder) == reviewer, _lease_live(now)),
        {
            "state": case((col(T.state) == "awaiting_second", "awaiting_second"), else_="queued"),
            "lease_holder": None,
            "lease_expires_at": None,
        },
    )
    if freed is None:
        raise Conflict(f"Claim {task.claim_id} is not leased by {reviewer}.")
    claim = claims.get_claim(session, freed.claim_id)
    claims.set_status(session, claim, "queued", actor=actor)
    audit.record(
        session,
        audit.TaskReleased(claim_id=freed.claim_id, task_id=task_id),
        actor=actor,
        rows=[freed],
    )
    return freed


# -- statistics -----------------------------------------------------------------------------


def queue_stats(session: Session, *, now: datetime | None = None) -> QueueStats:
    """Counts per state, queue size, oldest item, verdicts per day, reviewer agreement."""
    now = now or utcnow()
    state = _effective_state(now).label("state")
    counts = {s: 0 for s in TASK_STATES}
    for name, count in session.exec(select(state, func.count()).group_by(state)).all():
        counts[str(name)] = int(count)
    oldest = session.exec(select(func.min(T.created_at)).where(col(T.state) != "done")).one()
    if isinstance(oldest, datetime) and oldest.tzinfo is None:  # SQLite aggregate: naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return QueueStats(
        counts=counts,
        queue_size=sum(counts[s] for s in OPEN_STATES),
        oldest_age_seconds=(now - oldest).total_seconds() if oldest is not None else None,
        verdicts_per_day=_verdicts_per_day(session, now),
        agreement=_agreement(session),
        suggestion_agreement=_suggestion_agreement(session),
    )


def _suggestion_agreement(session: Session) -> SuggestionAgreement:
    """Share of verdicts that agreed with the run's suggested verdict (drafts count too: the
    question is whether the suggestion helped the reviewer, not what was published)."""
    flags = session.exec(
        select(Verdict.agreed_with_suggestion).where(
            col(Verdict.agreed_with_suggestion).is_not(None)
        )
    ).all()
    agreed = sum(bool(f) for f in flags)
    rate = round(agreed / len(flags), 4) if flags else None
    return SuggestionAgreement(compared=len(flags), agreed=agreed, rate=rate)


def _verdicts_per_day(session: Session, now: datetime) -> list[DayCount]:
    first = now.date() - timedelta(days=STATS_DAYS - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    stamps = session.exec(
        select(Verdict.published_at).where(
            col(Verdict.published_at).is_not(None), col(Verdict.published_at) >= start
        )
    ).all()
    per_day = Counter(stamp.date() for stamp in stamps if stamp is not None)
    return [
        DayCount(day=first + timedelta(days=i), count=per_day.get(first + timedelta(days=i), 0))
        for i in range(STATS_DAYS)
    ]


def _compared_payloads(session: Session) -> list[Any]:
    """Payloads of ``review.compared`` events. The audit log has no index on the action, so
    the claims are first narrowed to those with two or more verdicts (from the verdict
    table), and their events read through the subject index."""
    claim_ids = session.exec(
        select(Verdict.claim_id).group_by(col(Verdict.claim_id)).having(func.count() >= 2)
    ).all()
    subjects = [f"claim:{claim_id}" for claim_id in claim_ids]
    payloads: list[Any] = []
    for start in range(0, len(subjects), SUBJECT_BATCH):
        payloads += session.exec(
            select(AuditEvent.payload).where(
                col(AuditEvent.subject).in_(subjects[start : start + SUBJECT_BATCH]),
                col(AuditEvent.action) == audit.ReviewsCompared.action,
            )
        ).all()
    return payloads


def _agreement(session: Session) -> list[ReviewerAgreement]:
    """Per reviewer, how often their blind double review matched the other reviewer's."""
    compared: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    for payload in _compared_payloads(session):
        for reviewer in payload.get("reviewers", []):
            compared[reviewer] += 1
            agreed[reviewer] += bool(payload.get("agreed"))
    return [
        ReviewerAgreement(
            reviewer=name, compared=n, agreed=agreed[name], rate=round(agreed[name] / n, 4)
        )
        for name, n in sorted(compared.items())
    ]


# -- the dashboard's charts -----------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1): always one of the values, None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def desk_stats(session: Session, *, now: datetime | None = None) -> DeskStats:
    """What a desk editor manages by: flow in and out per day, time to verdict, ratings,
    each reviewer's throughput and agreement, and how old the open work is."""
    now = now or utcnow()
    first = now.date() - timedelta(days=STATS_DAYS - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    days = [first + timedelta(days=i) for i in range(STATS_DAYS)]
    added = session.exec(select(Claim.created_at).where(col(Claim.created_at) >= start)).all()
    per_day = Counter(_utc(at).date() for at in added)
    published = session.exec(
        select(Claim.id, Claim.created_at, Verdict.published_at)
        .join(Verdict, col(Verdict.claim_id) == Claim.id)
        .where(col(Verdict.published_at).is_not(None))
    ).all()
    first_verdict: dict[int, tuple[datetime, datetime]] = {}
    for claim_id, created, at in published:
        assert claim_id is not None and at is not None
        known = first_verdict.get(claim_id)
        if known is None or _utc(at) < known[1]:
            first_verdict[claim_id] = (_utc(created), _utc(at))
    hours = [max(0.0, (out - came).total_seconds() / 3600) for came, out in first_verdict.values()]
    ratings = session.exec(
        select(Verdict.rating, func.count())
        .where(col(Verdict.state) == "published")
        .group_by(col(Verdict.rating))
    ).all()
    opened = session.exec(select(T.created_at).where(col(T.state) != "done")).all()
    return DeskStats(
        days=days,
        claims_in=[per_day.get(day, 0) for day in days],
        verdicts_out=[row.count for row in _verdicts_per_day(session, now)],
        intake_hours=sorted(round(h, 3) for h in hours),
        median_hours=percentile(hours, 0.5),
        p90_hours=percentile(hours, 0.9),
        by_rating={str(rating): int(n) for rating, n in sorted(ratings, key=lambda r: -r[1])},
        reviewers=_reviewer_numbers(session, start),
        open_age_seconds=[max(0.0, (now - _utc(at)).total_seconds()) for at in opened],
    )


def _reviewer_numbers(session: Session, start: datetime) -> list[ReviewerNumbers]:
    recent: Counter[str] = Counter()
    compared: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    rows = session.exec(
        select(Verdict.reviewer, Verdict.created_at, Verdict.agreed_with_suggestion)
    ).all()
    for reviewer, created, flag in rows:
        recent[reviewer] += _utc(created) >= start
        if flag is not None:
            compared[reviewer] += 1
            agreed[reviewer] += bool(flag)
    blind = {row.reviewer: row for row in _agreement(session)}
    names = sorted(set(recent) | set(blind))
    return [
        ReviewerNumbers(
            reviewer=name,
            verdicts=recent[name],
            suggestion_compared=compared[name],
            suggestion_agreed=agreed[name],
            blind_compared=blind[name].compared if name in blind else 0,
            blind_agreed=blind[name].agreed if name in blind else 0,
        )
        for name in names
    ]
