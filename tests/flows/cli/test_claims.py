"""`factcheck claim …`: bad input is refused in one sentence with exit 2 and nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from evidence.models import CLAIM_STATUSES, Claim


def _claims(db) -> int:  # type: ignore[no-untyped-def]
    with Session(db.engine) as s:
        return int(s.exec(select(func.count()).select_from(Claim)).one())


def test_claim_list_refuses_an_unknown_status(db, cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("claim", "add", "The tax was raised by 3 percent").code == 0
    bogus = cli("claim", "list", "--status", "bogus")
    assert bogus.code == 2 and bogus.out == ""
    assert len(bogus.err.strip().splitlines()) == 1 and "'bogus'" in bogus.err
    assert all(status in bogus.err for status in CLAIM_STATUSES)
    listed = cli("claim", "list", "--status", "new", "--json")
    assert listed.code == 0 and "The tax was raised" in listed.out


def test_a_claim_dated_in_the_future_is_refused(db, cli) -> None:  # type: ignore[no-untyped-def]
    today = datetime.now(UTC).date()
    later = (today + timedelta(days=2)).isoformat()
    refused = cli("claim", "add", "The dam will be finished", "--date", later)
    assert refused.code == 2 and refused.out == ""
    assert len(refused.err.strip().splitlines()) == 1 and "in the future" in refused.err
    assert _claims(db) == 0
    # today in a time zone ahead of UTC may already be tomorrow in UTC
    soon = (today + timedelta(days=1)).isoformat()
    assert cli("claim", "add", "The dam was finished", "--date", soon).code == 0
    assert _claims(db) == 1
