"""Team notes on a claim and the assignment of its review task to a named reviewer.

Notes are for the desk, not the public: they are never part of the ClaimReview export or
an evidence bundle's derived files. The chain still proves them: each ``comment.added``
event carries the note's SHA-256 and length (not its text, since a claim's events travel
in its bundle), and ``claim_comment`` is listed as not vouched in ``evidence.audit.rows``.

Assignment names who should take a claim next (``ReviewTask.assigned_to``); it is a hint
that orders that reviewer's queue, not a lease: it does not bump the task's version, so a
reviewer already deciding is not refused because an editor assigned the claim meanwhile.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from evidence import audit, claims
from evidence.audit.events import CommentAdded, TaskAssigned
from evidence.errors import BadInput, NotFound
from evidence.models import ClaimComment, ReviewTask, User
from verdicts import queue, users

MAX_COMMENT_CHARS = 4000


class CommentPublic(BaseModel):
    id: int
    claim_id: int
    parent_id: int | None
    author: str
    text: str
    created_at: datetime
    replies: list[CommentPublic] = []


def add_comment(
    session: Session,
    claim_id: int,
    *,
    author: str,
    text: str,
    parent_id: int | None = None,
    actor: str,
) -> ClaimComment:
    """A note by ``author`` (a user who may decide) on a claim, optionally a reply."""
    claims.get_claim(session, claim_id)
    users.user_with(session, author, users.DECIDE)
    body = (text or "").strip()
    if not body:
        raise BadInput("The note is empty.")
    if len(body) > MAX_COMMENT_CHARS:
        raise BadInput(f"A note can have at most {MAX_COMMENT_CHARS} characters.")
    if parent_id is not None:
        parent = session.get(ClaimComment, parent_id)
        if parent is None or parent.claim_id != claim_id:
            raise NotFound("note on this claim", parent_id)
    comment = ClaimComment(claim_id=claim_id, parent_id=parent_id, author=author, text=body)
    session.add(comment)
    session.flush()
    assert comment.id is not None
    event = CommentAdded(
        claim_id=claim_id,
        comment_id=comment.id,
        parent_id=parent_id,
        author=author,
        text_sha256=hashlib.sha256(body.encode()).hexdigest(),
        chars=len(body),
    )
    audit.record(session, event, actor=actor)
    return comment


def thread(session: Session, claim_id: int) -> list[CommentPublic]:
    """The claim's notes as a tree, oldest first at every level."""
    rows = session.exec(
        select(ClaimComment)
        .where(col(ClaimComment.claim_id) == claim_id)
        .order_by(col(ClaimComment.created_at), col(ClaimComment.id))
    ).all()
    nodes = {row.id: CommentPublic(**row.model_dump()) for row in rows}
    roots: list[CommentPublic] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        (parent.replies if parent is not None else roots).append(node)
    return roots


def assignees(session: Session) -> list[str]:
    """Names a claim can be assigned to: active users whose role may decide."""
    rows = session.exec(
        select(User).where(col(User.active).is_(True)).order_by(col(User.name))
    ).all()
    return [row.name for row in rows if users.can(row, users.DECIDE)]


def assign(
    session: Session, claim_id: int, *, assignee: str | None, editor: str, actor: str
) -> ReviewTask:
    """Assign the claim's review task to ``assignee`` (None or "" clears it); editors only."""
    users.user_with(session, editor, users.APPROVE)
    task = queue.task_for_claim(session, claim_id)
    if task is None or task.id is None:
        raise NotFound("review task for claim", claim_id)
    name = (assignee or "").strip().lstrip("@") or None
    if name is not None:
        person = users.find_user(session, name)
        if person is None or not users.can(person, users.DECIDE):
            raise BadInput(f"{name} is not a user who can review claims.")
    if task.state == "done":
        raise BadInput(f"Claim {claim_id} is decided; there is nothing to assign.")
    previous = task.assigned_to
    if previous == name:
        return task
    task.assigned_to = name
    session.add(task)
    session.flush()
    event = TaskAssigned(claim_id=claim_id, task_id=task.id, assigned_to=name, previous=previous)
    audit.record(session, event, actor=actor, rows=[task])
    return task
