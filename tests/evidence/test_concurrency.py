"""Two processes writing claims at once on SQLite (WAL + busy timeout + BEGIN IMMEDIATE)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlmodel import Session, func, select

from evidence import audit
from evidence.models import Claim

WRITER = textwrap.dedent("""
    import sys
    from evidence import claims
    from evidence.db import get_engine, session_scope
    tag, shared, own = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    engine = get_engine()
    texts = [f"shared claim number {i} about the harbour" for i in range(shared)]
    texts += [f"claim {i} from writer {tag} about the harbour" for i in range(own)]
    # interleave, so both writers hit the shared texts at about the same time
    for text in sorted(texts, key=lambda t: hash(t) % 97):
        with session_scope(engine) as session:
            claims.add_claim(session, claims.make_create(text=text), actor="writer:" + tag)
""")


@pytest.mark.slow
def test_two_processes_500_claims_each_lose_and_duplicate_nothing(sqlite_db) -> None:  # type: ignore[no-untyped-def]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, tag, "100", "400"], stderr=subprocess.PIPE, text=True
        )
        for tag in ("a", "b")
    ]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with Session(sqlite_db.engine) as s:
        total = s.exec(select(func.count()).select_from(Claim)).one()
        distinct = s.exec(select(func.count(func.distinct(Claim.fingerprint)))).one()
    assert total == distinct == 100 + 2 * 400
    report = audit.verify_chain(audit.iter_events(sqlite_db.engine))
    assert report.ok and report.checked == total
