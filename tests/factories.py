"""Small factories with random values (no shared giant fixture)."""

from __future__ import annotations

import hashlib
import io
import random
import secrets
import string
from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import Session
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from evidence import claims
from evidence.models import Claim, Document, Evidence, FactCheck, Fetch, Passage

_WORDS = (
    "minister",
    "budget",
    "tariff",
    "election",
    "summit",
    "vaccine",
    "border",
    "treaty",
    "river",
    "harvest",
    "inflation",
    "museum",
    "pipeline",
    "satellite",
    "union",
    "court",
)


def random_claim_text(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    words = rng.sample(_WORDS, 5)
    number = rng.randint(2, 99_999)
    tail = "".join(rng.choices(string.ascii_lowercase, k=6))
    return f"The {words[0]} {words[1]} rose {number} percent after the {words[2]} {words[3]} {tail}"


def make_claim(
    session: Session, *, text: str | None = None, actor: str = "test:factory", **kw: str
) -> Claim:
    data = claims.make_create(text=text or random_claim_text(), **kw)  # type: ignore[arg-type]
    return claims.add_claim(session, data, actor=actor).claim


def _word(rng: random.Random, k: int = 6) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=k))


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
    score: float | None = None,
    stance: str | None = None,
    reasons: list[str] | None = None,
    role: str | None = None,
    stance_confidence: float | None = None,
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
        claim_id=claim.id,
        passage_id=row.id,
        score=1.0 / rank if score is None else score,
        rank=rank,
        matched_terms=terms,
        stance=stance,
        stance_confidence=stance_confidence,
        stance_reasons=list(reasons or []),
        role=role,
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
