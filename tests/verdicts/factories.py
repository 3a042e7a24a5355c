"""Claims with evidence, users and queued tasks, built directly from rows (random values)."""

from __future__ import annotations

import hashlib
import random
import string
from datetime import date

from sqlmodel import Session

from evidence.models import Claim, Document, Evidence, FactCheck, Fetch, Passage, ReviewTask, User
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
    assert claim.id is not None
    rows = []
    for rank in range(count):
        host = site or f"{_token(rng)}.example"
        doc = Document(
            url=f"https://{host}/{_token(rng, 12)}", site=host, title=title or _token(rng).title()
        )
        session.add(doc)
        session.flush()
        body = text or f"The {_token(rng)} report says {claim.text[:40]} {_token(rng)}."
        digest = hashlib.sha256(body.encode()).hexdigest()
        fetch = Fetch(document_id=doc.id, requested_url=doc.url, status_code=200, sha256=digest)
        session.add(fetch)
        session.flush()
        assert doc.id is not None and fetch.id is not None
        passage = Passage(
            document_id=doc.id,
            fetch_id=fetch.id,
            ordinal=0,
            key=digest[:16],
            text=body,
            start=0,
            end=len(body),
            sha256=digest,
        )
        session.add(passage)
        session.flush()
        assert passage.id is not None
        ev = Evidence(
            claim_id=claim.id,
            passage_id=passage.id,
            score=round(rng.random(), 4),
            rank=rank,
            matched_terms=claim.text.split()[:2],
        )
        session.add(ev)
        rows.append(ev)
    session.flush()
    return rows


def make_fact_check(session: Session, claim: Claim, *, rating: str = "False") -> FactCheck:
    assert claim.id is not None
    row = FactCheck(
        claim_id=claim.id,
        source="embedded",
        url=f"https://factchecker.example/{_token(random.Random())}",
        claim_reviewed=claim.text,
        rating=rating,
        publisher="Checker",
        review_date=date(2024, 1, 2),
        similarity=0.9,
    )
    session.add(row)
    session.flush()
    return row


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
