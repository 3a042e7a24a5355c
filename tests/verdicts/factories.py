"""Claims with evidence, users and queued tasks, built directly from rows (random values)."""

from __future__ import annotations

import random
import string

from sqlmodel import Session

from evidence.models import Claim, Evidence, ReviewTask, User
from tests import factories as shared
from tests.factories import make_claim
from verdicts import queue, users

ACTOR = "test:factory"


def _token(rng: random.Random, k: int = 8) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=k))


def make_evidence(
    session: Session,
    claim: Claim,
    *,
    count: int = 2,
    site: str | None = None,
    title: str | None = None,
    text: str | None = None,
    rng: random.Random | None = None,
) -> list[Evidence]:
    """``count`` evidence rows for ``claim``, each from its own page, fetch and passage."""
    rng = rng or random.Random()
    return [
        shared.make_evidence(
            session,
            claim,
            passage=text,
            title=title,
            site=site,
            rank=rank,
            score=round(rng.random(), 4),
            matched_terms=claim.text.split()[:2],
        )
        for rank in range(count)
    ]


make_fact_check = shared.make_fact_check


def make_user(
    session: Session,
    name: str | None = None,
    *,
    role: str = "reviewer",
    password: str | None = None,
) -> User:
    name = name or f"{role}-{_token(random.Random(), 6)}"
    user, _token_value = users.add_user(session, name, role=role, password=password, actor=ACTOR)
    return user


def queued_claim(
    session: Session,
    *,
    evidence: int = 2,
    priority: int = 0,
    queue_name: str = "default",
    **claim_kw: object,
) -> tuple[Claim, ReviewTask, list[Evidence]]:
    """A claim with evidence and its review task."""
    claim = make_claim(session, **claim_kw)  # type: ignore[arg-type]
    rows = make_evidence(session, claim, count=evidence)
    assert claim.id is not None
    task = queue.enqueue(session, claim.id, priority=priority, queue=queue_name, actor=ACTOR)
    return claim, task, rows
