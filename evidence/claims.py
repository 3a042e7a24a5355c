"""Claim intake: validation, normalisation, fingerprint, exact-duplicate detection.

``normalize`` and ``fingerprint`` are pure. The fingerprint is SHA-256 of the normalised text
casefolded with punctuation dropped, so "North Korea offered talks." and
"north korea offered talks" are one claim; the unique index on it makes a concurrent second
add of the same claim return the first one instead of duplicating it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import Integer, case, literal
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from evidence import audit
from evidence.db import insert_once
from evidence.errors import BadInput, ImportRowError, NotFound
from evidence.models import Claim, ClaimCreate, Document, Evidence, Fetch, Passage, Run, Verdict
from evidence.scoring import matching
from evidence.settings import get_settings
from evidence.types import utcnow

MAX_CLAIM_CHARS = 2000
_QUOTES = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u2033": '"',
    }
)

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_DATE_FORMATS = ("%d %B %Y", "%B %d, %Y", "%B %d %Y", "%d %b %Y", "%b %d, %Y", "%b %d %Y")


def normalize(text: str) -> str:
    """NFC, typographic quotes and dashes made plain, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = _DASHES.sub("-", text)
    return " ".join(text.split())


def fingerprint(normalized: str) -> str:
    folded = re.sub(r"[^\w\s]", "", normalized.casefold())
    return hashlib.sha256(" ".join(folded.split()).encode()).hexdigest()


def parse_date(value: str | date | None) -> date | None:
    """ISO dates (2018-03-03) and unambiguous written ones (3 March 2018, March 3, 2018)."""
    if value is None or isinstance(value, date):
        return value
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise BadInput(f"The date {value!r} is not a date; use YYYY-MM-DD.")


def validate_url(url: str | None) -> str | None:
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"The URL {url!r} is not an http(s) URL.")
    return url


def check_not_future(claim_date: date | None) -> date | None:
    """A claim is made on or before today; "today" somewhere ahead of UTC is tomorrow in
    UTC, so the limit is UTC today plus one day."""
    if claim_date is not None and claim_date > utcnow().date() + timedelta(days=1):
        raise BadInput(
            f"The date '{claim_date.isoformat()}' is in the future; "
            "give the day the claim was made."
        )
    return claim_date


def validate(data: ClaimCreate) -> ClaimCreate:
    """Checked and normalised input; raises BadInput with one sentence."""
    text = normalize(data.text or "")
    if not text:
        raise BadInput("The claim text is empty.")
    if len(text) > MAX_CLAIM_CHARS:
        raise BadInput(f"The claim text is {len(text)} characters; the limit is {MAX_CLAIM_CHARS}.")
    claimant = normalize(data.claimant) if data.claimant else None
    if claimant and len(claimant) > 300:
        raise BadInput("The claimant is longer than 300 characters.")
    tags = sorted({normalize(t) for t in data.tags if normalize(t)})
    return ClaimCreate(
        text=text,
        claimant=claimant or None,
        claim_date=check_not_future(data.claim_date),
        origin_url=validate_url(data.origin_url),
        tags=tags,
    )


def make_create(
    *,
    text: str,
    url: str | None = None,
    claimant: str | None = None,
    claim_date: str | date | None = None,
    tags: list[str] | None = None,
) -> ClaimCreate:
    try:
        raw = ClaimCreate(
            text=text or "",
            origin_url=url,
            claimant=claimant,
            claim_date=parse_date(claim_date),
            tags=tags or [],
        )
    except ValidationError as exc:
        raise BadInput(f"The claim is malformed: {exc.errors()[0]['msg']}.") from exc
    return validate(raw)


@dataclass(frozen=True)
class Added:
    claim: Claim
    created: bool


def find_by_fingerprint(session: Session, fp: str) -> Claim | None:
    return session.exec(select(Claim).where(Claim.fingerprint == fp)).first()


def candidate_query(text: str, *, exclude_id: int | None = None):  # type: ignore[no-untyped-def]
    """Claims sharing the most distinctive words, best-sharing first (a bounded number).

    A ``LIKE '%word%'`` per needle on ``normalized_text``, summed into a hit count that
    orders the rows: the database does the scan in C and hands back a bounded set, instead
    of Python scoring every claim. On PostgreSQL a pg_trgm GIN index on normalized_text
    would turn these LIKEs into index scans (a migration for when the table is large).
    """
    hits: list[ColumnElement[int]] = [
        case((col(Claim.normalized_text).contains(n, autoescape=True), 1), else_=0)
        for n in matching.needles(text)
    ]
    if not hits:
        return None
    total: ColumnElement[int] = hits[0]
    for hit in hits[1:]:
        total = total + hit
    query = select(Claim).where(total > literal(0, Integer))
    if exclude_id is not None:
        query = query.where(col(Claim.id) != exclude_id)
    return query.order_by(total.desc(), col(Claim.id)).limit(matching.MAX_CANDIDATES)


def find_near_duplicate(
    session: Session, text: str, *, threshold: float, exclude_id: int | None = None
) -> tuple[Claim, float] | None:
    """The most similar known claim at or above ``threshold``, followed to its original.

    A match that is itself a near-duplicate is replaced by the claim it duplicates, so
    links never form chains; the similarity reported is the one measured.
    """
    query = candidate_query(text, exclude_id=exclude_id)
    if query is None:
        return None
    rows = session.exec(query).all()
    best = matching.best_match(text, ((claim, claim.text) for claim in rows), threshold=threshold)
    if best is None:
        return None
    claim, score = best
    if claim.duplicate_of_id is not None:
        original = session.get(Claim, claim.duplicate_of_id)
        if original is not None:
            claim = original
    return claim, score


def add_claim(session: Session, data: ClaimCreate, *, actor: str) -> Added:
    """Add a validated claim, or return the known one with the same fingerprint.

    A near-duplicate of a known claim (``evidence.scoring.matching``, at the ``match_threshold``
    setting) is added with status "duplicate", linked to the original, and not verified.
    """
    data = validate(data)
    fp = fingerprint(data.text)
    existing = find_by_fingerprint(session, fp)
    if existing is not None:
        return Added(existing, False)
    near = find_near_duplicate(session, data.text, threshold=get_settings().match_threshold)
    claim = Claim(
        text=data.text,
        normalized_text=data.text.casefold(),
        fingerprint=fp,
        claimant=data.claimant,
        claim_date=data.claim_date,
        origin_url=data.origin_url,
        tags=data.tags,
    )
    if near is not None:
        claim.duplicate_of_id, claim.similarity, claim.status = near[0].id, near[1], "duplicate"
    claim, inserted = insert_once(session, claim, lambda: find_by_fingerprint(session, fp))
    if not inserted:  # another writer added the same claim between our look-up and insert
        return Added(claim, False)
    assert claim.id is not None
    audit.record(
        session,
        audit.ClaimAdded(
            claim_id=claim.id,
            text=claim.text,
            fingerprint=fp,
            claimant=claim.claimant,
            origin_url=claim.origin_url,
            claim_date=claim.claim_date,
        ),
        actor=actor,
        rows=[claim],
    )
    if claim.duplicate_of_id is not None and claim.similarity is not None:
        audit.record(
            session,
            audit.ClaimLinked(
                claim_id=claim.id,
                duplicate_of_id=claim.duplicate_of_id,
                similarity=claim.similarity,
            ),
            actor=actor,
        )
    return Added(claim, True)


def get_claim(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound("claim", claim_id)
    return claim


def list_claims(
    session: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[Claim]:
    query = select(Claim)
    if status:
        query = query.where(Claim.status == status)
    query = (
        query.order_by(col(Claim.created_at).desc(), col(Claim.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(query).all())


def count_claims(session: Session, *, status: str | None = None) -> int:
    query = select(func.count()).select_from(Claim)
    if status:
        query = query.where(Claim.status == status)
    return int(session.exec(query).one())


def set_status(session: Session, claim: Claim, new: str, *, actor: str) -> None:
    if claim.status == new:
        return
    old, claim.status, claim.updated_at = claim.status, new, utcnow()
    session.add(claim)
    assert claim.id is not None
    audit.record(
        session,
        audit.ClaimStatusChanged(claim_id=claim.id, old=old, new=new),
        actor=actor,
        rows=[claim],
    )


# -- import ---------------------------------------------------------------------------------

_FIELDS = {"text", "url", "claimant", "date", "tags", "origin_url", "claim_date"}


def _row_to_create(row: dict[str, Any]) -> ClaimCreate:
    unknown = set(row) - _FIELDS
    if unknown:
        raise BadInput(f"unknown column {sorted(unknown)[0]!r}")
    tags = row.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in tags.replace(";", ",").split(",")]
    if not isinstance(row.get("text", ""), str):
        raise BadInput("text must be a string")
    return make_create(
        text=row.get("text") or "",
        url=row.get("url") or row.get("origin_url"),
        claimant=row.get("claimant"),
        claim_date=row.get("date") or row.get("claim_date"),
        tags=tags,
    )


def parse_import(path: Path) -> list[tuple[int, ClaimCreate]]:
    """Rows of a JSONL or CSV file, each with its line number; the first bad row raises."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"Cannot read {path}: {exc}.") from exc
    rows: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(raw))
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise ImportRowError(1, "the CSV header has no 'text' column")
        for record in reader:
            if None in record:
                raise ImportRowError(reader.line_num, "the row has more cells than the header")
            rows.append((reader.line_num, {k: v for k, v in record.items() if v not in (None, "")}))
    else:
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportRowError(number, f"not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise ImportRowError(number, "a row must be a JSON object")
            rows.append((number, obj))
    parsed = []
    for number, row in rows:
        try:
            parsed.append((number, _row_to_create(row)))
        except BadInput as exc:
            raise ImportRowError(number, str(exc).rstrip(".")) from exc
    if not parsed:
        raise BadInput(f"{path} holds no claims.")
    return parsed


def import_claims(session: Session, path: Path, *, actor: str) -> list[Added]:
    """All-or-nothing: every row is validated before the first is written."""
    return [add_claim(session, data, actor=actor) for _, data in parse_import(path)]


# -- reading a claim with its evidence ------------------------------------------------------


def claim_evidence(
    session: Session, claim_id: int, *, active_only: bool = True
) -> list[dict[str, Any]]:
    """The claim's evidence in rank order, with the page each passage came from."""

    query = (
        select(Evidence, Passage, Document, Fetch)
        .join(Passage, col(Passage.id) == Evidence.passage_id)
        .join(Document, col(Document.id) == Passage.document_id)
        .join(Fetch, col(Fetch.id) == Passage.fetch_id)
        .where(Evidence.claim_id == claim_id)
        .order_by(col(Evidence.rank), col(Evidence.id))
    )
    if active_only:
        query = query.where(col(Evidence.active).is_(True))
    out = []
    for ev, passage, doc, fetch in session.exec(query).all():
        out.append(
            {
                "evidence_id": ev.id,
                "rank": ev.rank,
                "score": round(ev.score, 4),
                "components": ev.components,
                "matched_terms": ev.matched_terms,
                "copies": ev.copies,
                "passage_id": passage.id,
                "passage": passage.text,
                "passage_key": passage.key,
                "url": doc.url,
                "title": doc.title,
                "site": doc.site,
                "published": doc.published_at.isoformat() if doc.published_at else None,
                "fetch_id": fetch.id,
                "fetched_at": fetch.fetched_at.isoformat(),
                "sha256": fetch.sha256,
                "active": ev.active,
                "stance": ev.stance,
                "stance_confidence": ev.stance_confidence,
                "reasons": list(ev.stance_reasons or []),
                "role": ev.role,
            }
        )
    return out


def original_of(session: Session, claim: Claim) -> dict[str, Any] | None:
    """For a near-duplicate: the claim it was linked to, its status and published verdict."""

    if claim.duplicate_of_id is None:
        return None
    original = get_claim(session, claim.duplicate_of_id)
    verdict = session.exec(
        select(Verdict)
        .where(Verdict.claim_id == original.id, Verdict.state == "published")
        .order_by(col(Verdict.published_at).desc(), col(Verdict.id).desc())
        .limit(1)
    ).first()
    return {
        "id": original.id,
        "text": original.text,
        "status": original.status,
        "verdict": verdict.rating if verdict else None,
        "verdict_id": verdict.id if verdict else None,
    }


def latest_run(session: Session, claim_id: int) -> Run | None:
    """The claim's newest finished run."""
    return session.exec(
        select(Run)
        .where(Run.claim_id == claim_id, Run.status == "done")
        .order_by(col(Run.id).desc())
        .limit(1)
    ).first()


def latest_suggestion(session: Session, claim_id: int) -> dict[str, Any] | None:
    """The suggested verdict of the claim's newest finished run: rating, confidence,
    explanation (None when no run suggested one). A suggestion is never published."""
    run = latest_run(session, claim_id)
    return dict(run.suggestion) if run is not None and run.suggestion else None


def latest_search_window(session: Session, claim_id: int) -> dict[str, Any] | None:
    """The search window of the claim's newest finished run (sources, queries, dates)."""
    run = latest_run(session, claim_id)
    return dict(run.search_window) if run is not None else None
