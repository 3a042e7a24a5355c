"""`factcheck review …`, `user add`, `export claimreview` through the real CLI entry point."""

from __future__ import annotations

import io
import json

import pytest
from sqlmodel import Session, select

from evidence.db import session_scope
from evidence.models import User, Verdict
from evidence.settings import get_settings
from tests.conftest import DB
from tests.verdicts.factories import queued_claim
from verdicts import users


def _claim(db: DB) -> tuple[int, list[int]]:
    with session_scope(db.engine) as s:
        claim, _, rows = queued_claim(s, claimant="Jane Doe")
        assert claim.id is not None
        return claim.id, [r.id for r in rows if r.id]


def test_user_add_prints_the_token_once(db: DB, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    result = cli("user", "add", "alice", "--role", "reviewer", "--password-stdin")
    assert result.code == 0, result.err
    token = result.out.strip()
    assert "shown once" in result.err
    with Session(db.engine) as s:
        found = users.user_for_token(s, token)
        assert found is not None and found.name == "alice"
        assert users.authenticate(s, "alice", "a long password") is not None
    again = cli("user", "add", "alice", "--role", "reviewer")
    assert (again.code, again.err.strip()) == (2, "A user named alice already exists.")
    bad = cli("user", "add", "bob", "--role", "overlord")
    assert bad.code == 2 and bad.err.startswith("Unknown role 'overlord'")
    with Session(db.engine) as s:
        assert [u.name for u in s.exec(select(User)).all()] == ["alice"]


def test_a_reviewer_takes_decides_and_exports(db: DB, cli) -> None:  # type: ignore[no-untyped-def]
    claim_id, evidence = _claim(db)
    assert cli("user", "add", "alice", "--role", "reviewer").code == 0
    taken = cli("review", "next", "--as", "alice", "--json")
    assert taken.code == 0, taken.err
    detail = json.loads(taken.out)
    assert detail["claim"]["id"] == claim_id
    assert detail["task"]["lease_holder"] == "alice" and detail["task"]["state"] == "leased"
    assert [e["evidence_id"] for e in detail["evidence"]] == evidence

    shown = cli("review", "show", str(claim_id), "--as", "alice")
    assert (
        shown.code == 0
        and f"evidence {evidence[0]}" in shown.out
        and "leased by alice" in shown.out
    )

    listed = json.loads(cli("review", "list", "--json").out)
    assert [(i["claim_id"], i["lease_holder"]) for i in listed] == [(claim_id, "alice")]

    decided = cli(
        "review",
        "decide",
        str(claim_id),
        "--rating",
        "false",
        "--note",
        "the ledger says so",
        "--evidence",
        str(evidence[0]),
        "--as",
        "alice",
        "--version",
        str(detail["task"]["version"]),
    )
    assert decided.code == 0, decided.err
    assert decided.out.strip().endswith(f"on claim {claim_id}: false (published).")

    exported = cli("export", "claimreview", str(claim_id))
    assert exported.code == 0
    doc = json.loads(exported.out)
    assert doc["@type"] == "ClaimReview" and doc["reviewRating"]["alternateName"] == "False"
    empty = cli("review", "next", "--as", "alice")
    assert (empty.code, empty.out.strip()) == (0, "The queue is empty.")


def test_expected_errors_are_one_sentence_with_their_exit_code(db: DB, cli) -> None:  # type: ignore[no-untyped-def]
    claim_id, evidence = _claim(db)
    cli("user", "add", "alice", "--role", "reviewer")
    cli("user", "add", "bob", "--role", "reviewer")
    unknown = cli(
        "review",
        "decide",
        str(claim_id),
        "--rating",
        "pants",
        "--note",
        "x",
        "--evidence",
        str(evidence[0]),
        "--as",
        "alice",
    )
    assert unknown.code == 2 and unknown.err.startswith("Unknown rating 'pants'")
    assert unknown.err.count("\n") == 1
    missing = cli("review", "show", "999999")
    assert (missing.code, missing.err.strip()) == (2, "No claim with id 999999.")
    no_export = cli("export", "claimreview", str(claim_id))
    assert no_export.code == 2
    assert no_export.err.strip() == f"Claim {claim_id} has no published verdict to export."

    assert cli("review", "next", "--as", "alice").code == 0
    held = cli(
        "review",
        "decide",
        str(claim_id),
        "--rating",
        "false",
        "--note",
        "x",
        "--evidence",
        str(evidence[0]),
        "--as",
        "bob",
    )
    assert held.code == 1 and held.err.startswith(f"Claim {claim_id} is leased by alice until")
    stale = cli(
        "review",
        "decide",
        str(claim_id),
        "--rating",
        "false",
        "--note",
        "x",
        "--evidence",
        str(evidence[0]),
        "--as",
        "alice",
        "--version",
        "1",
    )
    assert stale.code == 1 and "changed since you loaded it" in stale.err
    not_mine = cli("review", "release", str(claim_id), "--as", "bob")
    assert (not_mine.code, not_mine.err.strip()) == (1, f"Claim {claim_id} is not leased by bob.")
    assert cli("review", "release", str(claim_id), "--as", "alice").code == 0
    with Session(db.engine) as s:
        assert s.exec(select(Verdict)).all() == []


def test_two_person_approval_from_the_cli(  # type: ignore[no-untyped-def]
    db: DB, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTCHECK_REVIEW_POLICY", "two-person")
    get_settings.cache_clear()
    claim_id, evidence = _claim(db)
    cli("user", "add", "alice", "--role", "reviewer")
    cli("user", "add", "ed", "--role", "editor")
    decided = cli(
        "review",
        "decide",
        str(claim_id),
        "--rating",
        "mixed",
        "--note",
        "half right",
        "--evidence",
        str(evidence[1]),
        "--as",
        "alice",
        "--json",
    )
    verdict = json.loads(decided.out)
    assert verdict["state"] == "pending_approval"
    own = cli("review", "approve", str(verdict["id"]), "--as", "alice")
    assert own.code == 1 and "may not approve" in own.err
    approved = cli("review", "approve", str(verdict["id"]), "--as", "ed")
    assert approved.code == 0, approved.err
    stats = json.loads(cli("review", "stats", "--json").out)
    assert stats["counts"]["done"] == 1 and stats["verdicts_per_day"][-1]["count"] == 1
    assert cli("review", "reopen", str(claim_id), "--reason", "drift", "--as", "alice").code == 1
    assert cli("review", "reopen", str(claim_id), "--reason", "drift", "--as", "ed").code == 0
    assert json.loads(cli("review", "list", "--json").out)[0]["state"] == "queued"


def test_a_reviewer_is_told_they_may_not_reopen(db: DB, cli) -> None:  # type: ignore[no-untyped-def]
    claim_id, _ = _claim(db)
    assert cli("user", "add", "alice", "--role", "reviewer").code == 0
    refused = cli("review", "reopen", str(claim_id), "--reason", "drift", "--as", "alice")
    assert refused.code == 1
    assert "may not re-open" in refused.err and "approve" not in refused.err
    assert "editor" in refused.err  # who may
