"""Fixtures of the web tests: the app on the test database, an in-process client, a live
uvicorn server on 127.0.0.1 for the browser, and headless Chromium.

In-process tests go through httpx's ASGI transport (the allowed seam); the browser tests
talk to a real server in a thread. The browser tests stay synchronous: Playwright's sync
API refuses to run inside a running event loop.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlmodel import Session

from evidence.db import session_scope
from tests.conftest import DB

T = TypeVar("T")
BASE = "http://127.0.0.1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def app(db: DB) -> FastAPI:
    from verdicts.web.app import create_app

    return create_app()


@pytest.fixture
def session(db: DB) -> Iterator[Session]:
    """A committed-on-exit transaction for building test data."""
    with session_scope(db.engine) as s:
        yield s


@contextmanager
def data(db: DB) -> Iterator[Session]:
    with session_scope(db.engine) as s:
        yield s


def run(app: FastAPI, fn: Callable[[httpx.AsyncClient], Awaitable[T]], base: str = BASE) -> T:
    """Run ``fn`` with an in-process client of ``app`` (one event loop per call)."""

    async def main() -> T:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            return await fn(client)

    return asyncio.run(main())


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def login(client: httpx.AsyncClient, name: str, password: str) -> str:
    """Sign in through the form; returns the session's CSRF token for later posts."""
    page = await client.get("/login")
    response = await client.post(
        "/login", data={"name": name, "password": password, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 303, response.text
    queue = await client.get("/queue")
    assert queue.status_code == 200, queue.text
    return csrf_of(queue.text)


# -- a real server for the browser ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Live:
    url: str
    db: DB


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live(db: DB) -> Iterator[Live]:
    from verdicts.web.app import create_app

    with serve(create_app()) as url:
        yield Live(url, db)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
