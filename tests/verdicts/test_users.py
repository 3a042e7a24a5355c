"""Users: roles and permissions, argon2 passwords, API tokens stored as hashes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pty
import signal
import sys
import termios
import time
from datetime import timedelta
from pathlib import Path
from select import select as select_fds

import pytest
from sqlmodel import Session, select

from evidence.db import session_scope
from evidence.errors import BadInput, Forbidden, NotFound
from evidence.models import ROLES, AuditEvent, User
from tests.conftest import DB
from verdicts import sessions, users

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
    expected = {"user_id": user.id, "name": "alice", "role": "reviewer"}
    assert {k: added.payload.get(k) for k in expected} == expected
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


# -- deactivation, sessions, passwords from the command line --------------------------------


def _live_session(db: DB, name: str) -> str:
    """A signed-in browser of ``name``: its session token."""
    with session_scope(db.engine) as s:
        user = users.get_user(s, name)
        _, token = sessions.start_session(
            s, user, address="192.0.2.1", user_agent="test", lifetime=timedelta(hours=1)
        )
    return token


def _signed_in(db: DB, token: str) -> bool:
    with session_scope(db.engine) as s:
        return sessions.session_user(s, token, idle=timedelta(hours=1)) is not None


def test_deactivation_is_audited_refuses_the_user_and_ends_sessions(db: DB) -> None:
    with session_scope(db.engine) as s:
        user, api_token = users.add_user(
            s, "hal", role="editor", password="longenough", actor=ADMIN
        )
    browser = _live_session(db, "hal")
    assert _signed_in(db, browser)
    with session_scope(db.engine) as s:
        users.set_active(s, "hal", active=False, actor=ADMIN)
        users.set_active(s, "hal", active=False, actor=ADMIN)  # twice: one event
    assert not _signed_in(db, browser)
    with Session(db.engine) as s:
        assert users.authenticate(s, "hal", "longenough") is None
        assert users.user_for_token(s, api_token) is None
        changed = s.exec(select(AuditEvent).where(AuditEvent.action == "user.active")).all()
    assert len(changed) == 1
    assert (changed[0].payload["old"], changed[0].payload["new"]) == (True, False)
    with session_scope(db.engine) as s:
        users.set_active(s, "hal", active=True, actor=ADMIN)
    with Session(db.engine) as s:
        assert users.authenticate(s, "hal", "longenough") is not None
    assert not _signed_in(db, browser)  # activation does not bring an ended session back


def test_cli_deactivate_sessions_and_revoke(db: DB, cli) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        users.add_user(s, "ivy", role="reviewer", password="longenough", actor=ADMIN)
    first, second = _live_session(db, "ivy"), _live_session(db, "ivy")
    listed = cli("user", "sessions", "ivy", "--json")
    assert listed.code == 0
    rows = json.loads(listed.out)
    assert len(rows) == 2 and {r["address"] for r in rows} == {"192.0.2.1"}
    assert all(r["live"] and r["user_name"] == "ivy" for r in rows)
    assert first not in listed.out and second not in listed.out
    revoked = cli("user", "revoke-sessions", "ivy")
    assert revoked.code == 0 and "2 session(s) of ivy ended." in revoked.out
    assert not _signed_in(db, first) and not _signed_in(db, second)
    assert cli("user", "sessions", "ivy").err.strip() == "ivy has no live sessions."
    ended = cli("user", "sessions", "ivy", "--all")
    assert ended.out.count("ended (revoked by an admin)") == 2

    third = _live_session(db, "ivy")
    off = cli("user", "deactivate", "ivy")
    assert off.code == 0 and not _signed_in(db, third)
    assert "(inactive)" in cli("user", "list").out
    assert cli("user", "activate", "ivy").code == 0
    assert "(inactive)" not in cli("user", "list").out
    missing = cli("user", "deactivate", "nobody")
    assert missing.code != 0 and "nobody" in missing.err


def test_cli_password_change_ends_sessions(db: DB, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with session_scope(db.engine) as s:
        users.add_user(s, "jay", role="reviewer", password="longenough", actor=ADMIN)
    browser = _live_session(db, "jay")
    monkeypatch.setattr("sys.stdin", io.StringIO("another long one\n"))
    changed = cli("user", "password", "jay")
    assert changed.code == 0 and "sessions have ended" in changed.out
    assert not _signed_in(db, browser)
    with Session(db.engine) as s:
        assert users.authenticate(s, "jay", "another long one") is not None


def test_user_add_asks_for_a_password_at_a_terminal(db: DB) -> None:
    """A real terminal (a pty): the password is asked twice and never echoed."""
    env = {
        **os.environ,
        "FACTCHECK_DATABASE_URL": db.url,
        "FACTCHECK_DATA_DIR": str(db.data_dir),
        "NO_COLOR": "1",
    }
    secret = "typed at the terminal"
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes `factcheck user add` on the pty
        os.execve(FACTCHECK, [FACTCHECK, "user", "add", "kim", "--role", "editor"], env)
    seen = b""
    try:
        for prompt in (b"Password", b"Repeat"):
            seen += _read_until(fd, prompt)
            _wait_for_hidden_input(fd)  # typing earlier would be flushed by getpass
            os.write(fd, secret.encode() + b"\r")
        seen += _read_until(fd, None)
    finally:
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:  # stuck on a prompt: end it rather than hang the run
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert secret.encode() not in seen
    assert b"User kim (editor) added." in seen
    with Session(db.engine) as s:
        assert users.authenticate(s, "kim", secret) is not None


FACTCHECK = str(Path(sys.executable).with_name("factcheck"))


def _wait_for_hidden_input(fd: int, timeout: float = 30) -> None:
    """Until the terminal stops echoing: the program is reading a password."""
    deadline = time.monotonic() + timeout
    while termios.tcgetattr(fd)[3] & termios.ECHO:
        assert time.monotonic() < deadline, "the terminal kept echoing"
        time.sleep(0.02)


def _read_until(fd: int, marker: bytes | None, timeout: float = 60) -> bytes:
    """Read the pty until ``marker`` shows (or, for None, until the child closes it)."""
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select_fds([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return out
        if not chunk:
            return out
        out += chunk
        if marker is not None and marker in out:
            return out
    raise AssertionError(f"no {marker!r} on the terminal: {out!r}")
