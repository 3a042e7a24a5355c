"""Server-side sessions: a signed-in browser is a row that can be ended at once.

The browser holds a random token (in the signed cookie); the table holds only its SHA-256,
so a copy of the database signs nobody in. A session lives until the first of: its absolute
expiry, an idle period without requests, logout, or an end decided elsewhere — its user's
password or role changed, the user was deactivated, or an admin revoked it. Every early end
is audited (``session.ended``); a cookie that names an ended session is no session at all.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlmodel import Session, col, select

from evidence import audit
from evidence.audit.events import SessionEnded
from evidence.errors import NotFound
from evidence.models import User, UserSession
from evidence.types import utcnow

TOKEN_BYTES = 32
TOUCH_EVERY = timedelta(seconds=60)  # last-seen is written at most this often per session
USER_AGENT_CHARS = 300


class SessionPublic(BaseModel):
    """A session as the admin page and ``factcheck user sessions`` show it."""

    id: int
    user_id: int
    user_name: str
    address: str | None
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None
    live: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session,
    user: User,
    *,
    address: str | None,
    user_agent: str | None,
    lifetime: timedelta,
    now: datetime | None = None,
) -> tuple[UserSession, str]:
    """A new session for ``user``; returns the row and the token (the cookie's, never stored)."""
    assert user.id is not None
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = UserSession(
        token_hash=hash_token(token),
        user_id=user.id,
        address=address,
        user_agent=(user_agent or "")[:USER_AGENT_CHARS] or None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    session.flush()
    return row, token


def is_live(row: UserSession, now: datetime, idle: timedelta | None = None) -> bool:
    if row.revoked_at is not None or row.expires_at <= now:
        return False
    return idle is None or row.last_seen_at + idle > now


def session_user(
    session: Session, token: str, *, idle: timedelta, now: datetime | None = None
) -> tuple[UserSession, User] | None:
    """The live session behind ``token`` and its active user, else None; notes the visit."""
    if not token:
        return None
    now = now or utcnow()
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None or not is_live(row, now, idle):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return row, user


def find_session(session: Session, token: str) -> UserSession | None:
    return session.exec(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).first()


def end_session(
    session: Session, row: UserSession, *, reason: str, actor: str, now: datetime | None = None
) -> bool:
    """End one session (audited); False when it had already ended."""
    now = now or utcnow()
    if not is_live(row, now):
        return False
    assert row.id is not None
    row.revoked_at, row.revoked_reason = now, reason
    session.add(row)
    audit.record(
        session, SessionEnded(session_id=row.id, user_id=row.user_id, reason=reason), actor=actor
    )
    return True


def end_user_sessions(
    session: Session, user_id: int, *, reason: str, actor: str, now: datetime | None = None
) -> int:
    """End every live session of a user at once; returns how many were ended."""
    now = now or utcnow()
    rows = session.exec(
        select(UserSession).where(
            UserSession.user_id == user_id,
            col(UserSession.revoked_at).is_(None),
            col(UserSession.expires_at) > now,
        )
    ).all()
    return sum(end_session(session, row, reason=reason, actor=actor, now=now) for row in rows)


def revoke_session(session: Session, session_id: int, *, actor: str) -> UserSession:
    """An admin ends one session; NotFound if there is no such session."""
    row = session.get(UserSession, session_id)
    if row is None:
        raise NotFound("session", session_id)
    end_session(session, row, reason="revoked by an admin", actor=actor)
    return row


def list_sessions(
    session: Session,
    *,
    user_id: int | None = None,
    include_ended: bool = False,
    idle: timedelta | None = None,
    now: datetime | None = None,
) -> list[SessionPublic]:
    """Sessions, newest first: the live ones, or all with ``include_ended``."""
    now = now or utcnow()
    query = select(UserSession, User).join(User, col(User.id) == UserSession.user_id)
    if user_id is not None:
        query = query.where(UserSession.user_id == user_id)
    if not include_ended:
        query = query.where(
            col(UserSession.revoked_at).is_(None), col(UserSession.expires_at) > now
        )
    rows = session.exec(query.order_by(col(UserSession.created_at).desc())).all()
    out = []
    for row, user in rows:
        live = is_live(row, now, idle) and user.active
        if live or include_ended:
            out.append(SessionPublic(**row.model_dump(), user_name=user.name, live=live))
    return out
