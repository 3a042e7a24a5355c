"""Users: roles and permissions, argon2 passwords, API tokens stored as hashes."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import Session, select

from evidence.db import session_scope
from evidence.errors import BadInput, Forbidden, NotFound
from evidence.models import ROLES, AuditEvent, User
from tests.conftest import DB
from verdicts import users

ADMIN = "cli:root"


def test_add_user_returns_a_token_shown_once_and_stores_only_its_hash(db: DB) -> None:
    with session_scope(db.engine) as s:
        user, token = users.add_user(
            s, "alice", role="reviewer", password="s3cret-pass", actor=ADMIN
        )
    assert len(token) >= 40
    with Session(db.engine) as s:
        row = s.exec(select(User).where(User.name == "alice")).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.password_hash or "") and row.password_hash.startswith("$argon2")  # type: ignore[union-attr]
        found = users.user_for_token(s, token)
        assert found is not None and found.name == "alice"
        assert users.user_for_token(s, token + "x") is None
        assert users.user_for_token(s, "") is None
        added = s.exec(select(AuditEvent).where(AuditEvent.action == "user.added")).one()
    assert added.payload == {"user_id": user.id, "name": "alice", "role": "reviewer"}
    assert added.actor == ADMIN


def test_authenticate_checks_the_password(db: DB) -> None:
    with session_scope(db.engine) as s:
        users.add_user(s, "bob", role="editor", password="correct horse", actor=ADMIN)
        users.add_user(s, "tokenonly", role="reviewer", actor=ADMIN)
    with session_scope(db.engine) as s:
        assert users.authenticate(s, "bob", "correct horse") is not None
        assert users.authenticate(s, "bob", "wrong horse") is None
        assert users.authenticate(s, "nobody", "correct horse") is None
        assert users.authenticate(s, "tokenonly", "anything-at-all") is None
        users.set_password(s, "bob", password="battery staple", actor=ADMIN)
    with session_scope(db.engine) as s:
        assert users.authenticate(s, "bob", "correct horse") is None
        assert users.authenticate(s, "bob", "battery staple") is not None


def test_inactive_users_are_refused_everywhere(db: DB) -> None:
    with session_scope(db.engine) as s:
        user, token = users.add_user(s, "gone", role="admin", password="longenough", actor=ADMIN)
        user.active = False
        s.add(user)
    with Session(db.engine) as s:
        assert users.user_for_token(s, token) is None
        assert users.authenticate(s, "gone", "longenough") is None
        assert not users.can(users.get_user(s, "gone"), users.READ)


def test_bad_input_is_refused(db: DB) -> None:
    with session_scope(db.engine) as s:
        users.add_user(s, "carol", role="auditor", actor=ADMIN)
    cases = [
        (dict(name="dave", role="boss"), "Unknown role"),
        (dict(name="has space", role="reviewer"), "not valid"),
        (dict(name="carol", role="reviewer"), "already exists"),
        (dict(name="erin", role="reviewer", password="short"), "shorter than"),
    ]
    for kwargs, message in cases:
        with session_scope(db.engine) as s, pytest.raises(BadInput, match=message):
            users.add_user(s, actor=ADMIN, **kwargs)  # type: ignore[arg-type]
    with Session(db.engine) as s:
        assert [u.name for u in users.list_users(s)] == ["carol"]


def test_set_role_is_audited(db: DB) -> None:
    with session_scope(db.engine) as s:
        users.add_user(s, "fay", role="reviewer", actor=ADMIN)
    with session_scope(db.engine) as s:
        users.set_role(s, "fay", role="editor", actor=ADMIN)
        with pytest.raises(NotFound):
            users.set_role(s, "ghost", role="editor", actor=ADMIN)
    with Session(db.engine) as s:
        assert users.get_user(s, "fay").role == "editor"
        changed = s.exec(select(AuditEvent).where(AuditEvent.action == "user.role")).one()
    assert (changed.payload["old"], changed.payload["new"]) == ("reviewer", "editor")


def test_the_permission_table() -> None:
    allowed = {role: sorted(users.PERMISSIONS[role]) for role in ROLES}
    assert allowed == {
        "reviewer": ["decide", "read"],
        "editor": ["approve", "decide", "read"],
        "auditor": ["read"],
        "admin": ["admin", "approve", "decide", "read"],
    }
    auditor = User(name="audrey", role="auditor")
    assert users.require(auditor, users.READ) is auditor
    with pytest.raises(Forbidden, match="may not decide"):
        users.require(auditor, users.DECIDE)
    with pytest.raises(Forbidden, match="editor or admin"):
        users.require_role(auditor, "editor", "admin")
    assert users.require_role(User(name="ed", role="editor"), "editor", "admin").name == "ed"
