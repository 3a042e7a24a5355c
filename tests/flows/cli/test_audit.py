"""`factcheck audit verify` and `audit show` over a real trail (fetched, archived, cited)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from evidence import audit
from evidence.audit.check import Anchor, verify_audit
from tests.flows.audit_fixtures import (
    build_trail,
    event_seq,
    fetch_row,
    flip_byte,
    page_server,  # noqa: F401 - fixture
    rewrite_record,
    tamper_sql,
)


@pytest.fixture
def trail(db, page_server):  # type: ignore[no-untyped-def]  # noqa: F811
    return build_trail(db.engine, page_server, [11, 12], verdict=True)


def _verify(cli):  # type: ignore[no-untyped-def]
    return cli("audit", "verify")


def test_intact_trail_verifies_chain_and_pages(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    r = cli("audit", "verify", "--json")
    report = json.loads(r.out)
    assert r.code == 0, r.err
    assert report["ok"] and report["payloads"] == 2
    assert report["events"] == report["head_seq"] > 10
    r = _verify(cli)
    assert r.code == 0 and "2 archived pages match" in r.out


@pytest.mark.parametrize("column", ["actor", "payload"])
def test_altered_row_is_named(db, cli, trail, column: str) -> None:  # type: ignore[no-untyped-def]
    seq = event_seq(db.engine, f"claim:{trail.claim_id}", "evidence.selected")
    value = "'mallory'" if column == "actor" else '\'{"claim_id": 1, "evidence": []}\''
    tamper_sql(db, f"UPDATE audit_event SET {column} = {value} WHERE seq = {seq}")
    r = _verify(cli)
    assert r.code == 1
    assert f"Audit chain broken at event {seq}: its content does not match its hash" in r.err


def test_deleted_row_is_named(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    seq = event_seq(db.engine, f"fetch:{trail.fetch_ids[1]}", "fetch.recorded")
    tamper_sql(db, f"DELETE FROM audit_event WHERE seq = {seq}")
    r = _verify(cli)
    assert r.code == 1
    assert f"broken at event {seq}: event {seq} is missing (next is {seq + 1})" in r.err


def test_reordered_rows_are_named(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    seq = event_seq(db.engine, f"claim:{trail.claim_id}", "run.started")
    tamper_sql(
        db,
        f"UPDATE audit_event SET seq = -1 WHERE seq = {seq}",
        f"UPDATE audit_event SET seq = {seq} WHERE seq = {seq + 1}",
        f"UPDATE audit_event SET seq = {seq + 1} WHERE seq = -1",
    )
    r = _verify(cli)
    assert r.code == 1 and f"broken at event {seq}:" in r.err


def test_forged_archived_page_is_named(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    fetch = fetch_row(db.engine, trail.fetch_ids[-1])  # its record is the last in the file
    assert fetch.warc_file and fetch.warc_offset is not None and fetch.warc_length
    path = db.data_dir / "warc" / fetch.warc_file
    rewrite_record(path, fetch.warc_offset, fetch.warc_length, b"council said", b"mayor denied")
    seq = event_seq(db.engine, f"fetch:{fetch.id}", "fetch.recorded")
    r = _verify(cli)
    assert r.code == 1
    assert f"Archived page altered at event {seq}: the archived page of fetch {fetch.id}" in r.err
    assert f"the event recorded {fetch.sha256}" in r.err


def test_corrupted_archive_bytes_are_named(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    fetch = fetch_row(db.engine, trail.fetch_ids[0])
    assert fetch.warc_file and fetch.warc_offset is not None and fetch.warc_length
    flip_byte(db.data_dir / "warc" / fetch.warc_file, fetch.warc_offset + fetch.warc_length // 2)
    seq = event_seq(db.engine, f"fetch:{fetch.id}", "fetch.recorded")
    r = _verify(cli)
    assert r.code == 1 and f"Archived page altered at event {seq}: " in r.err
    assert f"fetch {fetch.id}" in r.err


def test_fetch_row_digest_swap_is_named(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    fetch_id = trail.fetch_ids[0]
    tamper_sql(db, f"UPDATE fetch_record SET sha256 = '{'0' * 64}' WHERE id = {fetch_id}")
    seq = event_seq(db.engine, f"fetch:{fetch_id}", "fetch.recorded")
    r = _verify(cli)
    assert r.code == 1 and f"at event {seq}: fetch {fetch_id} holds SHA-256 {'0' * 64}" in r.err


def test_anchor_catches_dropped_newest_events(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    report = verify_audit(db.engine, warc_dir=db.data_dir / "warc")
    assert report.ok and report.head_hash
    head = Anchor(report.events, report.head_hash)
    assert cli("audit", "verify", "--anchor", f"{head.seq}:{head.hash}").code == 0
    tamper_sql(db, f"DELETE FROM audit_event WHERE seq = {head.seq}")
    # a shorter chain is still a valid chain, but the claim row no longer matches its
    # latest remaining event (the dropped one recorded its last status change)
    r = cli("audit", "verify")
    assert r.code == 1 and "claim " in r.err and "status is 'published' in the table" in r.err
    assert verify_audit(db.engine, warc_dir=db.data_dir / "warc", rows=False).ok
    r = cli("audit", "verify", "--anchor", f"{head.seq}:{head.hash}")
    assert r.code == 1 and f"anchor not matched at event {head.seq}" in r.err
    assert cli("audit", "verify", "--anchor", "12:nothex").code == 2


def test_verify_streams_in_pages(db, trail) -> None:  # type: ignore[no-untyped-def]
    whole = verify_audit(db.engine, warc_dir=db.data_dir / "warc")
    paged = verify_audit(db.engine, warc_dir=db.data_dir / "warc", batch=3)
    assert whole == paged and whole.ok and whole.payloads == 2


def test_show_names_who_what_when_and_which_fetch(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    r = cli("audit", "show", str(trail.claim_id), "--json")
    assert r.code == 0, r.err
    events = json.loads(r.out)["events"]
    actions = [e["action"] for e in events]
    assert actions[0] == "claim.added" and "verdict.decided" in actions
    assert actions.count("fetch.recorded") == 2 and actions.count("passages.extracted") == 2
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    fetched = [e for e in events if e["action"] == "fetch.recorded"]
    assert {e["fetch"]["fetch_id"] for e in fetched} == set(trail.fetch_ids)
    assert all(e["fetch"]["warc_file"] and e["fetch"]["sha256"] for e in fetched)
    decided = next(e for e in events if e["action"] == "verdict.decided")
    assert decided["actor"].startswith("user:rev")
    assert {c["fetch_id"] for c in decided["cites"]} == set(trail.fetch_ids)
    assert all(c["url"].endswith(("/article/11", "/article/12")) for c in decided["cites"])
    r = cli("audit", "show", str(trail.claim_id))
    assert r.code == 0 and "verdict.decided" in r.out
    assert f"cites evidence {trail.evidence_ids[0]}: fetch {trail.fetch_ids[0]} of " in r.out


def test_show_keeps_other_claims_out(db, cli, page_server, trail) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    other = build_trail(db.engine, page_server, [13], verdict=False)
    mine = json.loads(cli("audit", "show", str(trail.claim_id), "--json").out)["events"]
    theirs = json.loads(cli("audit", "show", str(other.claim_id), "--json").out)["events"]
    assert not {e["seq"] for e in mine} & {e["seq"] for e in theirs}
    assert {e["subject"] for e in theirs} == {f"claim:{other.claim_id}"} | {
        f"fetch:{i}" for i in other.fetch_ids
    }


def test_show_unknown_claim_is_bad_input(db, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("audit", "show", "999")
    assert r.code == 2 and r.err.strip() == "No claim with id 999."


def test_chain_verifier_reports_head(db, trail) -> None:  # type: ignore[no-untyped-def]
    rows = list(audit.iter_event_rows(db.engine, batch=4))
    report = audit.verify_chain(rows)
    assert report.ok and report.head_hash == rows[-1].hash
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == len(rows)


def test_rows_older_than_vouching_are_named_then_adopted(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    # a row written the way data older than row vouching was: no event records it
    tamper_sql(
        db,
        "INSERT INTO app_user (name, role, active, created_at) "
        "VALUES ('legacy', 'auditor', true, CURRENT_TIMESTAMP)",
    )
    r = cli("audit", "verify", "--json")
    report = json.loads(r.out)
    assert r.code == 1 and report["kind"] == "unvouched" and report["unvouched"] == 1
    assert "no audit event records it" in report["reason"] and "audit adopt" in report["reason"]
    r = cli("audit", "adopt", "--json")
    assert r.code == 0 and json.loads(r.out) == {"adopted": 1}, r.err
    assert cli("audit", "verify").code == 0
    # adoption is in the chain, under the user's subject, with who did it
    with db.engine.connect() as conn:
        subject, actor = conn.execute(
            text("SELECT subject, actor FROM audit_event WHERE action = 'rows.adopted'")
        ).one()
    assert subject.startswith("user:") and actor.startswith("cli:")


def test_adoption_never_absorbs_an_altered_row(db, cli, trail) -> None:  # type: ignore[no-untyped-def]
    tamper_sql(
        db,
        "INSERT INTO app_user (name, role, active, created_at) "
        "VALUES ('legacy', 'auditor', true, CURRENT_TIMESTAMP)",
        f"UPDATE verdict SET rating = 'true' WHERE id = {trail.verdict_id}",
    )
    r = cli("audit", "adopt")
    assert r.code != 0 and f"Not adopting: verdict {trail.verdict_id}: rating is 'true'" in r.err
    assert "rows.adopted" not in {e.action for e in audit.iter_events(db.engine)}
