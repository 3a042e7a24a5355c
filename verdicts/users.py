"""People and what they may do: roles, passwords, API tokens, deactivation.

Roles (``evidence.models.ROLES``): a *reviewer* reads and decides claims; an *editor* also
approves verdicts and settles disputes; an *auditor* reads everything and writes nothing;
an *admin* may do everything, including managing users. ``PERMISSIONS`` is the one table
of who may do what; the CLI, the web app and the API all ask ``can``/``require``.

Passwords are hashed with argon2 (argon2-cffi). API tokens are random, shown once, and only
their SHA-256 is stored: a token is a long random secret, so a fast hash is enough and
lets ``user_for_token`` find the user with one indexed look-up. A change of password or
role, and deactivation, end the user's web sessions in the same transaction
(``verdicts.sessions``).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from evidence import audit
from evidence.actors import user_actor
from evidence.audit.events import UserActiveChanged
from evidence.errors import BadInput, Forbidden, NotFound
from evidence.models import ROLES, User
from verdicts.sessions import end_user_sessions

READ, DECIDE, APPROVE, ADMIN = "read", "decide", "approve", "admin"
PERMISSIONS: dict[str, frozenset[str]] = {
    "reviewer": frozenset({READ, DECIDE}),
    "editor": frozenset({READ, DECIDE, APPROVE}),
    "auditor": frozenset({READ}),
    "admin": frozenset({READ, DECIDE, APPROVE, ADMIN}),
}
"""Role -> actions it allows. ``read`` covers every page and export; the others are writes."""

MIN_PASSWORD_CHARS = 8
TOKEN_BYTES = 32
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,119}$")
_hasher = PasswordHasher()
# verified against when the user is unknown, so a miss costs what a hit costs
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


def can(user: User | str, action: str) -> bool:
    """Whether a user (or a role name) may perform ``action`` (read/decide/approve/admin)."""
    role = user if isinstance(user, str) else user.role
    if not isinstance(user, str) and not user.active:
        return False
    return action in PERMISSIONS.get(role, frozenset())


def require(user: User, action: str) -> User:
    """``user`` if its role allows ``action``, else Forbidden with one sentence."""
    if not can(user, action):
        raise Forbidden(f"User {user.name} ({user.role}) may not {action}.")
    return user


def require_role(user: User, *roles: str) -> User:
    """``user`` if it holds one of ``roles`` (and is active), else Forbidden."""
    if not user.active or user.role not in roles:
        raise Forbidden(f"User {user.name} is {user.role}; this needs {' or '.join(roles)}.")
    return user


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name):
        raise BadInput(
            f"The user name {name!r} is not valid; use letters, digits and . _ @ - "
            "(at most 120 characters)."
        )
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise BadInput(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.")
    return role


def _hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise BadInput(f"The password is shorter than {MIN_PASSWORD_CHARS} characters.")
    return _hasher.hash(password)


def find_user(session: Session, name: str) -> User | None:
    return session.exec(select(User).where(User.name == name)).first()


def get_user(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise NotFound("user", name)
    return user


def user_with(session: Session, name: str, action: str) -> User:
    """The active user ``name`` allowed to ``action``; Forbidden if unknown or not allowed."""
    user = find_user(session, name)
    if user is None:
        raise Forbidden(f"There is no user named {name}; add one with `factcheck user add`.")
    return require(user, action)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.name))).all())


def add_user(
    session: Session, name: str, *, role: str, password: str | None = None, actor: str
) -> tuple[User, str]:
    """Create a user; returns it with its API token, which is shown once and never stored."""
    name, role = _check_name(name), _check_role(role)
    if find_user(session, name) is not None:
        raise BadInput(f"A user named {name} already exists.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    user = User(
        name=name,
        role=role,
        password_hash=_hash_password(password) if password is not None else None,
        token_hash=hash_token(token),
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    audit.record(
        session,
        audit.UserAdded(user_id=user.id, name=name, role=role),
        actor=actor,
        rows=[user],
    )
    return user, token


def set_role(session: Session, name: str, *, role: str, actor: str) -> User:
    user, role = get_user(session, name), _check_role(role)
    if user.role != role:
        old, user.role = user.role, role
        session.add(user)
        assert user.id is not None
        audit.record(
            session,
            audit.UserRoleChanged(user_id=user.id, old=old, new=role),
            actor=actor,
            rows=[user],
        )
        end_user_sessions(session, user.id, reason="role changed", actor=actor)
    return user


def set_password(session: Session, name: str, *, password: str, actor: str) -> User:
    user = get_user(session, name)
    user.password_hash = _hash_password(password)
    session.add(user)
    assert user.id is not None
    audit.record(session, audit.UserPasswordChanged(user_id=user.id), actor=actor, rows=[user])
    end_user_sessions(session, user.id, reason="password changed", actor=actor)
    return user


def set_active(session: Session, name: str, *, active: bool, actor: str) -> User:
    """Deactivate a user (every session of theirs ends at once) or activate them again.

    A deactivated user keeps their row, so the audit trail still names them; their password
    and API token stop working until they are activated again.
    """
    user = get_user(session, name)
    if user.active != active:
        user.active = active
        session.add(user)
        assert user.id is not None
        audit.record(
            session,
            UserActiveChanged(user_id=user.id, old=not active, new=active),
            actor=actor,
            rows=[user],
        )
        if not active:
            end_user_sessions(session, user.id, reason="user deactivated", actor=actor)
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user whose password this is, else None; unknown names cost a hash too."""
    user = find_user(session, (name or "").strip())
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        # the same password under today's argon2 parameters: still a change of a vouched row
        user.password_hash = _hasher.hash(password)
        session.add(user)
        assert user.id is not None
        event = audit.UserPasswordChanged(user_id=user.id)  # actor web:NAME: a re-hash
        audit.record(session, event, actor=user_actor(user.name, channel="web"), rows=[user])
    return user


def user_for_token(session: Session, token: str) -> User | None:
    """The active user holding this API token, else None."""
    if not token:
        return None
    user = session.exec(select(User).where(User.token_hash == hash_token(token))).first()
    if user is None or not user.active:
        return None
    return user
