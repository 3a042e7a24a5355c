"""Server-side sessions: a cookie names a session row, and ending the row ends the session.

Logout, a password or role change, deactivation and an admin's revocation all end it at
once; a cookie copied before is then worth the login page. Sign-in always starts a new
session id.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from evidence.db import session_scope
from evidence.models import AuditEvent, UserSession
from tests.conftest import DB
from tests.verdicts.web.conftest import Live, csrf_of, data, login, run
from tests.verdicts.web.factories import make_user
from verdicts import sessions, users
from verdicts.web.config import SESSION_COOKIE, SESSION_IDLE_S, SESSION_MAX_AGE_S

ADMIN = "cli:root"


@dataclass
class Clock:
    now: datetime = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def sid_of(app: FastAPI, cookie: str) -> str | None:
    """The session token inside a signed cookie (what a thief who copied it holds)."""
    data: dict[str, Any] = app.state.signer.loads(cookie)
    return data.get("s")


async def replay(app: FastAPI, cookie: str, path: str = "/queue") -> httpx.Response:
    """A fresh client that only holds a copied cookie."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as other:
        other.cookies.set(SESSION_COOKIE, cookie)
        return await other.get(path)


def signed_in_cookie(app: FastAPI, name: str, password: str) -> str:
    async def go(client: httpx.AsyncClient) -> str:
        await login(client, name, password)
        return client.cookies[SESSION_COOKIE]

    return run(app, go)


def is_login_page(response: httpx.Response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_cookie_replayed_after_logout_gets_the_login_page(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")

    async def go(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        token = await login(client, reviewer.name, reviewer.password)
        copied = client.cookies[SESSION_COOKIE]
        before = await replay(app, copied)  # the copy works while the session lives
        await client.post("/logout", data={"csrf_token": token})
        return before, await replay(app, copied)

    before, after = run(app, go)
    assert before.status_code == 200 and reviewer.name in before.text
    assert is_login_page(after)
    with data(db) as s:
        row = s.exec(select(UserSession)).one()
        ended = s.exec(select(AuditEvent).where(AuditEvent.action == "session.ended")).one()
    assert row.revoked_reason == "logout" and row.revoked_at is not None
    expected = {"session_id": row.id, "user_id": reviewer.user.id, "reason": "logout"}
    assert {k: ended.payload.get(k) for k in expected} == expected
    assert ended.actor == f"web:{reviewer.name}"


def test_the_database_holds_only_a_hash_of_the_session_id(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        editor = make_user(s, "editor")
    cookie = signed_in_cookie(app, editor.name, editor.password)
    sid = sid_of(app, cookie)
    assert sid and len(sid) >= 40
    with data(db) as s:
        row = s.exec(select(UserSession)).one()
        login_event = s.exec(select(AuditEvent).where(AuditEvent.action == "login.succeeded")).one()
    assert row.token_hash == sessions.hash_token(sid) and sid not in row.model_dump_json()
    assert row.user_id == editor.user.id and row.address == "127.0.0.1"
    assert row.expires_at - row.created_at == timedelta(seconds=SESSION_MAX_AGE_S)
    assert login_event.payload["session_id"] == row.id and sid not in str(login_event.payload)


def test_sign_in_starts_a_new_session_id_each_time(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")

    async def go(client: httpx.AsyncClient) -> list[str | None]:
        anonymous = client.cookies.get(SESSION_COOKIE) or ""
        await client.get("/login")
        ids = [sid_of(app, client.cookies[SESSION_COOKIE])]
        await login(client, reviewer.name, reviewer.password)
        ids.append(sid_of(app, client.cookies[SESSION_COOKIE]))
        first_cookie = client.cookies[SESSION_COOKIE]
        await login(client, reviewer.name, reviewer.password)  # again, in the same browser
        ids.append(sid_of(app, client.cookies[SESSION_COOKIE]))
        ids.append("replayed" if is_login_page(await replay(app, first_cookie)) else anonymous)
        return ids

    before, first, second, replayed = run(app, go)
    assert before is None and first and second and first != second
    assert replayed == "replayed"  # the session it replaced has ended
    with data(db) as s:
        rows = s.exec(select(UserSession).order_by(UserSession.id)).all()
    assert [r.revoked_reason for r in rows] == ["replaced by a new sign-in", None]


def test_a_second_browser_keeps_its_own_session(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
    laptop = signed_in_cookie(app, reviewer.name, reviewer.password)
    phone = signed_in_cookie(app, reviewer.name, reviewer.password)
    assert sid_of(app, laptop) != sid_of(app, phone)
    assert asyncio.run(replay(app, laptop)).status_code == 200
    assert asyncio.run(replay(app, phone)).status_code == 200


def test_password_role_change_and_deactivation_end_sessions_at_once(app: FastAPI, db: DB) -> None:
    changes = {
        "password": lambda s, n: users.set_password(s, n, password="a new one!", actor=ADMIN),
        "role": lambda s, n: users.set_role(s, n, role="auditor", actor=ADMIN),
        "deactivated": lambda s, n: users.set_active(s, n, active=False, actor=ADMIN),
    }
    with data(db) as s:
        people = {kind: make_user(s, "editor") for kind in changes}
        bystander = make_user(s, "editor")
    cookies = {kind: signed_in_cookie(app, p.name, p.password) for kind, p in people.items()}
    untouched = signed_in_cookie(app, bystander.name, bystander.password)
    for kind, change in changes.items():
        assert asyncio.run(replay(app, cookies[kind])).status_code == 200
        with session_scope(db.engine) as s:
            change(s, people[kind].name)
        assert is_login_page(asyncio.run(replay(app, cookies[kind]))), kind
    assert asyncio.run(replay(app, untouched)).status_code == 200
    with data(db) as s:
        reasons = sorted(
            r.revoked_reason or "" for r in s.exec(select(UserSession)).all() if r.revoked_at
        )
    assert reasons == ["password changed", "role changed", "user deactivated"]


def test_a_session_ends_after_idling_and_at_its_expiry(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
    clock = Clock()
    app.state.clock = clock
    cookie = signed_in_cookie(app, reviewer.name, reviewer.password)
    step = timedelta(seconds=SESSION_IDLE_S - 60)
    for _ in range(SESSION_MAX_AGE_S // int(step.total_seconds())):  # active all day long
        clock.now += step
        assert asyncio.run(replay(app, cookie)).status_code == 200
    clock.now += step  # past the absolute expiry, though never idle
    assert is_login_page(asyncio.run(replay(app, cookie)))

    idle_cookie = signed_in_cookie(app, reviewer.name, reviewer.password)
    clock.now += timedelta(seconds=SESSION_IDLE_S + 1)
    assert is_login_page(asyncio.run(replay(app, idle_cookie)))


def test_an_old_stateless_cookie_is_no_session(app: FastAPI, db: DB) -> None:
    """Before server-side sessions the cookie carried the user id: one signed that way (by
    someone holding the key, or kept from before) must sign nobody in now."""
    with data(db) as s:
        admin = make_user(s, "admin")
    forged = app.state.signer.dumps({"u": admin.user.id, "c": "x" * 43, "f": []})
    assert is_login_page(asyncio.run(replay(app, forged)))
    unknown = app.state.signer.dumps({"s": "made-up-session-id", "c": "x" * 43, "f": []})
    assert is_login_page(asyncio.run(replay(app, unknown)))


# -- the admins' page -----------------------------------------------------------------------


def test_an_admin_lists_and_revokes_sessions(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        admin, reviewer = make_user(s, "admin"), make_user(s, "reviewer")
        other = make_user(s, "editor")
    victim_cookie = signed_in_cookie(app, reviewer.name, reviewer.password)
    other_cookies = [signed_in_cookie(app, other.name, other.password) for _ in range(2)]
    with data(db) as s:
        victim_id = s.exec(
            select(UserSession.id).where(UserSession.user_id == reviewer.user.id)
        ).one()

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, admin.name, admin.password)
        listing = await client.get("/admin/sessions")
        no_csrf = await client.post("/admin/sessions/revoke", data={"session_id": victim_id})
        one = await client.post(
            "/admin/sessions/revoke", data={"session_id": victim_id, "csrf_token": token}
        )
        every = await client.post(
            "/admin/sessions/revoke-user", data={"user_id": other.user.id, "csrf_token": token}
        )
        return [listing, no_csrf, one, every, await client.get("/admin/sessions")]

    listing, no_csrf, one, every, after = run(app, go)
    assert listing.status_code == 200
    for person in (admin, reviewer, other):
        assert person.name in listing.text
    assert "(this session)" in listing.text
    assert listing.text.count('action="/admin/sessions/revoke"') == 4
    assert no_csrf.status_code == 403
    assert one.status_code == 303 and every.status_code == 303
    assert f"Session {victim_id} of {reviewer.name} ended." in after.text
    assert is_login_page(asyncio.run(replay(app, victim_cookie)))
    for cookie in other_cookies:
        assert is_login_page(asyncio.run(replay(app, cookie)))
    assert reviewer.name not in after.text.split("<table")[-1]
    with data(db) as s:
        ended = s.exec(select(AuditEvent).where(AuditEvent.action == "session.ended")).all()
    assert {e.actor for e in ended} == {f"web:{admin.name}"} and len(ended) == 3


def test_only_admins_see_or_revoke_sessions(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        editor, reviewer = make_user(s, "editor"), make_user(s, "reviewer")
    cookie = signed_in_cookie(app, reviewer.name, reviewer.password)

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, editor.name, editor.password)
        page = await client.get("/admin/sessions")
        revoke = await client.post(
            "/admin/sessions/revoke-user", data={"user_id": reviewer.user.id, "csrf_token": token}
        )
        return [page, revoke, await client.get("/queue")]

    page, revoke, queue = run(app, go)
    assert page.status_code == 403 and revoke.status_code == 403
    assert 'href="/admin/sessions"' not in queue.text
    assert asyncio.run(replay(app, cookie)).status_code == 200


def test_the_login_form_still_carries_a_csrf_token_before_sign_in(app: FastAPI) -> None:
    async def go(client: httpx.AsyncClient) -> str:
        return csrf_of((await client.get("/login")).text)

    assert len(run(app, go)) >= 40


@pytest.mark.browser
def test_in_chromium_a_cookie_copied_before_logout_is_worth_the_login_page(
    live: Live, browser: Any
) -> None:
    """The journey of the issue: sign in, copy the cookie, sign out, replay it elsewhere."""
    with data(live.db) as s:
        reviewer = make_user(s, "reviewer")
    mine = browser.new_context()
    thief = browser.new_context()
    try:
        page = mine.new_page()
        page.goto(f"{live.url}/login")
        page.fill("input[name=name]", reviewer.name)
        page.fill("input[name=password]", reviewer.password)
        page.click("button:has-text('Sign in')")
        page.wait_for_url(re.compile(r"/queue$"))
        copied = [c for c in mine.cookies() if c["name"] == SESSION_COOKIE]
        assert copied
        thief.add_cookies(copied)
        stolen = thief.new_page()
        stolen.goto(f"{live.url}/queue")
        assert stolen.url == f"{live.url}/queue"  # the copy works while the session lives
        page.click("button:has-text('Sign out')")
        page.wait_for_url(re.compile(r"/login$"))
        stolen.goto(f"{live.url}/queue")
        assert re.search(r"/login\?next=%2Fqueue$", stolen.url), stolen.url
        assert stolen.locator("h1").inner_text() == "Sign in"
    finally:
        mine.close()
        thief.close()
