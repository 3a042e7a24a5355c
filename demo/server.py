"""Serve a corpus of fictional news sites on loopback addresses, one address per site.

The demo corpus (``flows/corpus``) has eight sites on 127.0.0.2 … 127.0.0.9; a synthetic
benchmark corpus (``demo.synthetic``) has as many as it asks for. Every site listens on the
same port, chosen free at start (or given), so URLs read ``http://127.0.0.3:PORT/…`` and the
site is told apart by the address it was reached on, as separate hosts would be. Linux routes
all of 127.0.0.0/8 to loopback, so nothing needs configuring; the fetcher must be allowed
to reach it (``allowed_networks``).

Each site answers its pages plus ``/robots.txt``, a feed (RSS or Atom), ``/sitemap.xml``
(a plain urlset, or an index of paged urlsets plus a Google News sitemap) and, for the wiki,
``/w/api.php`` (see ``demo.corpus.wikiapi``). Responses carry ETag and Last-Modified and
answer conditional GETs with 304. For benchmarks a latency (plus seeded jitter) is added to
every response; for drift tests pages can be replaced or removed while serving.

Example::

    with CorpusServer() as corpus:
        url = corpus.url("wire", "/rss/world.xml")
        specs = corpus.source_specs()        # ["mediawiki=http://127.0.0.6:PORT/w/api.php", …]
        corpus.set_page("wire", path, new_html)   # drift
        corpus.remove_page("ledger", path)        # now 410 Gone

Standalone: ``python -m demo.server [--port P]`` prints the URLs and serves until
Ctrl-C.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import logging
import random
import re
import signal
import socketserver
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from demo.corpus import feeds, gdeltapi, wikiapi
from demo.corpus.load import load_demo_corpus
from demo.corpus.model import (
    Corpus,
    Entry,
    Page,
    Site,
    resolve_corpus_url,
    resolve_placeholders,
)
from demo.synthetic import synthetic_corpus
from evidence.errors import BadInput

log = logging.getLogger(__name__)

ALLOWED_NETWORKS = "127.0.0.0/8"
BIND_ATTEMPTS = 20  # tries to find one port free on every address
POLL_INTERVAL_S = 0.1  # how quickly serve_forever notices stop()
LISTEN_BACKLOG = 256  # a burst of connections from a concurrent fetcher must not be dropped
NEWS_SITEMAP = "/sitemaps/news.xml"
SITEMAP_PAGE = re.compile(r"^/sitemaps/pages-(\d+)\.xml$")
GONE_STATUSES = (404, 410)
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class CorpusServerError(BadInput):
    """The corpus server was asked for a site or page it does not have, or could not bind."""


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _title_of(html: str) -> str | None:
    found = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
    return " ".join(found.group(1).split()) if found else None


def _not_found(status: int) -> Response:
    reason = "Gone" if status == 410 else "Not Found"
    body = f"<!doctype html><title>{status} {reason}</title><h1>{status} {reason}</h1>\n"
    return Response(status, body.encode(), "text/html; charset=utf-8")


def not_modified(response: Response, headers: Any) -> bool:
    """Whether a conditional GET's validators say the client's copy is current."""
    if response.status != 200:
        return False
    tags = headers.get("If-None-Match")
    if tags is not None:
        return response.etag in {t.strip() for t in tags.split(",")} or tags.strip() == "*"
    since = headers.get("If-Modified-Since")
    if since and response.last_modified:
        try:
            return response.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


class CorpusServer:
    """A corpus served over real HTTP on one loopback address per site, in background threads.

    ``port=0`` picks a port that is free on every address. ``latency_s`` (plus up to
    ``jitter_s``, drawn from a generator seeded with ``seed``) delays every response.
    """

    allowed_networks = ALLOWED_NETWORKS

    def __init__(
        self,
        corpus: Corpus | None = None,
        *,
        port: int = 0,
        latency_s: float = 0.0,
        jitter_s: float = 0.0,
        seed: int = 0,
    ) -> None:
        if corpus is None:
            corpus = load_demo_corpus()
        self.corpus = corpus
        self.latency_s = latency_s
        self.jitter_s = jitter_s
        self._rng = random.Random(seed)
        self._requested_port = port
        self.port = 0
        self._sites = {site.key: site for site in corpus.sites}
        self._servers: list[_SiteServer] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._overrides: dict[str, dict[str, Page]] = {}
        self._gone: dict[str, dict[str, int]] = {}
        self._version = 0
        self._cache: dict[tuple[str, str, int], Response] = {}
        self._wiki: dict[str, tuple[int, wikiapi.WikiIndex]] = {}
        self._news: tuple[int, gdeltapi.NewsIndex] | None = None
        self._hits: Counter[tuple[str, str]] = Counter()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> CorpusServer:
        """Bind every site's address on one port and serve each in a daemon thread."""
        if self._servers:
            return self
        self._servers = self._bind_all()
        self.port = self._servers[0].server_address[1]
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": POLL_INTERVAL_S},
                name=f"corpus-{server.site_key}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close every socket (in parallel: each waits one poll interval)."""
        stoppers = [threading.Thread(target=s.shutdown) for s in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self._servers:
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers, self._threads = [], []

    def __enter__(self) -> CorpusServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind_all(self) -> list[_SiteServer]:
        for _ in range(BIND_ATTEMPTS):
            port = self._requested_port
            bound: list[_SiteServer] = []
            try:
                for site in self.corpus.sites:
                    server = _SiteServer((site.address, port), self, site.key)
                    port = server.server_address[1]
                    bound.append(server)
                return bound
            except OSError as exc:
                for server in bound:
                    server.server_close()
                if exc.errno != errno.EADDRINUSE or self._requested_port:
                    raise CorpusServerError(
                        f"Cannot serve the corpus on port {port or 'any'}: {exc.strerror}."
                    ) from exc
        raise CorpusServerError("Cannot find one port free on every corpus address.")

    # -- addresses ------------------------------------------------------------------------

    def site(self, key: str) -> Site:
        try:
            return self._sites[key]
        except KeyError:
            raise CorpusServerError(f"The corpus has no site {key!r}.") from None

    def base_url(self, site: str) -> str:
        """``http://ADDRESS:PORT`` of a site (the server must be started)."""
        if not self.port:
            raise CorpusServerError("The corpus server is not started.")
        return f"http://{self.site(site).address}:{self.port}"

    def url(self, site: str, path: str) -> str:
        return self.base_url(site) + quote(path, safe=_PATH_SAFE + "?%#")

    def source_specs(self, kinds: tuple[str, ...] = ("mediawiki", "rss", "sitemap")) -> list[str]:
        """Discovery sources as ``KIND=URL``: the wiki API, every feed, every sitemap."""
        specs: list[str] = []
        for site in self.corpus.sites:
            if "mediawiki" in kinds and site.wiki_api:
                specs.append(f"mediawiki={self.url(site.key, '/w/api.php')}")
            if site.gdelt_api:  # a search host, no feed or sitemap of its own
                if "gdelt" in kinds:
                    specs.append(f"gdelt={self.url(site.key, gdeltapi.DOC_PATH)}")
                continue
            if "rss" in kinds:
                specs.append(f"rss={self.url(site.key, site.feed_path)}")
            if "sitemap" in kinds:
                specs.append(f"sitemap={self.url(site.key, '/sitemap.xml')}")
        return specs

    def environment(self) -> dict[str, str]:
        """The FACTCHECK_ settings that point the verifier at this corpus."""
        return {
            "FACTCHECK_ALLOWED_NETWORKS": self.allowed_networks,
            "FACTCHECK_SOURCES": json.dumps(self.source_specs()),
        }

    def claims(self) -> list[dict[str, str]]:
        """The corpus's claims, with ``corpus://`` origin URLs made live."""
        return [
            {k: resolve_corpus_url(v, self.url) if k == "url" else v for k, v in c.items()}
            for c in self.corpus.claims
        ]

    def write_claims(self, path: Path) -> Path:
        """The claims as JSONL that ``factcheck verify-batch`` reads."""
        lines = [json.dumps(claim, ensure_ascii=False) for claim in self.claims()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    # -- drift ----------------------------------------------------------------------------

    def set_page(
        self,
        site: str,
        path: str,
        html: str,
        *,
        title: str | None = None,
        summary: str | None = None,
    ) -> None:
        """Replace (or add) a page; it is modified now, so its ETag and Last-Modified change."""
        old = self._lookup(self.site(site), path)
        entry = Entry(
            path=path,
            title=title or _title_of(html) or (old.entry.title if old else path),
            summary=summary if summary is not None else (old.entry.summary if old else ""),
            published=old.entry.published if old else _now(),
            modified=_now(),
            author=old.entry.author if old else None,
        )
        with self._lock:
            self._overrides.setdefault(site, {})[path] = Page(entry, html)
            self._gone.get(site, {}).pop(path, None)
            self._version += 1

    def remove_page(self, site: str, path: str, *, status: int = 410) -> None:
        """Answer ``status`` (404 or 410) for a page from now on; feeds and sitemaps drop it."""
        if status not in GONE_STATUSES:
            raise CorpusServerError(f"A removed page answers 404 or 410, not {status}.")
        self.site(site)
        with self._lock:
            self._overrides.get(site, {}).pop(path, None)
            self._gone.setdefault(site, {})[path] = status
            self._version += 1

    def reset(self) -> None:
        """Undo every ``set_page`` and ``remove_page``."""
        with self._lock:
            self._overrides.clear()
            self._gone.clear()
            self._version += 1

    def hits(self, site: str, path: str) -> int:
        """How many requests a path on a site has received (e.g. 0 for a disallowed page)."""
        with self._lock:
            return self._hits[(site, path)]

    def total_hits(self) -> int:
        with self._lock:
            return sum(self._hits.values())

    # -- answering ------------------------------------------------------------------------

    def _lookup(self, site: Site, path: str) -> Page | None:
        with self._lock:
            override = self._overrides.get(site.key, {}).get(path)
            if path in self._gone.get(site.key, {}):
                return None
        return override or site.pages.get(path)

    def _entries(self, site: Site) -> list[Entry]:
        with self._lock:
            gone = set(self._gone.get(site.key, {}))
            over = dict(self._overrides.get(site.key, {}))
        entries = [e for e in site.pages.entries() if e.path not in gone and e.path not in over]
        entries.extend(page.entry for page in over.values())
        entries.sort(key=lambda e: e.path)
        return entries

    def delay(self) -> float:
        """The latency to inject into the next response."""
        if not self.jitter_s:
            return self.latency_s
        with self._lock:
            return self.latency_s + self._rng.uniform(0.0, self.jitter_s)

    def respond(self, site_key: str, target: str) -> Response:
        """The response for a GET of ``target`` (path and query) on a site."""
        site = self.site(site_key)
        parts = urlsplit(target)
        path = unquote(parts.path) or "/"
        with self._lock:
            self._hits[(site_key, path)] += 1
            gone = self._gone.get(site_key, {}).get(path)
            version = self._version
        if gone:
            return _not_found(gone)
        if site.wiki_api and path == "/w/api.php":
            return self._api(site, dict(parse_qsl(parts.query)), version)
        if site.gdelt_api and path == gdeltapi.DOC_PATH:
            return self._gdelt(dict(parse_qsl(parts.query)), version)
        page = self._lookup(site, path)
        if page is not None:
            html = resolve_placeholders(page.html, self.url)
            return Response(200, html.encode(), "text/html; charset=utf-8", page.entry.updated)
        key = (site_key, path, version)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = self._generated(site, path)
            with self._lock:
                self._cache[key] = cached
        return cached

    def _generated(self, site: Site, path: str) -> Response:
        def url_for(p: str) -> str:
            return self.url(site.key, p)

        if path == "/robots.txt":
            body = feeds.render_robots(site.disallow, url_for("/sitemap.xml"))
            return Response(200, body.encode(), "text/plain; charset=utf-8")
        entries = self._entries(site)
        newest = max((e.updated for e in entries), default=None)
        if path == site.feed_path:
            return self._feed(site, entries, url_for, newest)
        mapped = [e for e in entries if e.in_sitemap]
        xml = "application/xml; charset=utf-8"
        if path == "/sitemap.xml" and site.sitemap_style == "plain":
            return Response(200, feeds.render_urlset(mapped, url_for).encode(), xml, newest)
        if site.sitemap_style == "index":
            pages = feeds.chunk(mapped)
            if path == "/sitemap.xml":
                children = [
                    (
                        url_for(f"/sitemaps/pages-{n}.xml"),
                        max((e.updated for e in chunk), default=newest or _now()),
                    )
                    for n, chunk in enumerate(pages, start=1)
                ]
                children.append((url_for(NEWS_SITEMAP), newest or _now()))
                return Response(200, feeds.render_index(children).encode(), xml, newest)
            if path == NEWS_SITEMAP:
                news = feeds.latest(mapped, feeds.NEWS_SITEMAP_LIMIT)
                body = feeds.render_news_sitemap(
                    news, url_for, publication=site.name, language=site.language
                )
                return Response(200, body.encode(), xml, newest)
            numbered = SITEMAP_PAGE.match(path)
            if numbered and 1 <= int(numbered.group(1)) <= len(pages):
                chunk = pages[int(numbered.group(1)) - 1]
                return Response(200, feeds.render_urlset(chunk, url_for).encode(), xml, newest)
        if path == "/":
            return self._front_page(site, entries, url_for, newest)
        return _not_found(404)

    def _feed(
        self,
        site: Site,
        entries: list[Entry],
        url_for: Callable[[str], str],
        newest: datetime | None,
    ) -> Response:
        items = feeds.latest(entries)
        common: dict[str, Any] = {
            "title": site.name,
            "home": url_for("/"),
            "self_url": url_for(site.feed_path),
            "entries": items,
            "url_for": url_for,
        }
        if site.feed_format == "atom":
            body = feeds.render_atom(author=site.name, **common)
            return Response(200, body.encode(), "application/atom+xml; charset=utf-8", newest)
        body = feeds.render_rss(description=site.description, language=site.language, **common)
        return Response(200, body.encode(), "application/rss+xml; charset=utf-8", newest)

    def _front_page(
        self,
        site: Site,
        entries: list[Entry],
        url_for: Callable[[str], str],
        newest: datetime | None,
    ) -> Response:
        links = "".join(
            f'<li><a href="{escape(url_for(e.path))}">{escape(e.title)}</a></li>'
            for e in feeds.latest(entries)
        )
        body = (
            f'<!doctype html><html lang="{site.language}"><head><meta charset="utf-8">'
            f"<title>{escape(site.name)}</title></head><body><h1>{escape(site.name)}</h1>"
            f"<p>{escape(site.description)}</p><ul>{links}</ul></body></html>\n"
        )
        return Response(200, body.encode(), "text/html; charset=utf-8", newest)

    def _api(self, site: Site, params: dict[str, str], version: int) -> Response:
        index = self._wiki_index(site, version)
        body, error = wikiapi.answer(params, index, lambda p: self.url(site.key, p))
        headers = {"MediaWiki-API-Error": error} if error else {}
        data = json.dumps(body, ensure_ascii=False).encode()
        return Response(200, data, "application/json; charset=utf-8", None, headers)

    def _wiki_index(self, site: Site, version: int) -> wikiapi.WikiIndex:
        with self._lock:
            cached = self._wiki.get(site.key)
        if cached and cached[0] == version:
            return cached[1]
        docs = []
        for n, entry in enumerate(self._entries(site), start=1):
            page = self._lookup(site, entry.path)
            if page is None or not entry.path.startswith("/wiki/"):
                continue
            docs.append(
                wikiapi.WikiDoc(
                    pageid=_pageid(entry.path, n),
                    title=entry.title,
                    path=entry.path,
                    text=wikiapi.page_text(page.html),
                    timestamp=entry.updated,
                )
            )
        index = wikiapi.WikiIndex(docs)
        with self._lock:
            self._wiki[site.key] = (version, index)
        return index

    def _gdelt(self, params: dict[str, str], version: int) -> Response:
        shape, body = gdeltapi.answer(params, self._news_index(version))
        if shape == "text":  # GDELT refuses a query with a sentence and a 200, not JSON
            return Response(200, f"{body}\n".encode(), "text/html; charset=utf-8")
        data = json.dumps(body, ensure_ascii=False).encode()
        return Response(200, data, "application/json; charset=utf-8")

    def _news_index(self, version: int) -> gdeltapi.NewsIndex:
        """Every news page of every site (not the wikis), indexed once per corpus version."""
        with self._lock:
            cached = self._news
        if cached and cached[0] == version:
            return cached[1]
        docs = []
        for site in self.corpus.sites:
            if site.wiki_api or site.gdelt_api:
                continue
            for entry in self._entries(site):
                page = self._lookup(site, entry.path)
                if page is not None:
                    docs.append(
                        gdeltapi.NewsDoc(
                            url=self.url(site.key, entry.path),
                            title=entry.title,
                            text=gdeltapi.article_text(page.html),
                            seendate=entry.published,
                            domain=site.domain or site.address,
                            sourcecountry=site.country,
                        )
                    )
        index = gdeltapi.NewsIndex(docs)
        with self._lock:
            self._news = (version, index)
        return index


def _pageid(path: str, fallback: int) -> int:
    """A stable page id from the path, as MediaWiki's ids are stable per page."""
    digest = hashlib.sha256(path.encode()).digest()
    return int.from_bytes(digest[:3], "big") or fallback


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], corpus: CorpusServer, site_key: str) -> None:
        self.corpus = corpus
        self.site_key = site_key
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer's own looks the address's name up (~50 ms a host where none resolves)
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real sites allow
    # headers and body go out in two writes; with Nagle on, a kept-alive connection waits
    # ~40 ms for a delayed ACK between them on every response
    disable_nagle_algorithm = True
    server: _SiteServer
    server_version = "corpus/1.0"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        corpus = self.server.corpus
        delay = corpus.delay()
        if delay:
            time.sleep(delay)
        response = corpus.respond(self.server.site_key, self.path)
        fresh = not_modified(response, self.headers)
        self.send_response(304 if fresh else response.status)
        if response.status == 200:
            self.send_header("ETag", response.etag)
            if response.last_modified:
                self.send_header(
                    "Last-Modified", format_datetime(response.last_modified, usegmt=True)
                )
        for name, value in response.headers.items():
            self.send_header(name, value)
        if fresh:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        log.debug("%s %s", self.server.site_key, format % args)


# -- standalone ---------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo.server",
        description="Serve the demo corpus (or a synthetic one) until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=0, help="one port for every site (0: any free)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per response")
    parser.add_argument("--jitter", type=float, default=0.0, help="up to this much more, seeded")
    parser.add_argument("--claims-out", type=Path, help="write the claims as JSONL here")
    parser.add_argument("--synthetic", type=int, default=0, help="serve N synthetic claims instead")
    parser.add_argument("--hosts", type=int, default=6, help="hosts of the synthetic corpus")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus")
    return parser.parse_args(argv)


def describe(server: CorpusServer) -> str:
    """What a person needs to point ``factcheck`` at a running corpus."""
    lines = [
        f"{site.key:10} {server.base_url(site.key)}  {site.name}" for site in server.corpus.sites
    ]
    lines += ["", "Sources:"] + [f"  --source {spec}" for spec in server.source_specs()]
    lines += ["", f"export FACTCHECK_ALLOWED_NETWORKS={server.allowed_networks}"]
    lines += [f"export FACTCHECK_SOURCES='{json.dumps(server.source_specs())}'"]
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (e.g. from a benchmark harness) stops as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    corpus = None
    if args.synthetic:
        corpus = synthetic_corpus(args.synthetic, seed=args.seed, hosts=args.hosts)
    server = CorpusServer(
        corpus, port=args.port, latency_s=args.latency, jitter_s=args.jitter, seed=args.seed
    )
    try:
        server.start()
    except CorpusServerError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    sys.stdout.write(describe(server) + "\n")
    if args.claims_out:
        server.write_claims(args.claims_out)
        sys.stdout.write(f"\nClaims written to {args.claims_out}\n")
    sys.stdout.write("\nServing; press Ctrl-C to stop.\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
