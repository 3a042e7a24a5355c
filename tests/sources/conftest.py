"""A real HTTP server, several of them: one per loopback address, started once per session.

Each of 127.0.0.1 … 127.0.0.5 gets a threaded ``http.server`` on its own port, serving the
same routes (fixture pages and hostile responses) but a different robots.txt:

=========  ========================================================
127.0.0.1  rules: ``Disallow: /private`` for everyone
127.0.0.2  404 (no robots.txt: everything allowed)
127.0.0.3  404
127.0.0.4  503 (unreachable: everything disallowed)
127.0.0.5  the connection closes without an answer (unreachable)
=========  ========================================================

Every request is logged (arrival time, address, path, headers) so tests can check what
reached the server and when; ``/sleep/<token>`` counts requests in flight per token.
"""

from __future__ import annotations

import asyncio
import gzip
import http.server
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from evidence.settings import Settings
from sources.fetch import AsyncFetcher
from sources.results import FetchResult

ADDRESSES = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
ROBOTS_MODES = {
    "127.0.0.1": "rules",
    "127.0.0.2": "missing",
    "127.0.0.3": "missing",
    "127.0.0.4": "error",
    "127.0.0.5": "crash",
}
ROBOTS_RULES = "User-agent: *\nDisallow: /private\n\nUser-agent: otherbot\nDisallow: /\n"
BOMB_BYTES = 64 * 1024 * 1024  # decompressed size of /bomb
HANDLER_MAX_S = 20.0  # hostile handlers give up after this, whatever the client does

ARTICLE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour reopens after storm repairs | Coastal Herald</title>
<meta property="og:site_name" content="Coastal Herald">
<link rel="canonical" href="https://herald.example/harbour-reopens">
<meta name="author" content="Ada Lovelace">
<meta property="article:published_time" content="2024-03-05T09:30:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Harbour reopens after storm repairs</h1>
<p>The northern harbour reopened on Tuesday after six weeks of repairs to the sea wall,
the port authority said, allowing the fishing fleet of about forty boats to return.</p>
<p>Engineers replaced 120 metres of the wall that the January storm had breached, at a cost
of 2.4 million euros, according to figures published by the regional council.</p>
<p>Fishers said the closure had cost them most of the winter season. "We lost two months,"
said one skipper, who asked not to be named.</p>
</article>
<footer>Copyright Coastal Herald. <a href="/privacy">Privacy</a></footer>
</body></html>
"""
FRENCH_CP1252 = (
    "<html><head><title>Le café du port</title></head><body><p>Le café du port a rouvert "
    "ses portes mardi après les travaux. Les pêcheurs étaient très contents de retrouver "
    "leur café préféré, où l'on sert un thé à la menthe réputé dans toute la région. "
    "Déjà des élèves du lycée voisin y révisent leurs leçons.</p></body></html>"
).encode("cp1252")
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def _gzip_bomb(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    parts.append(packer.flush())
    return b"".join(parts)


@dataclass
class Hit:
    at: float
    address: str
    path: str
    headers: dict[str, str]


@dataclass
class Tracker:
    """What reached the servers; shared by all of them."""

    hits: list[Hit] = field(default_factory=list)
    inflight: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hits_for(self, fragment: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if fragment in h.path]

    def enter(self, key: str) -> None:
        with self.lock:
            self.inflight[key] = self.inflight.get(key, 0) + 1
            self.peak[key] = max(self.peak.get(key, 0), self.inflight[key])

    def leave(self, key: str) -> None:
        with self.lock:
            self.inflight[key] -= 1

    def count(self, key: str) -> int:
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: str, tracker: Tracker, bomb: bytes) -> None:
        super().__init__((address, 0), _Handler)
        self.address = address
        self.tracker = tracker
        self.bomb = bomb
        self.robots_mode = ROBOTS_MODES[address]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        tracker = self.server.tracker
        with tracker.lock:
            tracker.hits.append(
                Hit(time.monotonic(), self.server.address, self.path, dict(self.headers.items()))
            )
        head, _, rest = parts.path.strip("/").partition("/")
        route = getattr(self, "route_" + head.replace("-", "_").replace(".", "_"), None)
        try:
            if route is None:
                self.send_body(404, b"<html><body>not found</body></html>")
            else:
                route(rest, query)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    # -- helpers --

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_body(status, b"", headers={"Location": location})

    # -- routes --

    def route_robots_txt(self, rest: str, query: dict[str, str]) -> None:
        mode = self.server.robots_mode
        if mode == "rules":
            self.send_body(200, ROBOTS_RULES.encode(), "text/plain")
        elif mode == "missing":
            self.send_body(404, b"no robots here", "text/plain")
        elif mode == "error":
            self.send_body(503, b"down", "text/plain")
        else:
            self.close_connection = True
            self.connection.shutdown(2)

    def route_page(self, rest: str, query: dict[str, str]) -> None:
        self.send_body(200, ARTICLE.encode())

    def route_private(self, rest: str, query: dict[str, str]) -> None:
        self.send_body(200, ARTICLE.encode())

    def route_text(self, rest: str, query: dict[str, str]) -> None:
        self.send_body(200, b"plain words, one line of them", "text/plain")

    def route_json(self, rest: str, query: dict[str, str]) -> None:
        self.send_body(200, b'{"answer": 42}', "application/json")

    def route_gzip_page(self, rest: str, query: dict[str, str]) -> None:
        body = gzip.compress(ARTICLE.encode())
        self.send_body(200, body, headers={"Content-Encoding": "gzip"})

    def route_deflate_page(self, rest: str, query: dict[str, str]) -> None:
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw, as IIS sends it
        body = packer.compress(ARTICLE.encode()) + packer.flush()
        self.send_body(200, body, headers={"Content-Encoding": "deflate"})

    def route_sleep(self, rest: str, query: dict[str, str]) -> None:
        key = rest or "default"
        self.server.tracker.enter(key)
        try:
            time.sleep(float(query.get("s", "0.2")))
        finally:
            self.server.tracker.leave(key)
        self.send_body(200, ARTICLE.encode())

    def route_status(self, rest: str, query: dict[str, str]) -> None:
        code = int(rest.split("/", 1)[0])
        self.send_body(code, f"<html><body>status {code}</body></html>".encode())

    def route_flaky(self, rest: str, query: dict[str, str]) -> None:
        """The first ``fail`` requests per token answer ``code`` (with Retry-After if asked)."""
        seen = self.server.tracker.count(rest)
        if seen <= int(query.get("fail", "1")):
            headers = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
            self.send_body(int(query.get("code", "503")), b"try later", "text/plain", headers)
        else:
            self.send_body(200, ARTICLE.encode())

    def route_drip(self, rest: str, query: dict[str, str]) -> None:
        interval = float(query.get("interval", "0.2"))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        self.close_connection = True
        stop = time.monotonic() + HANDLER_MAX_S
        while time.monotonic() < stop:
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(interval)

    def route_endless(self, rest: str, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        block = b"<p>" + b"more " * 13_000 + b"</p>\n"
        stop = time.monotonic() + HANDLER_MAX_S
        while time.monotonic() < stop:
            self.wfile.write(block)

    def route_bomb(self, rest: str, query: dict[str, str]) -> None:
        self.send_body(200, self.server.bomb, headers={"Content-Encoding": "gzip"})

    def route_lying_length(self, rest: str, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "50000")
        self.end_headers()
        self.wfile.write(b"<html><body><p>short</p>")
        self.wfile.flush()
        self.close_connection = True

    def route_wrong_charset(self, rest: str, query: dict[str, str]) -> None:
        self.send_body(200, FRENCH_CP1252, "text/html; charset=utf-8")

    def route_binary(self, rest: str, query: dict[str, str]) -> None:
        self.send_body(200, PNG_BYTES, "text/html")

    def route_pdf(self, rest: str, query: dict[str, str]) -> None:
        self.send_body(200, b"%PDF-1.4 not really", "application/pdf")

    def route_loop(self, rest: str, query: dict[str, str]) -> None:
        self.redirect("/loop/b" if rest == "a" else "/loop/a")

    def route_chain(self, rest: str, query: dict[str, str]) -> None:
        hops = int(rest)
        self.redirect(f"/chain/{hops - 1}" if hops > 0 else "/page/after-chain", 301)

    def route_redirect(self, rest: str, query: dict[str, str]) -> None:
        self.redirect(query["to"])

    def route_etag(self, rest: str, query: dict[str, str]) -> None:
        validators = {"ETag": '"v1"', "Last-Modified": "Tue, 05 Mar 2024 09:30:00 GMT"}
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self.send_body(200, ARTICLE.encode(), headers=validators)


@dataclass
class Servers:
    """The running servers; ``url(n, path)`` is ``http://127.0.0.<n>:<port><path>``."""

    by_address: dict[str, _Server]
    tracker: Tracker

    def url(self, n: int, path: str) -> str:
        server = self.by_address[f"127.0.0.{n}"]
        return f"http://127.0.0.{n}:{server.server_address[1]}{path}"

    def port(self, n: int) -> int:
        return int(self.by_address[f"127.0.0.{n}"].server_address[1])


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    tracker = Tracker()
    bomb = _gzip_bomb(BOMB_BYTES)
    running = {address: _Server(address, tracker, bomb) for address in ADDRESSES}
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for s in running.values()
    ]
    for thread in threads:
        thread.start()
    yield Servers(running, tracker)
    for server in running.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for fetch tests: loopback allowed, short timeouts, no politeness delay."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "allowed_networks": ["127.0.0.0/8"],
            "data_dir": tmp_path / "data",
            "per_host_delay_s": 0.0,
            "fetch_deadline_s": 5.0,
            "connect_timeout_s": 2.0,
            "read_timeout_s": 2.0,
            "max_retries": 2,
        }
        values.update(overrides)
        return Settings(**values)

    return make


def fetch_all(settings: Settings, *urls: str, **kwargs: Any) -> list[FetchResult]:
    """Fetch ``urls`` with one fetcher in a fresh event loop."""

    async def run() -> list[FetchResult]:
        async with AsyncFetcher(settings) as fetcher:
            return await fetcher.fetch_many(list(urls), **kwargs)

    return asyncio.run(run())


@pytest.fixture
def fetch() -> Callable[..., list[FetchResult]]:
    return fetch_all
