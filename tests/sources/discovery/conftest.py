"""A real HTTP server on 127.0.0.1 that answers like the APIs discovery talks to.

Each test registers the answers it needs (``api.json("/w/api.php", {...})``,
``api.route("/feed.xml", body, content_type=...)``, a handler function for answers that
depend on the query string, or ``delay_s`` for a hang); the server records every request
so a test can check what the adapter asked. Started once per session; routes are cleared
before each test.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from evidence.settings import Settings
from sources.discovery.base import Adapter, DiscoveryOutput, DiscoveryRequest
from sources.fetch import AsyncFetcher


@dataclass
class Answer:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    delay_s: float = 0.0


Handler = Callable[[dict[str, str]], Answer]


@dataclass
class ApiServer:
    base: str
    routes: dict[str, Answer | Handler] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def route(self, path: str, answer: Answer | Handler | bytes | str, **kw: Any) -> str:
        if isinstance(answer, str):
            answer = answer.encode()
        if isinstance(answer, bytes):
            answer = Answer(answer, **kw)
        self.routes[path] = answer
        return self.url(path)

    def json(self, path: str, value: Any, status: int = 200) -> str:
        return self.route(path, Answer(json.dumps(value).encode(), status=status))

    def asked(self, path: str) -> list[dict[str, str]]:
        """The query strings of the requests made to ``path``, in order."""
        with self.lock:
            return [query for p, query in self.requests if p == path]

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.requests.clear()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        api = self.server.api
        with api.lock:
            api.requests.append((parts.path, query))
            answer = api.routes.get(parts.path)
        if answer is None:
            answer = Answer(b"<html><body>not found</body></html>", 404, "text/html")
        elif not isinstance(answer, Answer):
            answer = answer(query)
        if answer.delay_s:
            time.sleep(answer.delay_s)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    api: ApiServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a hanging answer closed its socket: expected


@pytest.fixture(scope="session")
def api_server() -> Iterator[ApiServer]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = ApiServer(base=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.api
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(api_server: ApiServer) -> ApiServer:
    api_server.reset()
    return api_server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings that let the safe fetcher reach this server and keep tests fast."""
    return Settings(
        allowed_networks=["127.0.0.0/8"],
        per_host_delay_s=0,
        respect_robots=False,
        max_retries=0,
        data_dir=tmp_path / "data",
        adapter_timeout_s=5.0,
        max_candidates=30,
        factcheck_api_key="test-key-123",
        sources=[],
    )


@pytest.fixture
def run_adapter(settings: Settings) -> Callable[[Adapter, DiscoveryRequest], DiscoveryOutput]:
    """Run one adapter against the real server through the real safe fetcher."""

    def run(adapter: Adapter, request: DiscoveryRequest) -> DiscoveryOutput:
        async def go() -> DiscoveryOutput:
            async with AsyncFetcher(settings) as fetcher:
                return await adapter.run(request, fetcher)

        return asyncio.run(go())

    return run
