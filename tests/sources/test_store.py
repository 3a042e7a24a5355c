"""Recording fetches and passages: rows, documents, audit events, idempotence, 304s."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session, col, func, select

from bench.sqlcount import SqlCounter
from evidence import audit
from evidence.archive import read_record
from evidence.audit.check import verify_audit
from evidence.db import session_scope
from evidence.models import AuditEvent, Document, Fetch, Passage
from evidence.settings import Settings
from sources.results import Extraction, FetchResult, PassageSpan
from sources.store import (
    conditional_headers,
    passages_of,
    record_extraction,
    record_fetch,
)
from tests.conftest import DB

from .conftest import Servers, fetch_all

SettingsMaker = Callable[..., Settings]
ACTOR = "test:store"


def _extraction(text: str = "First paragraph here.\n\nSecond one, a little longer.") -> Extraction:
    spans = []
    start = 0
    for ordinal, part in enumerate(text.split("\n\n")):
        start = text.index(part, start)
        spans.append(
            PassageSpan(f"p{ordinal}-{len(part)}", ordinal, part, start, start + len(part))
        )
        start += len(part)
    return Extraction(
        url="http://127.0.0.2/page",
        title="Harbour reopens",
        canonical_url="https://herald.example/harbour-reopens",
        site_name="Coastal Herald",
        authors=("Ada Lovelace", "Grace Hopper"),
        published=datetime(2024, 3, 5, 9, 30),  # naive on purpose: stored as UTC
        modified=None,
        date_source="opengraph",
        language="en",
        text=text,
        passages=tuple(spans),
        links=(),
        claim_reviews=(),
    )


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_successful_fetch_becomes_a_row_a_document_and_an_event(
    db: DB, servers: Servers, make_settings: SettingsMaker
) -> None:
    url = servers.url(2, "/chain/0")
    (result,) = fetch_all(make_settings(), url)
    with session_scope(db.engine) as session:
        row = record_fetch(session, result, actor=ACTOR)
        fetch_id = row.id
    with Session(db.engine) as session:
        stored = session.get(Fetch, fetch_id)
        assert stored is not None
        assert (stored.requested_url, stored.final_url) == (
            url,
            servers.url(2, "/page/after-chain"),
        )
        assert stored.sha256 == result.sha256 and stored.status_code == 200
        assert stored.warc_file == result.warc_file and stored.error_kind is None
        document = session.get(Document, stored.document_id)
        assert document is not None and document.url == servers.url(2, "/page/after-chain")
        assert document.site == "127.0.0.2"
        (event,) = audit.events_for(session, f"fetch:{fetch_id}")
        assert event.action == "fetch.recorded"
        assert event.payload["sha256"] == result.sha256
        assert event.payload["warc_offset"] == result.warc_offset
    assert audit.verify_chain(audit.iter_events(db.engine)).ok


def test_failures_are_rows_too(db: DB, servers: Servers, make_settings: SettingsMaker) -> None:
    results = fetch_all(
        make_settings(), servers.url(1, "/private/x"), "ftp://example.org/file", "http://10.0.0.1/"
    )
    with session_scope(db.engine) as session:
        rows = [record_fetch(session, r, actor=ACTOR) for r in results]
        assert [r.error_kind for r in rows] == ["robots", "invalid_url", "blocked_address"]
        assert all(r.error and r.sha256 is None and r.warc_file is None for r in rows)
        assert rows[0].document_id is not None and rows[1].document_id is None
    with Session(db.engine) as session:  # the chain is appended at commit
        assert _count(session, AuditEvent) == 3


def test_one_document_per_normalised_url_and_gone_tracking(
    db: DB, servers: Servers, make_settings: SettingsMaker
) -> None:
    page = servers.url(2, "/page/twice")
    results = fetch_all(make_settings(), page, page + "?utm_source=x#frag")
    base = FetchResult(url=page, ok=False, status=404, final_url=page, error_kind="http_status")
    with session_scope(db.engine) as session:
        first, second = (record_fetch(session, r, actor=ACTOR) for r in results)
        assert first.document_id == second.document_id
        gone = record_fetch(session, base, actor=ACTOR)
        document = session.get(Document, gone.document_id)
        assert document is not None and document.gone
        record_fetch(session, results[0], actor=ACTOR)
        session.refresh(document)
        assert not document.gone
        assert _count(session, Document) == 1


def test_passages_are_recorded_once_with_the_document_metadata(
    db: DB, servers: Servers, make_settings: SettingsMaker
) -> None:
    (result,) = fetch_all(make_settings(), servers.url(2, "/page/passages"))
    extraction = _extraction()
    with session_scope(db.engine) as session:
        row = record_fetch(session, result, actor=ACTOR)
        passages = record_extraction(session, row, extraction, actor=ACTOR)
        fetch_id = row.id
    assert [p.key for p in passages] == [s.id for s in extraction.passages]
    with session_scope(db.engine) as session:
        row2 = session.get(Fetch, fetch_id)
        assert row2 is not None
        before = (_count(session, Passage), _count(session, AuditEvent))
        again = record_extraction(session, row2, extraction, actor=ACTOR)
        assert (_count(session, Passage), _count(session, AuditEvent)) == before
        assert [p.id for p in again] == [p.id for p in passages]
    with Session(db.engine) as session:
        stored = passages_of(session, fetch_id or 0)
        for span, passage in zip(extraction.passages, stored, strict=True):
            assert (passage.text, passage.start, passage.end) == (span.text, span.start, span.end)
            assert passage.text == extraction.text[passage.start : passage.end]
            assert passage.sha256 == hashlib.sha256(span.text.encode()).hexdigest()
            assert passage.published_at == datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
        document = session.get(Document, stored[0].document_id)
        assert document is not None
        assert document.title == "Harbour reopens"
        assert document.site == "Coastal Herald"  # the outlet's own name, not its host
        assert document.byline == "Ada Lovelace, Grace Hopper"
        assert document.canonical_url == "https://herald.example/harbour-reopens"
        assert (document.language, document.date_source) == ("en", "opengraph")
        actions = [e.action for e in audit.events_for(session, f"fetch:{fetch_id}")]
        assert actions == ["fetch.recorded", "passages.extracted"]


def test_a_page_without_passages_is_recorded_once_too(
    db: DB, servers: Servers, make_settings: SettingsMaker
) -> None:
    (result,) = fetch_all(make_settings(), servers.url(2, "/page/empty"))
    empty = _extraction("")
    empty = Extraction(**{**vars(empty), "passages": ()})
    with session_scope(db.engine) as session:
        row = record_fetch(session, result, actor=ACTOR)
        assert record_extraction(session, row, empty, actor=ACTOR) == []
        events = _count(session, AuditEvent)
        assert record_extraction(session, row, empty, actor=ACTOR) == []
        assert _count(session, AuditEvent) == events


def test_conditional_get_round_trip_reuses_the_previous_digest(
    db: DB, servers: Servers, make_settings: SettingsMaker
) -> None:
    url = servers.url(2, "/etag")
    settings = make_settings()
    with session_scope(db.engine) as session:
        assert conditional_headers(session, url) == {}
    (first,) = fetch_all(settings, url)
    with session_scope(db.engine) as session:
        first_row = record_fetch(session, first, actor=ACTOR)
        validators = conditional_headers(session, url)
    assert validators == {
        "If-None-Match": '"v1"',
        "If-Modified-Since": "Tue, 05 Mar 2024 09:30:00 GMT",
    }
    (again,) = fetch_all(settings, url, conditional={url: validators})
    assert again.not_modified and again.status == 304
    with session_scope(db.engine) as session:
        row = record_fetch(session, again, actor=ACTOR)
        assert row.not_modified and row.status_code == 304
        assert row.sha256 == first_row.sha256 == first.sha256
        assert (row.warc_file, row.warc_offset) == (first_row.warc_file, first_row.warc_offset)
        newest = session.exec(
            select(Fetch).where(Fetch.requested_url == url).order_by(col(Fetch.id).desc())
        ).first()
        assert newest is not None and newest.id == row.id
    _, payload = read_record(row.warc_file or "", row.warc_offset or 0, directory=settings.warc_dir)
    assert hashlib.sha256(payload).hexdigest() == row.sha256


def test_a_pages_passages_go_in_one_insert_and_the_audit_holds_them(
    db: DB, servers: Servers, make_settings: SettingsMaker
) -> None:
    settings = make_settings()
    (result,) = fetch_all(settings, servers.url(2, "/page/many"))
    extraction = _extraction("\n\n".join(f"Paragraph number {i} of the page." for i in range(40)))
    with SqlCounter(db.engine) as counter, session_scope(db.engine) as session:
        row = record_fetch(session, result, actor=ACTOR)
        passages = record_extraction(session, row, extraction, actor=ACTOR)
    assert counter.counts.inserts["passage"] == 1
    # no savepoint for the new document on SQLite: one writer at a time, so no race
    assert counter.counts.savepoints == (0 if db.kind == "sqlite" else 1)
    with Session(db.engine) as session:
        stored = passages_of(session, row.id or 0)
    # each returned row carries the id the database gave the passage of its ordinal
    assert [(p.id, p.ordinal, p.text) for p in passages] == [
        (s.id, s.ordinal, s.text) for s in stored
    ]
    assert len({p.id for p in passages}) == 40
    report = verify_audit(db.engine, warc_dir=settings.warc_dir)
    assert report.ok and report.rows >= 40, report
