"""Signing in and out, the session cookie, CSRF, and API tokens."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.conftest import DB
from tests.verdicts.web.conftest import csrf_of, data, login, run
from tests.verdicts.web.factories import make_user
from verdicts.web.config import SESSION_COOKIE


def test_unauthenticated_pages_go_to_the_login_page(app: FastAPI) -> None:
    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await client.get(path) for path in ("/queue", "/claims/1?x=1", "/dashboard")]

    first, second, third = run(app, go)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Fqueue"
    assert second.headers["location"] == "/login?next=%2Fclaims%2F1%3Fx%3D1"
    assert third.headers["location"].startswith("/login")


def test_login_sets_a_hardened_cookie_and_lands_on_next(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")

    async def go(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        page = await client.get("/login?next=/dashboard")
        form = {
            "name": reviewer.name,
            "password": reviewer.password,
            "csrf_token": csrf_of(page.text),
            "next": "/dashboard",
        }
        answer = await client.post("/login", data=form)
        return answer, await client.get("/dashboard")

    answer, dashboard = run(app, go)
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert dashboard.status_code == 200 and reviewer.name in dashboard.text


def test_the_cookie_is_secure_off_loopback(app: FastAPI) -> None:
    async def go(client: httpx.AsyncClient) -> str:
        return (await client.get("/login")).headers["set-cookie"]

    assert "Secure" in run(app, go, base="https://review.example.org")
    assert "Secure" not in run(app, go, base="http://localhost")


def test_wrong_password_unknown_user_and_open_redirects_are_refused(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        editor = make_user(s, "editor")

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = csrf_of((await client.get("/login")).text)
        tries = [
            {"name": editor.name, "password": "wrong password!"},
            {"name": "nobody-here", "password": editor.password},
            {"name": editor.name, "password": editor.password, "next": "//evil.example/x"},
        ]
        return [await client.post("/login", data={**t, "csrf_token": token}) for t in tries]

    wrong, unknown, good = run(app, go)
    assert wrong.status_code == 401 and "Wrong name or password." in wrong.text
    assert unknown.status_code == 401 and SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
    assert good.status_code == 303 and good.headers["location"] == "/queue"


def test_login_rotates_the_csrf_token_and_logout_ends_the_session(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        auditor = make_user(s, "auditor")

    async def go(client: httpx.AsyncClient) -> tuple[str, str, httpx.Response, httpx.Response]:
        before = csrf_of((await client.get("/login")).text)
        after = await login(client, auditor.name, auditor.password)
        out = await client.post("/logout", data={"csrf_token": after})
        return before, after, out, await client.get("/queue")

    before, after, out, queue = run(app, go)
    assert before != after
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert queue.status_code == 303 and queue.headers["location"].startswith("/login")


def test_a_form_without_its_csrf_token_is_refused(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, reviewer.name, reviewer.password)
        return [
            await client.post("/queue/next"),
            await client.post("/queue/next", data={"csrf_token": token[:-2] + "xx"}),
            await client.post("/logout", data={}),
            await client.post("/login", data={"name": reviewer.name, "password": "x"}),
            await client.get("/queue"),  # still signed in: nothing above took effect
        ]

    *refused, queue = run(app, go)
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert "CSRF token" in refused[0].text
    assert queue.status_code == 200


def test_a_tampered_session_cookie_counts_as_no_session(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")

    async def go(client: httpx.AsyncClient) -> httpx.Response:
        await login(client, reviewer.name, reviewer.password)
        value = client.cookies[SESSION_COOKIE]
        client.cookies.set(SESSION_COOKIE, value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB"))
        return await client.get("/queue")

    assert run(app, go).status_code == 303


def test_the_api_wants_a_valid_bearer_token_and_ignores_cookies(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        none = await client.get("/api/queue")
        bad = await client.get("/api/queue", headers={"Authorization": "Bearer nope"})
        good = await client.get("/api/queue", headers={"Authorization": f"Bearer {reviewer.token}"})
        await login(client, reviewer.name, reviewer.password)
        cookie_only = await client.get("/api/queue")
        return [none, bad, good, cookie_only]

    none, bad, good, cookie_only = run(app, go)
    assert none.status_code == 401 and none.json()["error"] == "Unauthenticated"
    assert none.headers["www-authenticate"] == "Bearer"
    assert bad.status_code == 401 and "not valid" in bad.json()["message"]
    assert good.status_code == 200 and good.json() == []
    assert cookie_only.status_code == 401
