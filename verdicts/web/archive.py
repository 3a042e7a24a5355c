"""The archived copy of a fetch, read straight from its WARC file.

``verdicts`` never imports ``sources``: the fetch row says which WARC file and at which
offset its record starts, and warcio reads that one record. The body is returned as text
(decoded with the charset the response declared, undecodable bytes replaced) for the page
to show escaped; it is never rendered as HTML.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from evidence.errors import FactcheckError, NotFound
from evidence.models import Fetch

_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)


class ArchiveUnreadable(FactcheckError):
    """The WARC file named by a fetch is missing or its record cannot be parsed."""

    http_status = 410

    def __init__(self, fetch_id: int, reason: str) -> None:
        self.fetch_id = fetch_id
        super().__init__(f"The archived copy of fetch {fetch_id} cannot be read: {reason}.")


@dataclass(frozen=True)
class ArchivedCopy:
    fetch_id: int
    warc_file: str
    warc_offset: int
    record_type: str
    target_uri: str
    warc_headers: list[tuple[str, str]]
    http_status: str | None
    http_headers: list[tuple[str, str]]
    body: str
    body_bytes: int
    truncated: bool
    body_sha256: str  # of the payload as shown (transfer- and content-decoded)


def warc_path(fetch: Fetch, warc_dir: Path) -> Path:
    """The file a fetch points at; relative names live under the WARC directory."""
    assert fetch.warc_file is not None
    path = Path(fetch.warc_file)
    return path if path.is_absolute() else warc_dir / path


def charset_of(content_type: str | None) -> str:
    match = _CHARSET.search(content_type or "")
    if match:
        try:
            "".encode(match.group(1))
            return match.group(1)
        except LookupError:
            pass
    return "utf-8"


def read_archived(fetch: Fetch, *, warc_dir: Path, limit: int) -> ArchivedCopy:
    """The WARC record of ``fetch``, with at most ``limit`` bytes of its body."""
    assert fetch.id is not None
    if not fetch.warc_file or fetch.warc_offset is None:
        raise NotFound("archived copy of fetch", fetch.id)
    path = warc_path(fetch, warc_dir)
    try:
        with path.open("rb") as handle:
            handle.seek(fetch.warc_offset)
            record = next(iter(ArchiveIterator(handle)))
            payload = record.content_stream().read(limit + 1)
            http = record.http_headers
            content_type = http.get_header("Content-Type") if http else None
            return ArchivedCopy(
                fetch_id=fetch.id,
                warc_file=str(fetch.warc_file),
                warc_offset=fetch.warc_offset,
                record_type=record.rec_type,
                target_uri=record.rec_headers.get_header("WARC-Target-URI") or "",
                warc_headers=list(record.rec_headers.headers),
                http_status=http.get_statuscode() if http else None,
                http_headers=list(http.headers) if http else [],
                body=payload[:limit].decode(charset_of(content_type), errors="replace"),
                body_bytes=min(len(payload), limit),
                truncated=len(payload) > limit,
                body_sha256=hashlib.sha256(payload[:limit]).hexdigest(),
            )
    except FileNotFoundError as exc:
        raise ArchiveUnreadable(fetch.id, f"{path.name} is missing") from exc
    except (ArchiveLoadFailed, StopIteration, OSError, ValueError) as exc:
        raise ArchiveUnreadable(fetch.id, f"no WARC record at offset {fetch.warc_offset}") from exc
