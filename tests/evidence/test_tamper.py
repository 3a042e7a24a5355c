"""The tamper-and-forge kit: every kind of edit an attacker could make, and the line that
names it.

Two claims are built by the real code (pages fetched from a local server and archived,
passages extracted, evidence selected, verdicts decided through the queue), with claim A's
verdict decided after claim B's whole trail, so A's chain segment holds B's events. Then:

- a direct ``UPDATE`` of each vouched table (claims, verdicts, evidence, passages, review
  tasks, users), a ``DELETE`` and an ``INSERT`` outside the application: ``audit verify``
  names the row, and the column where the event holds the value;
- edits of each derived bundle file, with and without a recomputed manifest, and a bundle
  that leaks another claim's events: ``audit check-bundle`` names the file and the item;
- a bundle other than the one exported: ``--expect`` names the manifest.

Real SQLite and PostgreSQL (the ``db`` fixture); on PostgreSQL the attacker is the table
owner (``tamper_sql``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from evidence.audit import event_json
from evidence.models import AuditEvent, Claim, Passage, ReviewTask, User, Verdict
from tests.flows.audit_fixtures import (
    Trail,
    build_trail,
    page_server,  # noqa: F401 - fixture
    publish_verdict,
    tamper_sql,
)


@dataclass(frozen=True)
class Two:
    a: Trail
    b: Trail


@pytest.fixture
def two(db, page_server) -> Two:  # type: ignore[no-untyped-def]  # noqa: F811
    a = build_trail(db.engine, page_server, [31, 32], verdict=False)
    b = build_trail(db.engine, page_server, [33], verdict=True)
    with Session(db.engine) as session:
        verdict_id = publish_verdict(session, a.claim_id, a.evidence_ids)
        session.commit()
    return Two(Trail(a.claim_id, a.fetch_ids, a.evidence_ids, verdict_id), b)


def latest_recording(engine: Any, key: str) -> int:
    """The last event that recorded row ``key`` ("verdict:1")."""
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
    return max(e.seq for e in events if key in (e.payload.get("rows") or {}))


def verify_error(cli) -> str:  # type: ignore[no-untyped-def]
    r = cli("audit", "verify")
    assert r.code == 1, r.out
    return str(r.err)


def test_untouched_database_verifies(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    r = cli("audit", "verify", "--json")
    report = json.loads(r.out)
    assert r.code == 0, report["reason"]
    assert report["rows"] > 10 and report["row_problems"] == report["unvouched"] == 0


# -- the tables -----------------------------------------------------------------------------


def test_verdict_rating_edit_is_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    vid = two.a.verdict_id
    tamper_sql(db, f"UPDATE verdict SET rating = 'true' WHERE id = {vid}")
    seq = latest_recording(db.engine, f"verdict:{vid}")
    expected = f"verdict {vid}: rating is 'true' in the table, event {seq} recorded 'false'"
    assert expected in verify_error(cli)
    # the published ClaimReview would say "True": the check names what people would read


def test_claim_text_edit_is_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    cid = two.b.claim_id
    tamper_sql(db, f"UPDATE claim SET text = 'The bridge was never closed' WHERE id = {cid}")
    seq = latest_recording(db.engine, f"claim:{cid}")
    err = verify_error(cli)
    assert f"claim {cid}: " in err and f"event {seq}" in err and "text" in err


def test_claim_status_edit_is_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    cid = two.a.claim_id
    tamper_sql(db, f"UPDATE claim SET status = 'new' WHERE id = {cid}")
    seq = latest_recording(db.engine, f"claim:{cid}")
    expected = f"claim {cid}: status is 'new' in the table, event {seq} recorded 'published'"
    assert expected in verify_error(cli)


def test_evidence_edit_is_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    eid = two.b.evidence_ids[0]
    tamper_sql(db, f"UPDATE evidence SET score = 42.5, active = false WHERE id = {eid}")
    seq = latest_recording(db.engine, f"evidence:{eid}")
    assert f"evidence {eid}: score is 42.5 in the table, event {seq} recorded" in verify_error(cli)


def test_passage_text_edit_is_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine) as session:
        passage = session.exec(
            select(Passage).where(Passage.fetch_id == two.a.fetch_ids[1]).order_by(col(Passage.id))
        ).first()
    assert passage is not None and passage.id is not None
    tamper_sql(db, f"UPDATE passage SET text = 'The council denied it.' WHERE id = {passage.id}")
    seq = latest_recording(db.engine, f"passage:{passage.id}")
    err = verify_error(cli)
    assert f"passage {passage.id}: " in err and "text" in err and f"event {seq}" in err


def test_review_task_edit_is_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine) as session:
        task = session.exec(select(ReviewTask).where(ReviewTask.claim_id == two.b.claim_id)).one()
    tamper_sql(db, f"UPDATE review_task SET state = 'queued' WHERE id = {task.id}")
    seq = latest_recording(db.engine, f"review_task:{task.id}")
    expected = f"review task {task.id}: state is 'queued' in the table, event {seq} recorded 'done'"
    assert expected in verify_error(cli)


def test_user_role_and_password_edits_are_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine) as session:
        user = session.exec(select(User).order_by(col(User.id))).first()
    assert user is not None
    tamper_sql(db, f"UPDATE app_user SET role = 'admin' WHERE id = {user.id}")
    seq = latest_recording(db.engine, f"user:{user.id}")
    expected = f"user {user.id}: role is 'admin' in the table, event {seq} recorded 'reviewer'"
    assert expected in verify_error(cli)
    tamper_sql(
        db, f"UPDATE app_user SET role = 'reviewer', token_hash = '{'0' * 64}' WHERE id = {user.id}"
    )
    assert f"user {user.id}: its token_hash does not match event {seq}'s digest" in verify_error(
        cli
    )


def test_deleted_row_is_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    vid = two.b.verdict_id
    seq = latest_recording(db.engine, f"verdict:{vid}")
    tamper_sql(db, f"DELETE FROM verdict WHERE id = {vid}")
    assert f"verdict {vid} is not in the table; event {seq} recorded it" in verify_error(cli)


def test_inserted_row_is_named_as_never_vouched(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    tamper_sql(
        db,
        "INSERT INTO app_user (name, role, active, created_at) "
        "VALUES ('mallory', 'admin', true, CURRENT_TIMESTAMP)",
    )
    with Session(db.engine) as session:
        mallory = session.exec(select(User).where(User.name == "mallory")).one()
    err = verify_error(cli)
    assert f"user {mallory.id} is in the table, but no audit event records it" in err


def test_edit_of_an_older_verdict_is_named(db, cli, two) -> None:  # type: ignore[no-untyped-def]
    # the first claim's verdict, decided before the other claim's whole trail
    tamper_sql(db, f"UPDATE verdict SET rationale = 'trust me' WHERE id = {two.b.verdict_id}")
    seq = latest_recording(db.engine, f"verdict:{two.b.verdict_id}")
    err = verify_error(cli)
    assert f"verdict {two.b.verdict_id}: rationale is 'trust me' in the table, event {seq}" in err


# -- the bundles ----------------------------------------------------------------------------


@pytest.fixture
def bundle(db, cli, two, tmp_path: Path) -> tuple[Path, str]:  # type: ignore[no-untyped-def]
    out = tmp_path / "bundle"
    r = cli("audit", "export", str(two.a.claim_id), "--out", str(out), "--json")
    assert r.code == 0, r.err
    return out, json.loads(r.out)["manifest_sha256"]


def _read(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _write(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2), "utf-8")


def resign(bundle: Path) -> None:
    """Recompute the manifest's digests, as a forger holding the bundle would."""
    manifest = _read(bundle / "manifest.json")
    for name, entry in manifest["files"].items():
        entry["sha256"] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
        entry["bytes"] = (bundle / name).stat().st_size
    _write(bundle / "manifest.json", manifest)


def problems(cli, bundle: Path, *extra: str) -> list[str]:  # type: ignore[no-untyped-def]
    r = cli("audit", "check-bundle", str(bundle), "--json", *extra)
    assert r.code == 1, r.out
    return list(json.loads(r.out)["problems"])


def test_bundle_is_intact_and_leaks_nothing(db, cli, two, bundle) -> None:  # type: ignore[no-untyped-def]
    out, digest = bundle
    r = cli("audit", "check-bundle", str(out), "--expect", digest)
    assert r.code == 0, r.err
    assert f"manifest.json SHA-256 {digest} (matches the expected digest)" in r.out
    report = json.loads(cli("audit", "check-bundle", str(out), "--json").out)
    assert report["reduced_events"] > 0 and report["rederived"] > 5
    segment = [json.loads(line) for line in (out / "chain.jsonl").read_text().splitlines()]
    theirs = [e for e in segment if e.get("subject") == f"claim:{two.b.claim_id}"]
    assert theirs and all(
        set(e) == {"seq", "v", "subject", "prev_hash", "digest", "hash"} for e in theirs
    )
    text = (out / "chain.jsonl").read_text() + (out / "events.json").read_text()
    with Session(db.engine) as session:
        other = session.get(Verdict, two.b.verdict_id)
        other_claim = session.get(Claim, two.b.claim_id)
    assert other is not None and other_claim is not None
    assert other.reviewer not in text and other_claim.text not in text


@pytest.mark.parametrize("recomputed", [False, True], ids=["as-is", "manifest-recomputed"])
def test_claim_file_edit_is_named(cli, two, bundle, recomputed: bool) -> None:  # type: ignore[no-untyped-def]
    out, digest = bundle
    claim = _read(out / "claim.json")
    claim["text"] = "Something nobody ever claimed"
    _write(out / "claim.json", claim)
    if recomputed:
        resign(out)
    found = problems(cli, out)
    cid = two.a.claim_id
    named = [p for p in found if p.startswith("claim.json: ")]
    assert named and (f"claim {cid}: " in named[-1] and "text" in named[-1])
    with_expect = problems(cli, out, "--expect", digest)[0]
    if recomputed:  # only the digest kept from the export shows the manifest was replaced
        assert with_expect.startswith("manifest.json: its SHA-256 is ")
    else:
        assert found[0].startswith("claim.json: its SHA-256 is ") and with_expect == found[0]


def test_claimreview_false_to_true_is_named(cli, bundle) -> None:  # type: ignore[no-untyped-def]
    out, _ = bundle
    review = _read(out / "claimreview.json")
    assert review["reviewRating"]["alternateName"] == "False"
    review["reviewRating"].update(alternateName="True", ratingValue=5)
    _write(out / "claimreview.json", review)
    resign(out)
    (first,) = problems(cli, out)
    assert first.startswith("claimreview.json: it differs from the one rebuilt")
    assert "reviewRating.alternateName is 'True', rebuilt 'False'" in first


def test_verdict_and_claimreview_forged_together_are_named(cli, two, bundle) -> None:  # type: ignore[no-untyped-def]
    out, _ = bundle
    verdicts = _read(out / "verdicts.json")
    verdicts[0]["rating"] = "true"
    _write(out / "verdicts.json", verdicts)
    review = _read(out / "claimreview.json")
    review["reviewRating"] = {
        "@type": "Rating",
        "ratingValue": 5,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "True",
    }
    _write(out / "claimreview.json", review)
    resign(out)
    found = problems(cli, out)
    vid = two.a.verdict_id
    assert any(p.startswith(f"verdicts.json: verdict {vid}: rating is 'true'") for p in found)


def test_evidence_row_edit_is_named(cli, bundle) -> None:  # type: ignore[no-untyped-def]
    out, _ = bundle
    doc = _read(out / "evidence.json")
    row = doc["evidence"][0]
    row["rank"] = 99
    _write(out / "evidence.json", doc)
    resign(out)
    found = problems(cli, out)
    assert any(p.startswith(f"evidence.json: evidence {row['id']}: rank is 99") for p in found)


def test_dropped_verdict_is_named(cli, two, bundle) -> None:  # type: ignore[no-untyped-def]
    out, _ = bundle
    _write(out / "verdicts.json", [])
    (out / "claimreview.json").unlink()
    manifest = _read(out / "manifest.json")
    del manifest["files"]["claimreview.json"]
    _write(out / "manifest.json", manifest)
    resign(out)
    found = problems(cli, out)
    vid = two.a.verdict_id
    assert any(f"verdict {vid} is recorded by event" in p and "not bundled" in p for p in found)


def test_leaked_event_in_the_segment_is_named(db, cli, two, bundle) -> None:  # type: ignore[no-untyped-def]
    out, _ = bundle
    lines = (out / "chain.jsonl").read_text().splitlines()
    index, reduced = next(
        (i, json.loads(x))
        for i, x in enumerate(lines)
        if json.loads(x).get("subject") == f"claim:{two.b.claim_id}"
    )
    with Session(db.engine) as session:
        full = session.get(AuditEvent, reduced["seq"])
    assert full is not None

    lines[index] = json.dumps(event_json(full))
    (out / "chain.jsonl").write_text("\n".join(lines) + "\n")
    resign(out)
    expected = f"chain.jsonl: event {reduced['seq']} about claim:{two.b.claim_id} is held in full"
    assert any(p.startswith(expected) for p in problems(cli, out))


def test_leaked_event_in_events_file_is_named(db, cli, two, bundle) -> None:  # type: ignore[no-untyped-def]
    out, _ = bundle

    with Session(db.engine) as session:
        theirs = session.exec(
            select(AuditEvent).where(AuditEvent.subject == f"claim:{two.b.claim_id}")
        ).first()
    assert theirs is not None
    doc = _read(out / "events.json")
    doc["events"] = sorted([*doc["events"], event_json(theirs)], key=lambda e: e["seq"])
    _write(out / "events.json", doc)
    resign(out)
    expected = (
        f"events.json: event {theirs.seq} is about claim:{two.b.claim_id}, "
        "not this claim or its fetches"
    )
    assert expected in problems(cli, out)
