"""WARC archiving: every request and response the fetcher makes, as warcio writes them.

Files live in ``settings.warc_dir`` and are named
``factcheck-<UTC time>-<pid>-<serial>.warc.gz``; one process writes its own files, so many
workers can share one directory. Each record is its own gzip member (what ``warcio index``
and random access need); a file starts with a ``warcinfo`` record and is rotated once it
reaches ``warc_max_bytes``. The response record holds the payload as it came off the wire
(content coding intact; the transfer coding is undone by the HTTP client, so the
``Transfer-Encoding`` header is dropped). A response cut short by a cap is still written,
marked ``WARC-Truncated``.

``write`` returns where the response record sits (file name, offset, length) for the fetch
row; ``evidence.archive.read_record(file, offset)`` reads it back (the one reader).
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

_DROPPED_HEADERS = frozenset({"transfer-encoding"})


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response to it, as the fetcher saw them."""

    url: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    payload: bytes  # as received, content coding intact
    http_version: str = "HTTP/1.1"
    method: str = "GET"
    ip_address: str | None = None
    truncated: str | None = None  # WARC-Truncated reason: length | time | disconnect


@dataclass(frozen=True)
class ArchivedRecord:
    file: str  # name inside the WARC directory
    offset: int
    length: int


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class WarcArchive:
    """Appends request/response pairs to rotating WARC files; safe across threads."""

    def __init__(self, directory: Path, *, max_bytes: int, software: str = "factcheck") -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.software = software
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._name = ""
        self._serial = 0

    def write(self, exchange: Exchange) -> ArchivedRecord:
        """Write the request and response records; return where the response record is."""
        with self._lock:
            out = self._current()
            writer = WARCWriter(out, gzip=True)
            response = self._response_record(writer, exchange)
            request = self._request_record(writer, exchange)
            request.rec_headers.add_header(
                "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
            )
            request.rec_headers.replace_header(
                "WARC-Date", response.rec_headers.get_header("WARC-Date")
            )
            writer.write_record(request)
            offset = out.tell()
            writer.write_record(response)
            length = out.tell() - offset
            out.flush()
            return ArchivedRecord(self._name, offset, length)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _current(self) -> BinaryIO:
        if self._file is not None and self._file.tell() < self.max_bytes:
            return self._file
        if self._file is not None:
            self._file.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._serial += 1
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        self._name = f"factcheck-{stamp}-{os.getpid()}-{self._serial:05d}.warc.gz"
        self._file = open(self.directory / self._name, "xb")  # noqa: SIM115 - kept open
        writer = WARCWriter(self._file, gzip=True)
        info = {"software": self.software, "format": "WARC File Format 1.1"}
        writer.write_record(writer.create_warcinfo_record(self._name, info))
        return self._file

    @staticmethod
    def _response_record(writer: WARCWriter, exchange: Exchange):  # type: ignore[no-untyped-def]
        headers = [
            (k, v) for k, v in exchange.response_headers if k.lower() not in _DROPPED_HEADERS
        ]
        http = StatusAndHeaders(
            f"{exchange.status} {exchange.reason}".strip(),
            headers,
            protocol=exchange.http_version,
        )
        warc_headers: dict[str, str] = {}
        if exchange.ip_address:
            warc_headers["WARC-IP-Address"] = exchange.ip_address
        if exchange.truncated:
            warc_headers["WARC-Truncated"] = exchange.truncated
        return writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.payload),
            length=len(exchange.payload),
            http_headers=http,
            warc_headers_dict=warc_headers,
        )

    @staticmethod
    def _request_record(writer: WARCWriter, exchange: Exchange):  # type: ignore[no-untyped-def]
        http = StatusAndHeaders(
            f"{exchange.method} {_request_target(exchange.url)} {exchange.http_version}",
            list(exchange.request_headers),
            is_http_request=True,
        )
        return writer.create_warc_record(
            exchange.url, "request", payload=io.BytesIO(b""), length=0, http_headers=http
        )
