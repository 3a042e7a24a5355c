"""`dir`: a local folder of saved pages (.html) or WARC files — an offline archive.

For a newsroom's own archive, a crawl made elsewhere, or a reporter's saved pages: the
folder is walked (no symlinks followed out of it, at most LOCALDIR_MAX_FILES files, each
read up to the body cap), each page's title and text are ranked with BM25 against each
planned query (`Adapter.rank_listing`), and the best pages become candidates whose meta says
where the bytes are::

    {"path": "/archive/crawl-01.warc.gz", "offset": 48213, "format": "warc"}

``load_local(candidate)`` turns that back into a ``FetchResult`` so the flow takes the page
from disk instead of the network. A page's URL is its original one when the file knows it
(the WARC target URI; a saved page's canonical link, og:url or the "saved from url" comment
browsers write) and its ``file://`` URI otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from evidence.settings import get_settings
from sources.decode import decode_html
from sources.discovery.base import Adapter, AdapterMisconfigured, Candidate, DiscoveryRequest
from sources.discovery.config import LISTING_TEXT_CHARS, LOCALDIR_MAX_FILES, LOCALDIR_TEXT_CHARS
from sources.results import Fetcher, FetchResult

log = logging.getLogger(__name__)
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
WARC_SUFFIXES = (".warc", ".warc.gz")
_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)(https?://[^\s>]+?)\s*-->", re.I)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class LocalPage:
    url: str
    title: str | None
    text: str
    path: str
    offset: int | None  # of the WARC record; None for a plain .html file
    format: str  # html | warc


class LocalDirAdapter(Adapter):
    kind = "dir"
    target_is_path = True

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        root = Path(self.base_url).expanduser()
        if not root.is_dir():
            raise AdapterMisconfigured(self.kind, f"{root} is not a folder.")
        return await asyncio.to_thread(self._match, root, request)

    def _match(self, root: Path, request: DiscoveryRequest) -> list[Candidate]:
        pages: list[LocalPage] = []

        def listing() -> Iterator[tuple[str, str]]:
            # streamed into the index: only the head of each page's text stays in memory
            for page in iter_pages(root, max_bytes=self.settings.max_body_bytes):
                pages.append(replace(page, text=page.text[:LISTING_TEXT_CHARS]))
                yield page.title or "", page.text

        def make(i: int, query: str, rank: int, score: float) -> Candidate:
            return self.candidate(
                pages[i].url,
                query=query,
                rank=rank,
                title=pages[i].title,
                path=pages[i].path,
                offset=pages[i].offset,
                format=pages[i].format,
                score=score,
                text=f"{pages[i].title or ''} {pages[i].text}".strip(),
            )

        return self.rank_listing(request, listing(), make)


def iter_files(root: Path) -> Iterator[Path]:
    """Saved pages and WARC files under ``root``, in name order, never leaving ``root``."""
    top = root.resolve()
    count = 0
    for folder, dirs, files in os.walk(top, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if not name.lower().endswith(HTML_SUFFIXES + WARC_SUFFIXES):
                continue
            if not path.resolve().is_relative_to(top):
                continue  # a symlink pointing out of the archive
            yield path
            count += 1
            if count >= LOCALDIR_MAX_FILES:
                log.warning("%s has more than %d pages; the rest are ignored", top, count)
                return


def iter_pages(root: Path, *, max_bytes: int) -> Iterator[LocalPage]:
    for path in iter_files(root):
        try:
            if path.name.lower().endswith(WARC_SUFFIXES):
                yield from _warc_pages(path, max_bytes)
            elif path.stat().st_size <= max_bytes:
                yield _html_page(path, path.read_bytes())
        except (OSError, ValueError, ArchiveLoadFailed) as exc:  # unreadable, corrupt WARC
            log.warning("%s skipped: %s", path, exc)


def _html_page(
    path: Path,
    body: bytes,
    *,
    url: str | None = None,
    offset: int | None = None,
    content_type: str | None = None,
) -> LocalPage:
    text, _ = decode_html(body, content_type)
    title, plain, found_url = page_text(text)
    saved_from = _SAVED_FROM.search(body[:4096])
    url = (
        url or found_url or (saved_from.group(1).decode("ascii", "replace") if saved_from else None)
    )
    return LocalPage(
        url=url or path.resolve().as_uri(),
        title=title,
        text=plain[:LOCALDIR_TEXT_CHARS],
        path=str(path.resolve()),
        offset=offset,
        format="warc" if offset is not None else "html",
    )


def page_text(html: str) -> tuple[str | None, str, str | None]:
    """(title, visible text, the page's own URL if it declares one). Pure."""
    if not html.strip():
        return None, "", None
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None, "", None
    etree.strip_elements(tree, "script", "style", "noscript", "template", with_tail=False)
    title: str | None = tree.findtext(".//title")
    url = _declared_url(tree)
    body = tree.find("body")
    text = " ".join((body if body is not None else tree).text_content().split())
    return (title.strip() or None) if title else None, text, url


def _declared_url(tree: Any) -> str | None:
    for xpath in (
        "//link[@rel='canonical']/@href",
        "//meta[@property='og:url']/@content",
    ):
        for value in tree.xpath(xpath):
            if str(value).startswith(("http://", "https://")):
                return str(value).strip()
    return None


def _warc_pages(path: Path, max_bytes: int) -> Iterator[LocalPage]:
    with path.open("rb") as handle:
        records = ArchiveIterator(handle)
        for record in records:
            if not _is_html_response(record):
                continue
            body = record.content_stream().read(max_bytes)
            offset = records.get_record_offset()  # known once the record is read to its end
            yield _html_page(
                path,
                body,
                url=record.rec_headers.get_header("WARC-Target-URI"),
                offset=offset,
                content_type=_content_type(record),
            )


def _is_html_response(record: Any) -> bool:
    if record.rec_type not in ("response", "resource"):
        return False
    content_type = (_content_type(record) or "").lower()
    return content_type.startswith(_HTML_TYPES)


def _content_type(record: Any) -> str | None:
    headers = record.rec_headers
    if record.rec_type == "response" and record.http_headers is not None:
        headers = record.http_headers
    value = headers.get_header("Content-Type")
    return str(value) if value else None


# -- reading a candidate back ---------------------------------------------------------------


def is_local(candidate: Candidate) -> bool:
    """True when the candidate's bytes are on disk (proposed by `dir`)."""
    return isinstance(candidate.meta.get("path"), str)


def load_local(candidate: Candidate, *, max_bytes: int | None = None) -> FetchResult:
    """The page a `dir` candidate points at, as a fetch result, without the network. A file
    that has gone or cannot be read is a failed result, like a failed fetch."""
    path = Path(str(candidate.meta.get("path", "")))
    offset = candidate.meta.get("offset")
    limit = max_bytes if max_bytes is not None else _default_max_bytes()
    if not path.name.lower().endswith(HTML_SUFFIXES + WARC_SUFFIXES):
        return _failed(candidate.url, "invalid_url", f"{path} is not a saved page or WARC file.")
    try:
        if isinstance(offset, int):
            return _load_warc_record(candidate.url, path, offset, limit)
        body = path.read_bytes()[:limit]
        fetched_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (OSError, ValueError, ArchiveLoadFailed) as exc:
        return _failed(candidate.url, "connect", f"the local file {path} cannot be read: {exc}.")
    return _result(candidate.url, candidate.url, 200, "text/html", body, fetched_at)


def _load_warc_record(url: str, path: Path, offset: int, limit: int) -> FetchResult:
    with path.open("rb") as handle:
        handle.seek(offset)
        record = next(iter(ArchiveIterator(handle)), None)
        if record is None:
            return _failed(url, "decode", f"no WARC record at offset {offset} of {path}.")
        body = record.content_stream().read(limit)
        status = 200
        if record.rec_type == "response" and record.http_headers is not None:
            status = int(record.http_headers.get_statuscode() or 200)
        target = record.rec_headers.get_header("WARC-Target-URI") or url
        fetched_at = _warc_date(record.rec_headers.get_header("WARC-Date"))
        return _result(url, target, status, _content_type(record), body, fetched_at)


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None


def _result(
    url: str,
    final_url: str,
    status: int,
    content_type: str | None,
    body: bytes,
    fetched_at: datetime | None,
) -> FetchResult:
    text, encoding = decode_html(body, content_type)
    ok = 200 <= status < 300
    return FetchResult(
        url=url,
        ok=ok,
        status=status,
        final_url=final_url,
        headers={"content-type": content_type} if content_type else {},
        content_type=content_type,
        body=body,
        text=text,
        encoding=encoding,
        sha256=hashlib.sha256(body).hexdigest(),
        byte_count=len(body),
        error_kind=None if ok else "http_status",
        error=None if ok else f"the archived response has status {status}.",
        fetched_at=fetched_at,
    )


def _failed(url: str, kind: str, message: str) -> FetchResult:
    return FetchResult(url=url, ok=False, error_kind=kind, error=message)


def _default_max_bytes() -> int:
    return get_settings().max_body_bytes
