"""Recording fetches and extractions in the evidence tables, with their audit events.

Each function takes the caller's session first and writes in the caller's transaction,
audit event included (STYLE 15)::

    with session_scope(engine) as session:
        row = record_fetch(session, result, actor="cli:alice")
        passages = record_extraction(session, row, extraction, actor="cli:alice")

A page is a ``Document`` keyed by its normalised final URL; each attempt is a ``Fetch``
row, failures included. A 304 (``not_modified``) row takes the SHA-256, size and archived
copy of the newest full fetch of the same URL, so that for every row with a digest, the
WARC record it points at holds exactly those bytes (which is what ``audit verify`` checks).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from evidence import audit
from evidence.db import insert_once
from evidence.errors import BadInput, FactcheckError
from evidence.models import Document, Fetch, Passage
from evidence.store import insert_rows
from evidence.types import utcnow
from sources.extract import extract
from sources.results import Extraction, FetchResult
from sources.urls import normalize_url, site_of

_CONTENT_TYPE_MAX = 255
_LANGUAGE_MAX = 20
_DATE_SOURCE_MAX = 40
_SITE_MAX = 255
_KEY_MAX = 64
GONE_STATUSES = frozenset({404, 410})


def _normalized(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return normalize_url(url)
    except BadInput:
        return None


def url_forms(url: str) -> set[str]:
    """``url`` as given and normalised: the forms a fetch row's requested_url may hold."""
    forms = {url}
    if (normalized := _normalized(url)) is not None:
        forms.add(normalized)
    return forms


def get_or_create_document(session: Session, url: str) -> Document | None:
    """The document for ``url`` (normalised); None when it is not an http(s) URL."""
    key = _normalized(url)
    if key is None:
        return None
    found = session.exec(select(Document).where(Document.url == key)).first()
    if found is not None:
        return found
    document = Document(url=key, site=site_of(key)[:_SITE_MAX] or None)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite runs one writer at a time and this transaction holds the lock since its
        # BEGIN IMMEDIATE (evidence.db): nobody inserted the URL since the look-up above,
        # so no savepoint is needed for a race that cannot happen
        session.add(document)
        session.flush()
        return document
    find = select(Document).where(Document.url == key)
    return insert_once(session, document, lambda: session.exec(find).first())[0]


def previous_fetch(session: Session, url: str) -> Fetch | None:
    """The newest full (200, archived or not) fetch of ``url``."""
    return session.exec(
        select(Fetch)
        .where(col(Fetch.requested_url).in_(url_forms(url)))
        .where(Fetch.status_code == 200, col(Fetch.error_kind).is_(None))
        .where(col(Fetch.sha256).is_not(None))
        .order_by(col(Fetch.fetched_at).desc(), col(Fetch.id).desc())
        .limit(1)
    ).first()


def conditional_headers(session: Session, url: str) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from the newest full fetch of ``url`` (or {})."""
    previous = previous_fetch(session, url)
    if previous is None:
        return {}
    headers: dict[str, str] = {}
    if etag := previous.headers.get("etag"):
        headers["If-None-Match"] = etag
    if last_modified := previous.headers.get("last-modified"):
        headers["If-Modified-Since"] = last_modified
    return headers


def _content_fields(session: Session, result: FetchResult) -> dict[str, Any]:
    """Digest, size and archived copy; a 304 borrows them from the fetch it confirmed."""
    fields: dict[str, Any] = {
        "sha256": result.sha256,
        "byte_count": result.byte_count if result.status is not None else None,
        "warc_file": result.warc_file,
        "warc_offset": result.warc_offset,
        "warc_length": result.warc_length,
    }
    if result.not_modified and (previous := previous_fetch(session, result.url)) is not None:
        fields.update(
            sha256=previous.sha256,
            byte_count=previous.byte_count,
            warc_file=previous.warc_file,
            warc_offset=previous.warc_offset,
            warc_length=previous.warc_length,
        )
    return fields


def record_fetch(
    session: Session, result: FetchResult, *, actor: str, run_id: int | None = None
) -> Fetch:
    """Write one fetch outcome (success or failure) and its FetchRecorded event."""
    document = get_or_create_document(session, result.final_url or result.url)
    content = _content_fields(session, result)
    row = Fetch(
        document_id=document.id if document else None,
        run_id=run_id,
        requested_url=result.url,
        final_url=result.final_url,
        status_code=result.status,
        headers=dict(result.headers),
        content_type=(result.content_type or "")[:_CONTENT_TYPE_MAX] or None,
        elapsed_ms=result.elapsed_ms,
        not_modified=result.not_modified,
        error_kind=result.error_kind,
        error=result.error,
        fetched_at=result.fetched_at or utcnow(),
        **content,
    )
    session.add(row)
    if document is not None:
        _mark_gone(document, result)
    session.flush()
    assert row.id is not None
    # the archived location rides along (extra fields) so `audit verify` can re-digest it
    event = audit.FetchRecorded.model_validate(
        {
            "fetch_id": row.id,
            "url": result.url,
            "status_code": result.status,
            "sha256": row.sha256,
            "error_kind": result.error_kind,
            "final_url": result.final_url,
            "not_modified": result.not_modified,
            "warc_file": row.warc_file,
            "warc_offset": row.warc_offset,
        }
    )
    audit.record(session, event, actor=actor)
    return row


def _aware(value: datetime | None) -> datetime | None:
    """Page dates without a zone are taken as UTC (the tables refuse naive times)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _mark_gone(document: Document, result: FetchResult) -> None:
    if result.status in GONE_STATUSES:
        document.gone, document.updated_at = True, utcnow()
    elif result.ok and document.gone:
        document.gone, document.updated_at = False, utcnow()


def passages_of(session: Session, fetch_id: int) -> list[Passage]:
    return list(
        session.exec(
            select(Passage).where(Passage.fetch_id == fetch_id).order_by(col(Passage.ordinal))
        ).all()
    )


def _already_extracted(session: Session, fetch_id: int) -> bool:
    return any(
        ev.action == audit.PassagesExtracted.action
        for ev in audit.events_for(session, f"fetch:{fetch_id}")
    )


def _update_document(document: Document, extraction: Extraction, final_url: str | None) -> None:
    """Metadata from the newest extraction; a field it did not find keeps its old value."""
    document.title = extraction.title or document.title
    document.canonical_url = extraction.canonical_url or document.canonical_url
    # the outlet's own name when the page says it (og:site_name), else the host: reviewers
    # read "The Ledger", not "127.0.0.5"
    if extraction.site_name and extraction.site_name.strip():
        document.site = " ".join(extraction.site_name.split())[:_SITE_MAX]
    elif final_url:
        document.site = site_of(final_url)[:_SITE_MAX] or document.site
    if extraction.authors:
        document.byline = ", ".join(extraction.authors)
    if extraction.language:
        document.language = extraction.language[:_LANGUAGE_MAX]
    document.published_at = _aware(extraction.published) or document.published_at
    document.modified_at = _aware(extraction.modified) or document.modified_at
    if extraction.date_source:
        document.date_source = extraction.date_source[:_DATE_SOURCE_MAX]
    document.updated_at = utcnow()


def record_extraction(
    session: Session, fetch_row: Fetch, extraction: Extraction, *, actor: str
) -> list[Passage]:
    """Write the passages of one fetched page and update its document; idempotent.

    Recording the same fetch's extraction again writes nothing and returns the passages
    already recorded.
    """
    if fetch_row.id is None or fetch_row.document_id is None:
        raise FactcheckError("Only a recorded fetch of a document can have passages.")
    if _already_extracted(session, fetch_row.id):
        return passages_of(session, fetch_row.id)
    document = session.get(Document, fetch_row.document_id)
    assert document is not None
    _update_document(document, extraction, fetch_row.final_url)
    passages = [
        Passage(
            document_id=fetch_row.document_id,
            fetch_id=fetch_row.id,
            ordinal=span.ordinal,
            key=span.id[:_KEY_MAX],
            text=span.text,
            start=span.start,
            end=span.end,
            sha256=hashlib.sha256(span.text.encode("utf-8")).hexdigest(),
            published_at=_aware(extraction.published),
        )
        for span in extraction.passages
    ]
    insert_rows(session, passages, key="ordinal")  # one INSERT, not one per passage
    session.add(document)
    session.flush()
    event = audit.PassagesExtracted(
        fetch_id=fetch_row.id, document_id=fetch_row.document_id, passages=len(passages)
    )
    audit.record(session, event, actor=actor, rows=passages)
    return passages


@dataclass(frozen=True)
class StoredPage:
    """What ``store_page`` wrote: the fetch row, the page's extraction and its passages."""

    fetch: Fetch
    extraction: Extraction | None
    passages: list[Passage]


def extract_result(result: FetchResult) -> Extraction | None:
    """The extraction of a fetched page; None for a failure or a 304. Pure: call it before
    opening the transaction that stores the page."""
    if not result.ok or result.not_modified or (result.text is None and not result.body):
        return None
    return extract(
        result.text if result.text is not None else result.body,
        url=result.final_url or result.url,
        content_type=result.content_type,
    )


def store_page(
    session: Session,
    result: FetchResult,
    extraction: Extraction | None,
    *,
    actor: str,
    run_id: int | None = None,
) -> StoredPage:
    """Record one fetched page: the fetch row (success or failure), then, for a page with an
    extraction, its document and passages. The one way a fetch reaches the database
    (``factcheck fetch`` and the verify flow both come here)."""
    row = record_fetch(session, result, actor=actor, run_id=run_id)
    passages: list[Passage] = []
    if extraction is not None and row.document_id is not None:
        passages = record_extraction(session, row, extraction, actor=actor)
    return StoredPage(row, extraction, passages)
