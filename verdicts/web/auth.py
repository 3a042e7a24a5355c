"""Who is asking: server-side sessions for pages, bearer tokens for the JSON API, CSRF.

A page session is a row of ``user_session`` (``verdicts.sessions``); the browser holds one
signed cookie (itsdangerous) with that session's random token, this browser's CSRF token and
pending flash messages. It is HttpOnly and SameSite=Lax, and Secure unless the app is
reached on a loopback name. Every page request gets a cookie, signed in or not, so the login
form carries a CSRF token too; signing in starts a new session (a new token: no fixation)
and rotates the CSRF token. Logout ends the session row, so a copy of the cookie taken
before is worth nothing after; so do a password or role change, deactivation and an
admin's revocation.

Every POST to a page must carry the session's token in the ``csrf_token`` form field,
compared in constant time; without it the request is refused with 403. The JSON API takes
no cookies, only ``Authorization: Bearer <token>``, so cross-site forms cannot reach it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session
from starlette.responses import Response

from evidence.actors import user_actor
from evidence.db import session_scope
from evidence.errors import Forbidden
from evidence.models import User, UserSession
from evidence.types import utcnow
from verdicts import sessions, users
from verdicts.web.config import (
    API_PREFIX,
    CSRF_FIELD,
    CSRF_TOKEN_BYTES,
    LOCAL_HOSTS,
    MAX_FLASH_MESSAGES,
    SESSION_COOKIE,
    SESSION_IDLE_S,
    SESSION_MAX_AGE_S,
    SESSION_SALT,
)
from verdicts.web.errors import CsrfRejected, Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_LANDING = "/queue"
WRITE_EXEMPT = frozenset({"/login", "/logout"})  # signing in and out changes no data


@dataclass
class WebSession:
    """What the session cookie holds; ``dirty`` marks a change the response must carry.

    ``sid`` is the server-side session's token (None: not signed in); whether it still
    names a live session is asked of the database on every request.
    """

    sid: str | None = None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(CSRF_TOKEN_BYTES))
    flashes: list[str] = field(default_factory=list)
    dirty: bool = True

    def dump(self) -> dict[str, Any]:
        return {"s": self.sid, "c": self.csrf, "f": self.flashes[-MAX_FLASH_MESSAGES:]}

    @classmethod
    def load(cls, data: Any) -> WebSession | None:
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        sid = data.get("s")
        flashes = [str(m) for m in data.get("f") or [] if isinstance(m, str)]
        return cls(sid if isinstance(sid, str) else None, data["c"], flashes, dirty=False)


def serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SESSION_SALT)


def _read_cookie(request: Request) -> WebSession | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = request.app.state.signer.loads(raw, max_age=SESSION_MAX_AGE_S)
    except BadSignature:  # tampered, signed with another key, or expired
        return None
    return WebSession.load(data)


def is_local(request: Request) -> bool:
    return (request.url.hostname or "") in LOCAL_HOSTS


def _write_cookie(request: Request, response: Response, session: WebSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        request.app.state.signer.dumps(session.dump()),
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=not is_local(request),
        path="/",
    )


async def session_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Attach the page session to the request; write the cookie back when it changed."""
    if request.url.path.startswith((API_PREFIX, "/static/")):
        return await call_next(request)
    session = _read_cookie(request) or WebSession()
    request.state.web_session = session
    response = await call_next(request)
    if session.dirty:
        _write_cookie(request, response, session)
    return response


def session_of(request: Request) -> WebSession:
    session = getattr(request.state, "web_session", None)
    if session is None:  # an API request rendered as a page (error page): a throwaway
        session = WebSession()
        request.state.web_session = session
    return session


def flash(request: Request, message: str) -> None:
    session = session_of(request)
    session.flashes.append(message)
    session.dirty = True


def pop_flashes(request: Request) -> list[str]:
    session = session_of(request)
    if not session.flashes:
        return []
    messages, session.flashes, session.dirty = session.flashes, [], True
    return messages


def now_of(request: Request) -> datetime:
    """The app's clock (``app.state.clock`` when a test drives time, else UTC now)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def sign_in(request: Request, db: Session, user: User) -> UserSession:
    """Start a new server-side session for ``user`` and a fresh CSRF token (no fixation);
    a session this browser held before ends ("replaced")."""
    web = session_of(request)
    now = now_of(request)
    if web.sid:
        previous = sessions.find_session(db, web.sid)
        if previous is not None:
            actor = actor_of(user)
            sessions.end_session(
                db, previous, reason="replaced by a new sign-in", actor=actor, now=now
            )
    row, token = sessions.start_session(
        db,
        user,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
        lifetime=timedelta(seconds=SESSION_MAX_AGE_S),
        now=now,
    )
    web.sid = token
    web.csrf = secrets.token_urlsafe(CSRF_TOKEN_BYTES)
    web.dirty = True
    return row


def sign_out(request: Request, db: Session) -> None:
    """End this browser's session in the database, then forget it in the cookie."""
    web = session_of(request)
    if web.sid:
        row = sessions.find_session(db, web.sid)
        if row is not None:
            user = db.get(User, row.user_id)
            actor = actor_of(user) if user is not None else "web:unknown"
            sessions.end_session(db, row, reason="logout", actor=actor, now=now_of(request))
    web.sid = None
    web.csrf = secrets.token_urlsafe(CSRF_TOKEN_BYTES)
    web.flashes = []
    web.dirty = True


def safe_next(target: str | None) -> str:
    """Only same-site paths may be a post-login destination (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return DEFAULT_LANDING
    return target


# -- dependencies ---------------------------------------------------------------------------


def _load_user(request: Request, sid: str) -> User | None:
    idle = timedelta(seconds=SESSION_IDLE_S)
    with session_scope(request.app.state.engine) as db:
        found = sessions.session_user(db, sid, idle=idle, now=now_of(request))
    return found[1] if found is not None else None


def page_user(request: Request) -> User:
    """The user of the request's live session; otherwise off to the login page."""
    known = getattr(request.state, "user", None)
    if isinstance(known, User):  # asked twice per write (page_writer, then the route)
        return known
    web = session_of(request)
    user = _load_user(request, web.sid) if web.sid else None
    if user is None:
        if web.sid:  # ended, expired or its user deactivated: forget it
            web.sid, web.dirty = None, True
        raise Unauthenticated("Please sign in.")
    request.state.user = user
    return user


async def verify_csrf(request: Request) -> None:
    """Refuse any unsafe request to a page whose form lacks this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = session_of(request).csrf
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRejected()


bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token, printed once by `factcheck user add`.",
)


def api_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The user behind the request's bearer token."""
    if credentials is None:
        raise Unauthenticated("An API token is required (Authorization: Bearer <token>).")
    with session_scope(request.app.state.engine) as db:
        user = users.user_for_token(db, credentials.credentials)
    if user is None or not user.active:
        raise Unauthenticated("The API token is not valid.")
    request.state.user = user
    return user


def _refuse_read_only(user: User) -> None:
    if not (users.can(user, users.DECIDE) or users.can(user, users.APPROVE)):
        raise Forbidden(f"User {user.name} is {user.role}: read-only, so every change is refused.")


def page_writer(request: Request) -> None:
    """Refuse any page write by a read-only role, before the route reads its form."""
    if request.method in SAFE_METHODS or request.url.path in WRITE_EXEMPT:
        return
    _refuse_read_only(page_user(request))


def api_writer(request: Request, user: Annotated[User, Depends(api_user)]) -> None:
    """Refuse any API write by a read-only role, before the body is validated."""
    if request.method not in SAFE_METHODS:
        _refuse_read_only(user)


def actor_of(user: User, *, channel: str = "web") -> str:
    return user_actor(user.name, channel=channel)
