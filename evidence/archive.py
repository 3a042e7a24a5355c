"""The one reader of the WARC archive: every part of the app that reads an archived response
(``archive show``, the web app's archived copy, ``audit verify``, the bundle, re-extraction)
reads it here, and warcio's errors become ``ArchiveError`` here and nowhere else.

The writing side (``sources.archive.WarcArchive``) belongs to the fetcher; reading sits on
the ground floor so that ``verdicts`` and the auditor's checks can read a record without
importing ``sources``. A fetch row says which file (relative to ``settings.warc_dir``) and at
which offset its response record starts; ``read_record`` returns that record's headers and
its payload with the transfer and content codings undone, the bytes whose SHA-256 the fetch
row keeps.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from evidence.errors import FactcheckError, NotFound
from evidence.settings import get_settings

_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.IGNORECASE)


class ArchiveError(FactcheckError):
    """An archived record is missing or unreadable."""

    http_status = 410


@dataclass(frozen=True)
class ArchivedResponse:
    """A response read back from the archive."""

    status_line: str
    headers: list[tuple[str, str]]
    warc_headers: dict[str, str] = field(default_factory=dict)
    record_type: str = "response"
    status_code: str | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    @property
    def target_uri(self) -> str:
        return self.warc_headers.get("WARC-Target-URI", "")


def resolve_file(file: str, directory: Path | None = None) -> Path:
    """A stored WARC file name as a path (names are relative to the WARC directory)."""
    path = Path(file)
    if path.is_absolute():
        return path
    return (directory if directory is not None else get_settings().warc_dir) / path


def read_record(
    file: str, offset: int, *, directory: Path | None = None, max_bytes: int | None = None
) -> tuple[ArchivedResponse, bytes]:
    """The response record at ``offset``: its headers and payload, content coding undone.

    ``max_bytes`` bounds what is decompressed (an archived gzip bomb stays harmless);
    the default is the fetcher's decompressed-size cap.
    """
    if max_bytes is None:
        max_bytes = get_settings().max_decompressed_bytes
    path = resolve_file(file, directory)
    if not path.is_file():
        raise NotFound("WARC file", file)
    with open(path, "rb") as fh:
        fh.seek(offset)
        try:
            record = next(iter(ArchiveIterator(fh)))
        except (StopIteration, ArchiveLoadFailed, OSError, ValueError) as exc:
            raise ArchiveError(f"No WARC record at offset {offset} of {file}.") from exc
        if record.http_headers is None:
            raise ArchiveError(f"The record at offset {offset} of {file} has no HTTP response.")
        http = record.http_headers
        response = ArchivedResponse(
            status_line=f"{http.protocol} {http.statusline}".strip(),
            headers=[(str(k), str(v)) for k, v in http.headers],
            warc_headers={str(k): str(v) for k, v in record.rec_headers.headers},
            record_type=str(record.rec_type),
            status_code=http.get_statuscode(),
        )
        try:
            payload = record.content_stream().read(max_bytes)
        except (OSError, ValueError, EOFError, zlib.error) as exc:
            raise ArchiveError(f"The record at offset {offset} of {file} is corrupt.") from exc
    return response, payload


def payload_sha256(file: str, offset: int, *, directory: Path | None = None) -> str:
    """SHA-256 of an archived response's payload: the bytes the fetcher digested."""
    _, payload = read_record(file, offset, directory=directory)
    return hashlib.sha256(payload).hexdigest()


def record_length(path: Path, offset: int) -> int:
    """Length in the file of the record at ``offset`` (for copying it byte for byte)."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            records = ArchiveIterator(fh)
            record = next(iter(records))
            record.content_stream().read()
            records.read_to_end(record)
            return int(records.get_record_length())
    except (StopIteration, ArchiveLoadFailed, OSError, ValueError, zlib.error) as exc:
        raise ArchiveError(f"No WARC record at offset {offset} of {path.name}.") from exc


def charset_of(content_type: str | None) -> str:
    """The charset a Content-Type declares, when Python knows it; UTF-8 otherwise."""
    match = _CHARSET.search(content_type or "")
    if match:
        try:
            "".encode(match.group(1))
            return match.group(1)
        except LookupError:
            pass
    return "utf-8"
