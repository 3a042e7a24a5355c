"""Every claim in every state, found by full-text search and filters, and the editors'
bulk actions on a selection (priority, tag, a request to verify).

Full-text search runs in the database, not in Python: PostgreSQL's ``to_tsvector`` /
``plainto_tsquery`` over GIN expression indexes, SQLite's FTS5 table ``claim_search``
(both made by migration 0004, which keeps the expressions used here). A claim matches
when its own text or claimant does, or a passage of its evidence does.

``verdicts`` never runs a verification (it must not import ``flows`` or ``sources``): a
request to verify is the tag :data:`VERIFY_REQUESTED` on a ``new`` claim, which
``factcheck verify-batch --tag verify-requested`` (or ``--status new``) picks up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Integer, false, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, cast, col, select

from evidence import audit
from evidence.errors import BadInput
from evidence.models import CLAIM_STATUSES, Claim, ReviewTask, Verdict

VERIFY_REQUESTED = "verify-requested"
PAGE_SIZE = 50  # claims per page of the list
MAX_TAG_LENGTH = 60
_WORD = re.compile(r"\w+", re.UNICODE)

# the expressions of migration 0004's GIN indexes, written identically so they are used
_PG_MATCH = (
    "SELECT id AS claim_id FROM claim WHERE "
    "to_tsvector('english', coalesce(text, '') || ' ' || coalesce(claimant, '')) "
    "@@ plainto_tsquery('english', :search_q) "
    "UNION SELECT e.claim_id FROM evidence e JOIN passage p ON p.id = e.passage_id "
    "WHERE to_tsvector('english', p.text) @@ plainto_tsquery('english', :search_q)"
)
_SQLITE_MATCH = "SELECT claim_id FROM claim_search WHERE claim_search MATCH :search_q"


@dataclass(frozen=True)
class ClaimFilter:
    """What the claims list shows; every field empty means every claim."""

    q: str | None = None
    status: str | None = None
    tag: str | None = None
    claimant: str | None = None


class ClaimRow(BaseModel):
    id: int
    text: str
    claimant: str | None
    status: str
    tags: list[str]
    created_at: datetime
    duplicate_of_id: int | None = None
    duplicate_of_text: str | None = None
    rating: str | None = None  # the published verdict's
    priority: int | None = None  # the review task's, once there is one
    task_state: str | None = None
    verify_requested: bool = False


@dataclass
class ClaimPage:
    rows: list[ClaimRow] = field(default_factory=list)
    total: int = 0


def fts5_query(q: str) -> str:
    """The words of ``q`` as quoted FTS5 terms (all required): what a user types is never
    FTS5 syntax, so ``"``, ``*``, ``NEAR`` or ``-`` cannot break or widen the query."""
    return " ".join(f'"{word}"' for word in _WORD.findall(q))


def _text_condition(q: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        match = text(_PG_MATCH).bindparams(search_q=q)
    else:
        terms = fts5_query(q)
        if not terms:
            return false()
        match = text(_SQLITE_MATCH).bindparams(search_q=terms)
    return col(Claim.id).in_(match.columns(claim_id=Integer))


def _tag_condition(tag: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return cast(Claim.tags, JSONB).contains([tag])
    return text(
        "EXISTS (SELECT 1 FROM json_each(claim.tags) WHERE json_each.value = :search_tag)"
    ).bindparams(search_tag=tag)  # type: ignore[return-value]


def _conditions(session: Session, filters: ClaimFilter) -> list[ColumnElement[bool]]:
    dialect = session.get_bind().dialect.name
    where: list[ColumnElement[bool]] = []
    if filters.status:
        if filters.status not in CLAIM_STATUSES:
            raise BadInput(f"Unknown status {filters.status!r}.")
        where.append(col(Claim.status) == filters.status)
    if filters.claimant and filters.claimant.strip():
        where.append(func.lower(Claim.claimant) == filters.claimant.strip().lower())
    if filters.tag and filters.tag.strip():
        where.append(_tag_condition(filters.tag.strip(), dialect))
    if filters.q and filters.q.strip():
        where.append(_text_condition(filters.q.strip(), dialect))
    return where


def search_claims(
    session: Session, filters: ClaimFilter, *, limit: int = 50, offset: int = 0
) -> ClaimPage:
    """One page of matching claims, newest first, with what the list shows of each."""
    where = _conditions(session, filters)
    total = session.exec(select(func.count()).select_from(Claim).where(*where)).one()
    claims = session.exec(
        select(Claim)
        .where(*where)
        .order_by(col(Claim.created_at).desc(), col(Claim.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return ClaimPage(rows=_rows(session, list(claims)), total=int(total))


def _rows(session: Session, claims: list[Claim]) -> list[ClaimRow]:
    ids = [c.id for c in claims if c.id is not None]
    originals = [c.duplicate_of_id for c in claims if c.duplicate_of_id is not None]
    tasks = {
        t.claim_id: t
        for t in session.exec(select(ReviewTask).where(col(ReviewTask.claim_id).in_(ids))).all()
    }
    ratings: dict[int, str] = {}
    for verdict in session.exec(
        select(Verdict)
        .where(col(Verdict.claim_id).in_(ids), Verdict.state == "published")
        .order_by(col(Verdict.created_at))
    ).all():
        ratings[verdict.claim_id] = verdict.rating  # the latest published wins
    texts = dict(
        session.exec(select(Claim.id, Claim.text).where(col(Claim.id).in_(originals))).all()
    )
    rows = []
    for claim in claims:
        assert claim.id is not None
        task = tasks.get(claim.id)
        rows.append(
            ClaimRow(
                id=claim.id,
                text=claim.text,
                claimant=claim.claimant,
                status=claim.status,
                tags=list(claim.tags),
                created_at=claim.created_at,
                duplicate_of_id=claim.duplicate_of_id,
                duplicate_of_text=texts.get(claim.duplicate_of_id),
                rating=ratings.get(claim.id),
                priority=task.priority if task else None,
                task_state=task.state if task else None,
                verify_requested=claim.status == "new" and VERIFY_REQUESTED in claim.tags,
            )
        )
    return rows


def claim_ids(session: Session, filters: ClaimFilter) -> list[int]:
    """Every matching claim id, oldest first (what ``verify-batch --status`` verifies)."""
    where = _conditions(session, filters)
    ids = session.exec(select(Claim.id).where(*where).order_by(col(Claim.id))).all()
    return [i for i in ids if i is not None]


# -- bulk actions ---------------------------------------------------------------------------


def _claims(session: Session, ids: list[int]) -> list[Claim]:
    if not ids:
        raise BadInput("Select at least one claim.")
    return list(session.exec(select(Claim).where(col(Claim.id).in_(ids))).all())


def clean_tag(tag: str) -> str:
    tag = " ".join(tag.split())
    if not tag:
        raise BadInput("Give a tag.")
    if len(tag) > MAX_TAG_LENGTH:
        raise BadInput(f"A tag has at most {MAX_TAG_LENGTH} characters.")
    return tag


def add_tag(session: Session, ids: list[int], tag: str, *, actor: str) -> int:
    """Add ``tag`` to each claim that lacks it (audited); returns how many changed."""
    tag = clean_tag(tag)
    changed = 0
    for claim in _claims(session, ids):
        if tag not in claim.tags and claim.id is not None:
            claim.tags = [*claim.tags, tag]  # a new list: the JSON column sees the change
            session.add(claim)
            event = audit.ClaimTagged(claim_id=claim.id, tag=tag)
            audit.record(session, event, actor=actor, rows=[claim])
            changed += 1
    return changed


def set_priority(session: Session, ids: list[int], priority: int, *, actor: str) -> tuple[int, int]:
    """Set the review priority of the selected claims that have a review task; returns
    (changed, without a task): a claim not yet verified has no place in the queue yet."""
    if not -1000 <= priority <= 1000:
        raise BadInput("Priority is a whole number from -1000 to 1000.")
    claims = _claims(session, ids)
    tasks = session.exec(
        select(ReviewTask).where(col(ReviewTask.claim_id).in_([c.id for c in claims]))
    ).all()
    for task in tasks:
        previous, task.priority = task.priority, priority
        session.add(task)
        assert task.id is not None
        event = audit.TaskPrioritySet(
            claim_id=task.claim_id, task_id=task.id, priority=priority, previous=previous
        )
        audit.record(session, event, actor=actor, rows=[task])
    return len(tasks), len(claims) - len(tasks)


def request_verification(session: Session, ids: list[int], *, actor: str) -> tuple[int, int]:
    """Mark the selected ``new`` claims for the next ``verify-batch``; returns (marked,
    skipped because not new)."""
    claims = _claims(session, ids)
    fresh = [c.id for c in claims if c.status == "new" and c.id is not None]
    marked = add_tag(session, fresh, VERIFY_REQUESTED, actor=actor) if fresh else 0
    return marked, len(claims) - len(fresh)


def page_summary(page: ClaimPage) -> dict[str, Any]:
    """The JSON API's shape of a page."""
    return {"total": page.total, "claims": [row.model_dump(mode="json") for row in page.rows]}
