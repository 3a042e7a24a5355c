"""Test data for the web app: users, evidence with its page, fetch and archived copy.

Rows are built with the models directly (the evidence pipeline is another package's
business); users and queue entries go through the real functions in ``verdicts``.
"""

from __future__ import annotations

import random
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from evidence.models import Claim, Evidence, User, Verdict
from tests.factories import make_claim, make_evidence, make_fact_check, write_warc
from verdicts import users

# the evidence helpers live in tests/factories.py, shared with the other verdicts tests
__all__ = ["make_evidence", "make_fact_check", "write_warc"]

PASSWORD = "correct horse battery"


def _word(rng: random.Random, k: int = 6) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=k))


@dataclass
class Person:
    user: User
    token: str
    password: str

    @property
    def name(self) -> str:
        return self.user.name


def make_user(session: Session, role: str, *, name: str | None = None) -> Person:
    name = name or f"{role}-{secrets.token_hex(3)}"
    user, token = users.add_user(session, name, role=role, password=PASSWORD, actor="test:factory")
    return Person(user, token, PASSWORD)


def make_reviewable_claim(
    session: Session,
    *,
    text: str | None = None,
    evidence: int = 2,
    warc_dir: Path | None = None,
    priority: int = 0,
    **evidence_kw: object,
) -> tuple[Claim, list[Evidence]]:
    """A claim with evidence, queued for review through the real queue."""
    from verdicts import queue

    claim = make_claim(session, text=text)
    rows = [
        make_evidence(session, claim, rank=i + 1, warc_dir=warc_dir, **evidence_kw)  # type: ignore[arg-type]
        for i in range(evidence)
    ]
    assert claim.id is not None
    queue.enqueue(session, claim.id, priority=priority, actor="test:factory")
    return claim, rows


def decide_as(
    session: Session,
    claim: Claim,
    person: Person,
    cited: list[Evidence],
    *,
    rating: str = "false",
    rationale: str = "The cited sources contradict it.",
) -> Verdict:
    """A verdict through the real decision function (no lease needed when nobody holds one)."""
    from verdicts import decisions

    assert claim.id is not None
    return decisions.decide(
        session,
        claim.id,
        reviewer=person.name,
        rating=rating,
        rationale=rationale,
        evidence_ids=[e.id for e in cited if e.id is not None],
        expected_version=None,
        actor=f"test:{person.name}",
    )
