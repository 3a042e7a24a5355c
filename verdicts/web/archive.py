"""The archived copy of a fetch as the web app shows it: readable, and raw.

Readable (``readable_copy``): the passages extracted from the archived bytes when the page
was fetched, in page order, as plain text. They are the stored ``Passage`` rows of that
fetch, so ``verdicts`` needs no extractor (it never imports ``sources``) and the text shown
is exactly the text a verdict cites.

Raw (``read_archived``): the WARC record read through ``evidence.archive``; the body is
returned as text (decoded with the charset the response declared, undecodable bytes
replaced) for the page to show escaped; it is never rendered as HTML.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from evidence.archive import ArchiveError, charset_of, read_record, resolve_file
from evidence.errors import FactcheckError, NotFound
from evidence.models import Document, Fetch, Passage


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
    return resolve_file(fetch.warc_file, warc_dir)


def read_archived(fetch: Fetch, *, warc_dir: Path, limit: int) -> ArchivedCopy:
    """The WARC record of ``fetch``, with at most ``limit`` bytes of its body."""
    assert fetch.id is not None
    if not fetch.warc_file or fetch.warc_offset is None:
        raise NotFound("archived copy of fetch", fetch.id)
    path = warc_path(fetch, warc_dir)
    try:
        response, payload = read_record(
            fetch.warc_file, fetch.warc_offset, directory=warc_dir, max_bytes=limit + 1
        )
    except NotFound as exc:
        raise ArchiveUnreadable(fetch.id, f"{path.name} is missing") from exc
    except ArchiveError as exc:
        raise ArchiveUnreadable(fetch.id, f"no WARC record at offset {fetch.warc_offset}") from exc
    return ArchivedCopy(
        fetch_id=fetch.id,
        warc_file=str(fetch.warc_file),
        warc_offset=fetch.warc_offset,
        record_type=response.record_type,
        target_uri=response.target_uri,
        warc_headers=list(response.warc_headers.items()),
        http_status=response.status_code,
        http_headers=response.headers,
        body=payload[:limit].decode(charset_of(response.header("Content-Type")), errors="replace"),
        body_bytes=min(len(payload), limit),
        truncated=len(payload) > limit,
        body_sha256=hashlib.sha256(payload[:limit]).hexdigest(),
    )


@dataclass(frozen=True)
class ReadableCopy:
    fetch: Fetch
    document: Document | None
    passages: list[Passage]  # in page order
    archived: bool  # the bytes are in the WARC archive (the raw record can be shown)


def readable_copy(session: Session, fetch_id: int) -> ReadableCopy:
    """The text of the page as archived by ``fetch_id``, passage by passage."""
    fetch = session.get(Fetch, fetch_id)
    if fetch is None:
        raise NotFound("fetch", fetch_id)
    passages = session.exec(
        select(Passage)
        .where(col(Passage.fetch_id) == fetch_id)
        .order_by(col(Passage.ordinal), col(Passage.id))
    ).all()
    document = session.get(Document, fetch.document_id) if fetch.document_id else None
    return ReadableCopy(
        fetch=fetch,
        document=document,
        passages=list(passages),
        archived=bool(fetch.warc_file) and fetch.warc_offset is not None,
    )
