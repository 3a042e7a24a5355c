"""Safe, polite fetching: one shared httpx client, every outcome a ``FetchResult``.

::

    async with AsyncFetcher(settings) as fetcher:
        result = await fetcher.get("https://example.org/article")
        results = await fetcher.fetch_many(urls)

For each URL, within one total deadline (``fetch_deadline_s``, which a server dripping a
byte a second cannot stretch): every hop's host is resolved once and checked
(``sources.address``), robots.txt is consulted (``sources.robots``), the request waits for
its global and per-host slot (``sources.politeness``), goes to the checked address, and its
body is read as a stream with the wire cap and the decompressed cap enforced as the bytes
arrive (content coding is undone here, incrementally, not by httpx). Redirects are followed
by hand; transient failures are retried (``sources.retry``); every request and response is
archived (``sources.archive``).

This module is the one place where httpx exceptions are caught: ``_httpx_boundary``
translates them into ``FetchError`` with a kind from ``sources.results.ERROR_KINDS``.
``get`` never raises for a fetch that went wrong; it returns a failed ``FetchResult``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self
from urllib.parse import urljoin

import httpx

from evidence.errors import FetchError
from evidence.settings import Settings, get_settings
from evidence.types import utcnow
from sources.address import PinnedTransport, parse_networks, pinned, resolve_checked
from sources.archive import ArchivedRecord, Exchange, WarcArchive
from sources.decode import decode_html
from sources.politeness import Politeness
from sources.results import ERROR_KINDS, FetchResult
from sources.retry import is_retryable, parse_retry_after, retry_delay
from sources.robots import ROBOTS_MAX_BYTES, RobotsAnswer, RobotsCache

log = logging.getLogger(__name__)

ARCHIVE_MARGIN_S = 0.2  # body reading stops this long before the deadline, to archive it
DEFAULT_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.1"
ACCEPT_ENCODING = "gzip, deflate"  # the codings _Decoder undoes
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
SELECTED_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "etag",
    "last-modified",
    "date",
    "cache-control",
    "location",
    "retry-after",
    "x-robots-tag",
)
DECODE_CHUNK = 64 * 1024  # largest piece of output one decompress call may produce
SNIFF_BYTES = 1024
BINARY_MAGIC = (
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"%PDF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"RIFF",
    b"OggS",
    b"\x7fELF",
    b"\x00\x00\x01\x00",
)


# ---- the one httpx boundary ---------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def translate_httpx_error(url: str, exc: Exception) -> FetchError:
    """Our error for an httpx error; the vocabulary is ``ERROR_KINDS``."""
    detail = _first_line(exc)
    table: tuple[tuple[type[Exception], str, str], ...] = (
        (httpx.TimeoutException, "timeout", "timed out"),
        (httpx.UnsupportedProtocol, "invalid_url", "is not an http(s) URL"),
        (httpx.InvalidURL, "invalid_url", "is not a valid URL"),
        (httpx.ConnectError, "connect", "could not be connected to"),
        (httpx.ProtocolError, "protocol", "broke the HTTP protocol"),
        (httpx.DecodingError, "decode", "sent a body that does not decode"),
        (httpx.TransportError, "connect", "dropped the connection"),
    )
    for cls, kind, what in table:
        if isinstance(exc, cls):
            return FetchError(url, kind, f"{url} {what} ({detail}).")
    return FetchError(url, "connect", f"{url} failed ({detail}).")


@contextlib.contextmanager
def _httpx_boundary(url: str) -> Iterator[None]:
    try:
        yield
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise translate_httpx_error(url, exc) from exc


# ---- decompression with a cap -------------------------------------------------------------


class _Decoder:
    """Undoes gzip/deflate incrementally; never holds more than ``cap`` + one chunk."""

    def __init__(self, url: str, coding: str | None, cap: int) -> None:
        self.url = url
        self.cap = cap
        self.coding = (coding or "identity").strip().lower()
        self.out = bytearray()
        self._z: zlib._Decompress | None = None
        if self.coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.coding not in ("identity", "deflate", ""):
            raise FetchError(url, "decode", f"{url} used the content coding {self.coding!r}.")

    @property
    def identity(self) -> bool:
        return self.coding in ("identity", "")

    def feed(self, data: bytes) -> None:
        if self.identity or not data:
            return
        if self._z is None:  # deflate: zlib-wrapped as the RFC says, or raw as IIS sends it
            zlib_header = (
                len(data) > 1 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._z = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        try:
            self._inflate(self._z, data)
        except zlib.error as exc:
            raise FetchError(
                self.url, "decode", f"{self.url} sent a corrupt {self.coding} body."
            ) from exc

    def _inflate(self, z: zlib._Decompress, data: bytes) -> None:
        while not z.eof:
            limit = min(DECODE_CHUNK, self.cap - len(self.out) + 1)
            piece = z.decompress(data, limit)
            self.out.extend(piece)
            if len(self.out) > self.cap:
                raise FetchError(
                    self.url,
                    "too_large",
                    f"{self.url} decompresses to more than {self.cap} bytes.",
                )
            data = z.unconsumed_tail
            if not data and len(piece) < limit:
                return

    def body(self, raw: bytes) -> bytes:
        return raw if self.identity else bytes(self.out)


# ---- one exchange -------------------------------------------------------------------------


@dataclass
class _Hop:
    """One request's response: the decoded body, and the error that cut it short if any."""

    url: str
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    archived: ArchivedRecord | None = None
    error: FetchError | None = None


@dataclass
class _Request:
    """One hop, checked: the URL, and the address the connection must go to."""

    url: str
    target: httpx.URL
    host: str
    port: int
    ip: str
    headers: dict[str, str] = field(default_factory=dict)
    archive: bool = True
    body_cap: int | None = None  # robots.txt: its own cap, and a longer body is cut, not refused
    deadline: float | None = None  # loop time the URL's total deadline runs out

    @property
    def key(self) -> str:
        return _loop_key(self.target)


def _loop_key(target: httpx.URL) -> str:
    return str(target.copy_with(fragment=None))


@dataclass
class _Trace:
    """What one URL's fetch went through, for the result whether it succeeds or not."""

    url: str
    deadline: float
    current: str = ""
    redirects: list[str] = field(default_factory=list)
    last: _Hop | None = None

    def remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()


@dataclass
class _Body:
    raw: bytes
    body: bytes
    error: FetchError | None = None
    truncated: str | None = None


def _selected(headers: httpx.Headers) -> dict[str, str]:
    return {name: headers[name] for name in SELECTED_HEADERS if name in headers}


def _raw_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers.raw]


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _accepted_types(accept: str | None) -> tuple[str, ...]:
    extra = [part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",")]
    return PAGE_TYPES + tuple(t for t in extra if t)


def _type_matches(media: str, patterns: Sequence[str]) -> bool:
    major = media.split("/", 1)[0]
    return any(p == media or p == "*/*" or p == f"{major}/*" for p in patterns)


def looks_binary(body: bytes) -> bool:
    """Whether a body labelled as text is really binary (magic number or NUL bytes)."""
    head = body[:SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NULs, and a BOM
        return False
    return head.startswith(BINARY_MAGIC) or b"\x00" in head


def is_textual(media: str | None) -> bool:
    """Whether a media type (None: unlabelled) is meant to be text: HTML, XML, JSON…"""
    if media is None:
        return True
    return (
        media.startswith("text/")
        or media in ("application/xhtml+xml", "application/xml", "application/json")
        or media.endswith(("+xml", "+json"))
    )


def content_problem(content_type: str | None, body: bytes, accept: str | None) -> str | None:
    """Why a 2xx body is not a page we can use (one sentence), or None."""
    media = _media_type(content_type)
    if media is not None and not _type_matches(media, _accepted_types(accept)):
        return f"the content type {media} is not HTML or text"
    if is_textual(media) and looks_binary(body):
        return f"the body is binary although labelled {media or 'nothing'}"
    return None


class AsyncFetcher:
    """The fetcher every part of the app shares: safe, polite, archived, never raising.

    Implements ``sources.results.Fetcher``. Use as an async context manager (or call
    ``aclose``) so the connection pool and the WARC file are closed.
    """

    def __init__(self, settings: Settings | None = None, *, archive: WarcArchive | None = None):
        self.settings = settings or get_settings()
        s = self.settings
        self._allowlist = parse_networks(s.allowed_networks)
        self._politeness = Politeness(
            concurrency=s.fetch_concurrency,
            per_host=s.per_host_concurrency,
            delay_s=s.per_host_delay_s,
        )
        self._robots = RobotsCache(
            self._fetch_robots, user_agent=s.user_agent, ttl_s=s.robots_cache_ttl_s
        )
        self.archive = archive or WarcArchive(
            s.warc_dir, max_bytes=s.warc_max_bytes, software=s.user_agent
        )
        self._rng = random.Random()
        limits = httpx.Limits(
            max_connections=s.fetch_concurrency, max_keepalive_connections=s.fetch_concurrency
        )
        self._client = httpx.AsyncClient(
            transport=PinnedTransport(limits=limits),
            timeout=httpx.Timeout(
                connect=s.connect_timeout_s,
                read=s.read_timeout_s,
                write=s.read_timeout_s,
                pool=s.fetch_deadline_s,
            ),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": s.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        self.archive.close()

    # -- public ---------------------------------------------------------------------------

    async def get(
        self,
        url: str,
        *,
        accept: str | None = None,
        archive: bool = True,
        conditional: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """Fetch one URL; every outcome is a FetchResult (``ok`` false with an error kind).

        ``accept`` widens the content types taken as usable (e.g. ``application/json`` for
        an API); ``conditional`` holds If-None-Match / If-Modified-Since validators.
        """
        fetched_at = utcnow()
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        trace = _Trace(url, deadline=loop.time() + self.settings.fetch_deadline_s, current=url)
        try:
            async with asyncio.timeout(self.settings.fetch_deadline_s):
                hop = await self._follow(
                    trace,
                    accept=accept,
                    archive=archive,
                    conditional=dict(conditional or {}),
                    use_robots=self.settings.respect_robots,
                )
        except TimeoutError:
            error = FetchError(
                url, "timeout", f"{url} did not finish within {self.settings.fetch_deadline_s:g} s."
            )
        except FetchError as exc:
            error = exc
        else:
            return self._success(trace, hop, accept, started, fetched_at)
        return self._failure(trace, error, started, fetched_at)

    async def fetch_many(
        self,
        urls: Sequence[str],
        *,
        accept: str | None = None,
        conditional: Mapping[str, Mapping[str, str]] | None = None,
    ) -> list[FetchResult]:
        """Fetch all URLs concurrently (within the politeness limits), results in order."""
        validators = conditional or {}
        return list(
            await asyncio.gather(
                *(self.get(u, accept=accept, conditional=validators.get(u)) for u in urls)
            )
        )

    # -- results --------------------------------------------------------------------------

    @staticmethod
    def _base(trace: _Trace, hop: _Hop | None, started: float, at: datetime) -> FetchResult:
        """The fields every outcome shares; ``ok`` false until a caller says otherwise."""
        archived = hop.archived if hop else None
        return FetchResult(
            url=trace.url,
            ok=False,
            status=hop.status if hop else None,
            final_url=trace.current,
            headers=_selected(hop.headers) if hop else {},
            content_type=hop.headers.get("content-type") if hop else None,
            byte_count=len(hop.body) if hop else 0,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
            redirects=tuple(trace.redirects),
            warc_file=archived.file if archived else None,
            warc_offset=archived.offset if archived else None,
            warc_length=archived.length if archived else None,
            fetched_at=at,
        )

    def _success(
        self, trace: _Trace, hop: _Hop, accept: str | None, started: float, at: datetime
    ) -> FetchResult:
        base = self._base(trace, hop, started, at)
        if hop.status == 304:
            return replace(base, ok=True, not_modified=True)
        base = replace(base, body=hop.body, sha256=hashlib.sha256(hop.body).hexdigest())
        if not 200 <= hop.status < 300:
            error = f"{hop.url} answered {hop.status} {hop.reason}".strip() + "."
            return replace(base, error_kind="http_status", error=error)
        problem = content_problem(hop.headers.get("content-type"), hop.body, accept)
        if problem is not None:
            return replace(base, error_kind="not_html", error=f"{hop.url}: {problem}.")
        content_type = hop.headers.get("content-type")
        if not is_textual(_media_type(content_type)):
            return replace(base, ok=True)  # a binary type the caller asked for
        text, encoding = decode_html(hop.body, content_type)
        return replace(base, ok=True, text=text, encoding=encoding)

    def _failure(
        self, trace: _Trace, error: FetchError, started: float, at: datetime
    ) -> FetchResult:
        kind = error.error_kind if error.error_kind in ERROR_KINDS else "protocol"
        base = self._base(trace, trace.last, started, at)
        return replace(base, error_kind=kind, error=str(error))

    # -- hops -----------------------------------------------------------------------------

    async def _follow(
        self,
        trace: _Trace,
        *,
        accept: str | None,
        archive: bool,
        conditional: dict[str, str],
        use_robots: bool,
        body_cap: int | None = None,
    ) -> _Hop:
        """Follow redirects by hand: every hop is checked, robots-checked and archived.

        With ``body_cap`` (robots.txt) a body over the cap is cut there and used, not refused.
        """
        seen: set[str] = set()
        current = trace.url
        for hop_number in range(self.settings.max_redirects + 1):
            trace.current, trace.last = current, None
            request = await self._prepare(current, use_robots=use_robots)
            request.headers = {"Accept": accept or DEFAULT_ACCEPT, **conditional}
            request.archive, request.body_cap = archive, body_cap
            request.deadline = trace.deadline
            seen.add(request.key)
            hop = trace.last = await self._with_retries(trace, request)
            if hop.error is not None and not (body_cap and hop.error.error_kind == "too_large"):
                raise hop.error
            following = self._redirect(trace, hop, hop_number, seen)
            if following is None:
                return hop
            current = following
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _redirect(self, trace: _Trace, hop: _Hop, hop_number: int, seen: set[str]) -> str | None:
        """Where a redirect leads, None when ``hop`` is not one; raises on loops and limits."""
        location = hop.headers.get("location")
        if hop.status not in REDIRECT_STATUSES or not location:
            return None
        following: str = urljoin(hop.url, str(location).strip())
        trace.redirects.append(hop.url)
        limit = self.settings.max_redirects
        if hop_number == limit:
            message = f"{trace.url} redirected more than {limit} times."
            raise FetchError(trace.url, "too_many_redirects", message)
        if _loop_key(self._target(following)) in seen:
            message = f"{trace.url} redirects in a loop via {following}."
            raise FetchError(trace.url, "redirect_loop", message)
        return following

    async def _prepare(self, url: str, *, use_robots: bool) -> _Request:
        """Check one hop's URL, address and robots.txt; what to send, and where."""
        target = self._target(url)
        port = target.port or (443 if target.scheme == "https" else 80)
        host = target.raw_host.decode("ascii").lower()
        ip = await resolve_checked(host, port, self._allowlist, url=url)
        if use_robots:
            policy = await self._robots.check(url)
            if (delay := policy.crawl_delay(self._robots.agent)) is not None:
                self._politeness.set_delay(host, delay)
        return _Request(url, target, host, port, ip)

    @staticmethod
    def _target(url: str) -> httpx.URL:
        with _httpx_boundary(url):
            target = httpx.URL(url)
        if target.scheme not in ("http", "https") or not target.host:
            raise FetchError(url, "invalid_url", f"{url} is not an absolute http(s) URL.")
        if target.userinfo:
            raise FetchError(url, "invalid_url", f"{url} carries credentials; it is not fetched.")
        return target

    async def _with_retries(self, trace: _Trace, request: _Request) -> _Hop:
        """Send ``request``, again after a wait while the outcome is retryable and time allows."""
        attempt = 0
        while True:
            hop: _Hop | None = None
            try:
                hop = await self._exchange(request)
                failure = hop.error
            except FetchError as exc:
                failure = exc
            status = hop.status if hop else None
            delay: float | None = None
            if is_retryable(status, failure.error_kind if failure else None):
                delay = retry_delay(
                    attempt,
                    max_retries=self.settings.max_retries,
                    retry_after=parse_retry_after(hop.headers.get("retry-after")) if hop else None,
                    cap_s=self.settings.retry_after_cap_s,
                    remaining_s=trace.remaining(),
                    rng=self._rng,
                )
            if delay is None:
                if hop is not None:
                    return hop
                assert failure is not None
                raise failure
            log.info("retrying %s in %.2f s (%s)", request.url, delay, failure or status)
            await asyncio.sleep(delay)
            attempt += 1

    async def _exchange(self, req: _Request) -> _Hop:
        """One request to the checked address, the body read under the caps, archived."""
        request = self._client.build_request("GET", req.target, headers=req.headers)
        async with self._politeness.slot(req.host):
            with pinned(req.host, req.port, req.ip), _httpx_boundary(req.url):
                response = await self._client.send(request, stream=True)
                try:
                    body = await self._read_body(req.url, response, req.body_cap, req.deadline)
                finally:
                    await response.aclose()
        hop = _Hop(
            req.url,
            response.status_code,
            response.reason_phrase,
            response.headers,
            body.body,
            error=body.error,
        )
        if req.archive:
            exchange = Exchange(
                url=req.url,
                request_headers=_raw_headers(request.headers),
                status=response.status_code,
                reason=response.reason_phrase,
                response_headers=_raw_headers(response.headers),
                payload=body.raw,
                http_version=response.http_version,
                ip_address=req.ip,
                truncated=body.truncated,
            )
            hop.archived = await asyncio.to_thread(self.archive.write, exchange)
        return hop

    async def _read_body(
        self, url: str, response: httpx.Response, cap: int | None, deadline: float | None = None
    ) -> _Body:
        """Stream the raw body under both caps; a cap, a broken stream or the deadline ends it
        early. The deadline stops reading a little before the whole URL's deadline, so what
        arrived is still archived (WARC-Truncated: time) before the fetch gives up."""
        cap = cap or self.settings.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            error = FetchError(
                url, "too_large", f"{url} declares {declared} bytes, over the cap of {cap}."
            )
            return _Body(b"", b"", error, "length")
        try:
            decoder = _Decoder(
                url, response.headers.get("content-encoding"), self.settings.max_decompressed_bytes
            )
        except FetchError as exc:
            return _Body(b"", b"", exc, "unspecified")
        raw = bytearray()
        stop = None if deadline is None else deadline - ARCHIVE_MARGIN_S
        try:
            async with asyncio.timeout_at(stop):
                with _httpx_boundary(url):
                    async for chunk in response.aiter_raw():
                        room = cap - len(raw)
                        raw.extend(chunk[:room])
                        decoder.feed(chunk[:room])
                        if len(chunk) > room:
                            raise FetchError(url, "too_large", f"{url} sent more than {cap} bytes.")
        except TimeoutError:
            error = FetchError(url, "timeout", f"{url} did not finish within its deadline.")
            return _Body(bytes(raw), decoder.body(bytes(raw)), error, "time")
        except FetchError as exc:
            truncated = "length" if exc.error_kind == "too_large" else "disconnect"
            return _Body(bytes(raw), decoder.body(bytes(raw)), exc, truncated)
        return _Body(bytes(raw), decoder.body(bytes(raw)))

    # -- robots.txt -----------------------------------------------------------------------

    async def _fetch_robots(self, robots_url: str) -> RobotsAnswer:
        """Fetch a robots.txt through the same checks, caps and politeness as any page."""
        loop = asyncio.get_running_loop()
        trace = _Trace(robots_url, deadline=loop.time() + self.settings.fetch_deadline_s)
        try:
            async with asyncio.timeout(self.settings.fetch_deadline_s):
                hop = await self._follow(
                    trace,
                    accept="text/plain",
                    archive=True,
                    conditional={},
                    use_robots=False,
                    body_cap=ROBOTS_MAX_BYTES,
                )
        except FetchError as exc:
            return RobotsAnswer(None, detail=str(exc))
        except TimeoutError:
            return RobotsAnswer(
                None, detail=f"no answer within {self.settings.fetch_deadline_s:g} s"
            )
        text = decode_html(hop.body, hop.headers.get("content-type"))[0] if hop.body else ""
        return RobotsAnswer(hop.status, text)
