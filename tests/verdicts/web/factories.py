"""Test data for the web app: users, evidence with its page, fetch and archived copy.

Rows are built with the models directly (the evidence pipeline is another package's
business); users and queue entries go through the real functions in ``verdicts``.
"""

from __future__ import annotations

import hashlib
import io
import random
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from evidence.models import Claim, Document, Evidence, FactCheck, Fetch, Passage, User, Verdict
from tests.factories import make_claim
from verdicts import users

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


def write_warc(path: Path, url: str, body: bytes, *, content_type: str) -> tuple[int, int]:
    """Append one response record to ``path``; returns its (offset, length)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        offset = handle.tell()
        writer = WARCWriter(handle, gzip=True)
        http_headers = StatusAndHeaders(
            "200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1"
        )
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http_headers
        )
        writer.write_record(record)
        return offset, handle.tell() - offset


def make_evidence(
    session: Session,
    claim: Claim,
    *,
    passage: str | None = None,
    title: str | None = None,
    site: str | None = None,
    matched_terms: list[str] | None = None,
    rank: int = 1,
    warc_dir: Path | None = None,
    published: datetime | None = None,
) -> Evidence:
    """One evidence row with its document, fetch and passage; archived when ``warc_dir``."""
    rng = random.Random()
    site = site or f"{_word(rng)}.example"
    url = f"https://{site}/news/{_word(rng, 10)}"
    text = (
        passage or f"The {_word(rng)} report said {claim.text.lower()} on {rng.randint(1, 28)} May."
    )
    doc = Document(url=url, site=site, title=title or f"Report on {_word(rng)}")
    doc.published_at = published or datetime(2018, 3, rng.randint(1, 28), 9, 30, tzinfo=UTC)
    session.add(doc)
    session.flush()
    body = f"<html><head><title>{doc.title}</title></head><body><p>{text}</p></body></html>"
    raw = body.encode()
    fetch = Fetch(
        document_id=doc.id,
        requested_url=url,
        final_url=url,
        status_code=200,
        content_type="text/html; charset=utf-8",
        sha256=hashlib.sha256(raw).hexdigest(),
        byte_count=len(raw),
    )
    if warc_dir is not None:
        name = f"test-{secrets.token_hex(4)}.warc.gz"
        fetch.warc_file = name
        fetch.warc_offset, fetch.warc_length = write_warc(
            warc_dir / name, url, raw, content_type="text/html; charset=utf-8"
        )
    session.add(fetch)
    session.flush()
    assert doc.id is not None and fetch.id is not None
    row = Passage(
        document_id=doc.id,
        fetch_id=fetch.id,
        ordinal=0,
        key=hashlib.sha256(text.encode()).hexdigest()[:16],
        text=text,
        start=0,
        end=len(text),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )
    session.add(row)
    session.flush()
    assert claim.id is not None and row.id is not None
    terms = matched_terms if matched_terms is not None else claim.text.lower().split()[1:3]
    evidence = Evidence(
        claim_id=claim.id, passage_id=row.id, score=1.0 / rank, rank=rank, matched_terms=terms
    )
    session.add(evidence)
    session.flush()
    return evidence


def make_fact_check(session: Session, claim: Claim, *, rating: str = "False") -> FactCheck:
    assert claim.id is not None
    check = FactCheck(
        claim_id=claim.id,
        source="embedded",
        url=f"https://checker.example/{secrets.token_hex(4)}",
        claim_reviewed=claim.text,
        rating=rating,
        publisher="Checker Weekly",
        review_date=date(2018, 3, 9),
    )
    session.add(check)
    session.flush()
    return check


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
