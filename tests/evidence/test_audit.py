from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from evidence import audit
from evidence.audit import rows
from evidence.audit.chain import pending_events
from evidence.audit.check import verify_audit
from evidence.errors import AuditError
from tests.factories import make_claim


def _events(db) -> list[audit.AuditEvent]:  # type: ignore[no-untyped-def]
    return list(audit.iter_events(db.engine, batch=3))


def _seed(db, n: int = 5) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        for _ in range(n):
            make_claim(s)
        s.commit()


def test_chain_links_and_verifies(db) -> None:  # type: ignore[no-untyped-def]
    _seed(db, 7)
    events = _events(db)
    assert [e.seq for e in events] == list(range(1, 8))
    assert events[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    report = audit.verify_chain(iter(events))
    assert report.ok and report.checked == 7


def test_unknown_event_kind_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    class Sneaky(audit.Event):
        subject_kind = "claim"
        claim_id: int

    with Session(db.engine) as s, pytest.raises(AuditError):
        audit.record(s, Sneaky(claim_id=1), actor="t")


def test_audit_event_rolls_back_with_its_change(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        make_claim(s)
        s.rollback()
    assert _events(db) == []


def _tamper(db, sql: str) -> None:  # type: ignore[no-untyped-def]
    with db.engine.begin() as conn:
        if db.kind == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        conn.execute(text(sql))
        if db.kind == "postgresql":
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


@pytest.mark.parametrize(
    "sql,bad_seq",
    [
        ("UPDATE audit_event SET actor = 'mallory' WHERE seq = 3", 3),
        ("DELETE FROM audit_event WHERE seq = 4", 4),
        ("UPDATE audit_event SET payload = '{\"claim_id\": 1}' WHERE seq = 2", 2),
    ],
)
def test_tampering_is_named(db, cli, sql: str, bad_seq: int) -> None:  # type: ignore[no-untyped-def]
    _seed(db, 6)
    assert cli("audit", "verify").code == 0
    _tamper(db, sql)
    report = audit.verify_chain(iter(_events(db)))
    assert not report.ok and report.first_bad_seq == bad_seq
    r = cli("audit", "verify")
    assert r.code == 1 and f"broken at event {bad_seq}" in r.err


def test_reordering_is_detected(db) -> None:  # type: ignore[no-untyped-def]
    _seed(db, 4)
    # swap the contents of events 2 and 3 (keeping their seq numbers)
    _tamper(db, "UPDATE audit_event SET seq = -2 WHERE seq = 2")
    _tamper(db, "UPDATE audit_event SET seq = 2 WHERE seq = 3")
    _tamper(db, "UPDATE audit_event SET seq = 3 WHERE seq = -2")
    report = audit.verify_chain(iter(_events(db)))
    assert not report.ok and report.first_bad_seq == 2


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete(pg_db) -> None:  # type: ignore[no-untyped-def]
    db = pg_db
    _seed(db, 1)
    for sql in (
        "UPDATE audit_event SET actor = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(sql))
    assert len(_events(db)) == 1


@pytest.mark.postgres
def test_the_app_can_run_as_a_role_that_may_only_append_to_the_audit_table(pg_db) -> None:  # type: ignore[no-untyped-def]
    """The application needs INSERT and SELECT on audit_event, nothing more, and not ownership."""
    import uuid

    from sqlalchemy.engine import make_url

    from evidence.db import make_engine

    role = f"fc_app_{uuid.uuid4().hex[:8]}"
    with pg_db.engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        )
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM {role}"))
    app = make_engine(make_url(pg_db.url).set(username=role).render_as_string(hide_password=False))
    try:
        with Session(app, expire_on_commit=False) as s:
            make_claim(s, actor="user:app")
            s.commit()
        with pytest.raises(DBAPIError, match="permission denied"), app.begin() as conn:
            conn.execute(text("UPDATE audit_event SET actor = 'x'"))
        assert audit.verify_chain(audit.iter_events(app)).ok
    finally:
        app.dispose()
        with pg_db.engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


# -- hash rules and row vouching ------------------------------------------------------------


def test_new_events_use_rule_two_and_record_their_rows(db) -> None:  # type: ignore[no-untyped-def]
    _seed(db, 2)
    events = _events(db)
    assert all(e.payload["v"] == audit.HASH_RULE == 2 for e in events)
    claim_id = events[0].payload["claim_id"]
    recorded = events[0].payload["rows"][f"claim:{claim_id}"]
    assert recorded["v"]["status"] == "new" and "text" in recorded["v"] | recorded["d"]
    assert "updated_at" not in recorded["v"] | recorded["d"]  # excluded as volatile


def test_rule_one_events_still_verify_next_to_rule_two(db) -> None:  # type: ignore[no-untyped-def]
    """An older chain keeps verifying: each event is rehashed under the rule it names."""
    _seed(db, 2)
    new = _events(db)
    prev, older = audit.GENESIS, []
    for seq, ev in enumerate(new, start=1):
        payload = {k: v for k, v in ev.payload.items() if k not in ("v", "rows")}
        fields = dict(seq=seq, at=ev.at, actor=ev.actor, action=ev.action, subject=ev.subject)
        digest = audit.compute_hash(**fields, payload=payload, prev_hash=prev)
        older.append(audit.EventRow(**fields, payload=payload, prev_hash=prev, hash=digest))
        prev = digest
    mixed, link = list(older), prev
    for ev in new:
        seq = len(mixed) + 1
        fields = dict(seq=seq, at=ev.at, actor=ev.actor, action=ev.action, subject=ev.subject)
        digest = audit.compute_hash(**fields, payload=ev.payload, prev_hash=link)
        mixed.append(audit.EventRow(**fields, payload=ev.payload, prev_hash=link, hash=digest))
        link = digest
    assert audit.verify_chain(mixed).ok
    forged = mixed[1]._replace(payload={**mixed[1].payload, "old": "x"})
    assert audit.verify_chain([mixed[0], forged, *mixed[2:]]).first_bad_seq == 2
    # a rule-2 event reduced to its link fields still links; a changed digest does not
    full = mixed[-1]
    reduced = audit.ReducedEvent(
        full.seq, full.subject, full.prev_hash, audit.event_digest(full), full.hash
    )
    assert audit.rehash(reduced) == full.hash
    assert audit.rehash(reduced._replace(subject="claim:999")) != full.hash
    assert audit.rehash(reduced._replace(digest="0" * 64)) != full.hash


def test_reserved_payload_fields_are_refused(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine) as s, pytest.raises(AuditError, match="chain's own"):
        audit.record(s, audit.RunStarted(claim_id=1, run_id=1, kind="verify", rows=[]), actor="t")


def test_every_column_of_a_vouched_table_is_a_decision() -> None:
    """A column added to a vouched table must be audited or excluded with a reason, and a
    table is vouched for or listed as not, with why."""
    for spec in rows.TABLES:
        columns = set(spec.table.c.keys())
        decided = set(spec.columns) | set(spec.excluded)
        assert columns == decided, (spec.kind, columns ^ decided)
        assert all(reason for reason in spec.excluded.values())
    vouched = {spec.table.name for spec in rows.TABLES}
    assert set(SQLModel.metadata.tables) == vouched | set(rows.NOT_VOUCHED)
    assert not vouched & set(rows.NOT_VOUCHED)


# -- issue 15 item 2: events are buffered and appended at commit ------------------------------


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one())


def test_events_wait_for_commit_and_come_back_filled_in(db) -> None:  # type: ignore[no-untyped-def]
    _seed(db, 2)
    with Session(db.engine, expire_on_commit=False) as s:
        make_claim(s)
        make_claim(s)
        queued = pending_events(s)
        assert [e.action for e in queued] == ["claim.added", "claim.added"]
        assert all(e.hash == "" for e in queued)  # nothing appended (nor locked) yet
        s.commit()
    assert [e.seq for e in queued] == [3, 4]
    stored = _events(db)
    assert [(e.seq, e.prev_hash, e.hash) for e in stored[2:]] == [
        (e.seq, e.prev_hash, e.hash) for e in queued
    ]
    assert stored[2].prev_hash == stored[1].hash
    assert audit.verify_chain(iter(stored)).ok


def test_a_rolled_back_savepoint_takes_its_events_with_it(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        kept = make_claim(s, text="kept claim about the harbour budget")
        try:
            with s.begin_nested():
                make_claim(s, text="dropped claim about the tram timetable")
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
        with s.begin_nested():
            make_claim(s, text="kept claim about the library hours")
        s.commit()
    events = _events(db)
    assert len(events) == 2 and _count(db) == 2
    assert events[0].subject == f"claim:{kept.id}"
    assert audit.verify_chain(iter(events)).ok
    # the session's next transaction starts with nothing queued
    with Session(db.engine) as s:
        assert pending_events(s) == []


def test_concurrent_postgres_transactions_interleave_and_both_append(pg_db) -> None:  # type: ignore[no-untyped-def]
    """Two transactions record events, then wait for each other before committing. Had the
    first event taken the chain's lock, the second would block on it and never reach the
    barrier; with the append at commit both do their Python work side by side."""
    _seed(pg_db, 1)
    barrier = threading.Barrier(2, timeout=20)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with Session(pg_db.engine, expire_on_commit=False) as s:
                make_claim(s, text=f"{name} says the ferry fare doubled in {name}")
                barrier.wait()  # both hold an open transaction with a queued event
                make_claim(s, text=f"{name} says the bridge toll fell in {name}")
                barrier.wait()
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("Oslo", "Bergen")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    events = _events(pg_db)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    # each transaction's two events are appended together, in the order they were recorded
    cities = [e.payload["text"].split()[0] for e in events[1:]]
    assert cities[0] == cities[1] and cities[2] == cities[3] and cities[0] != cities[2]
    assert [e.payload["text"].split()[3] for e in events[1:]] == ["ferry", "bridge"] * 2
    report = verify_audit(pg_db.engine, warc_dir=pg_db.data_dir / "warc")
    assert report.ok, report.reason
    assert report.events == 5 and report.rows > 0


def test_a_transaction_reads_its_own_queued_events(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = make_claim(s)
        subject = f"claim:{claim.id}"
        assert [e.action for e in audit.events_for(s, subject)] == ["claim.added"]
        s.commit()
    with Session(db.engine) as s:
        assert [e.seq for e in audit.events_for(s, subject)] == [1]


def test_a_transaction_with_thousands_of_events_appends_them_all(db) -> None:  # type: ignore[no-untyped-def]
    _seed(db, 1)
    with Session(db.engine) as s:
        for run_id in range(2500):  # more than one INSERT's worth of rows
            event = audit.RunStarted(claim_id=1, run_id=run_id, kind="verify")
            audit.record(s, event, actor="t")
        s.commit()
    events = list(audit.iter_events(db.engine))
    assert [e.seq for e in events] == list(range(1, 2502))
    assert [e.payload["run_id"] for e in events[1:]] == list(range(2500))
    assert audit.verify_chain(iter(events)).ok
