"""Who is asking: signed session cookies for pages, bearer tokens for the JSON API, CSRF.

The session lives in one signed cookie (itsdangerous): the user id, this session's CSRF
token and pending flash messages. It is HttpOnly and SameSite=Lax, and Secure unless the
app is reached on a loopback name. Every page request gets a session, signed in or not,
so the login form carries a CSRF token too; signing in rotates the token.

Every POST to a page must carry the session's token in the ``csrf_token`` form field,
compared in constant time; without it the request is refused with 403. The JSON API takes
no cookies, only ``Authorization: Bearer <token>``, so cross-site forms cannot reach it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from evidence.actors import user_actor
from evidence.db import session_scope
from evidence.errors import Forbidden
from evidence.models import User
from verdicts import users
from verdicts.web.config import (
    API_PREFIX,
    CSRF_FIELD,
    CSRF_TOKEN_BYTES,
    LOCAL_HOSTS,
    MAX_FLASH_MESSAGES,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    SESSION_SALT,
)
from verdicts.web.errors import CsrfRejected, Unauthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_LANDING = "/queue"
WRITE_EXEMPT = frozenset({"/login", "/logout"})  # signing in and out changes no data


@dataclass
class WebSession:
    """What the session cookie holds; ``dirty`` marks a change the response must carry."""

    uid: int | None = None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(CSRF_TOKEN_BYTES))
    flashes: list[str] = field(default_factory=list)
    dirty: bool = True

    def dump(self) -> dict[str, Any]:
        return {"u": self.uid, "c": self.csrf, "f": self.flashes[-MAX_FLASH_MESSAGES:]}

    @classmethod
    def load(cls, data: Any) -> WebSession | None:
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        uid = data.get("u")
        flashes = [str(m) for m in data.get("f") or [] if isinstance(m, str)]
        return cls(uid if isinstance(uid, int) else None, data["c"], flashes, dirty=False)


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


def sign_in(request: Request, user: User) -> None:
    """Bind the session to ``user`` with a fresh CSRF token (no token fixation)."""
    session = session_of(request)
    session.uid = user.id
    session.csrf = secrets.token_urlsafe(CSRF_TOKEN_BYTES)
    session.dirty = True


def sign_out(request: Request) -> None:
    session = session_of(request)
    session.uid = None
    session.csrf = secrets.token_urlsafe(CSRF_TOKEN_BYTES)
    session.flashes = []
    session.dirty = True


def safe_next(target: str | None) -> str:
    """Only same-site paths may be a post-login destination (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return DEFAULT_LANDING
    return target


# -- dependencies ---------------------------------------------------------------------------


def _load_user(request: Request, uid: int) -> User | None:
    with session_scope(request.app.state.engine) as db:
        user = db.get(User, uid)
    return user if user is not None and user.active else None


def page_user(request: Request) -> User:
    """The signed-in user of a page request; otherwise off to the login page."""
    uid = session_of(request).uid
    user = _load_user(request, uid) if uid is not None else None
    if user is None:
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
