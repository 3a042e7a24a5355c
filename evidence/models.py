"""The tables of the whole domain, designed once so later work fills them.

Ladder per entity (STYLE 14): a ``*Base`` with the shared fields, ``*Create`` for input,
the ``table=True`` class, and ``*Public`` for what the CLI, web app and API return.
Only the entities that users create or read directly have the full ladder; internal
records (fetches, passages, candidates) are table classes with a ``Public`` shape.

Status vocabularies are plain strings checked in code (listed below) rather than database
enums, so adding a state needs no migration on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlalchemy import Text as SAText
from sqlmodel import Field, SQLModel

from evidence.types import JSONType, UTCDateTime, utcnow

CLAIM_STATUSES = (
    "new",  # added, not yet verified
    "verifying",  # a verification run is working on it
    "queued",  # evidence recorded, waiting for a reviewer
    "in_review",  # a reviewer holds a lease
    "decided",  # a verdict awaits approval
    "published",  # verdict published
    "duplicate",  # near-duplicate of another claim (duplicate_of_id)
    "failed",  # verification failed (see the last run's error)
)
TASK_STATES = ("queued", "leased", "awaiting_approval", "awaiting_second", "disputed", "done")
VERDICT_STATES = ("draft", "pending_approval", "published", "superseded", "rejected")
ROLES = ("reviewer", "editor", "auditor", "admin")


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


def _json(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column_kwargs={}, sa_type=JSONType)


# ---- claims -------------------------------------------------------------------------------


class ClaimBase(SQLModel):
    text: str = Field(sa_type=SAText)
    claimant: str | None = Field(default=None, max_length=300)
    claim_date: date | None = None
    origin_url: str | None = Field(default=None, sa_type=SAText)


class ClaimCreate(ClaimBase):
    tags: list[str] = []


class Claim(ClaimBase, table=True):
    __tablename__ = "claim"
    __table_args__ = (Index("ix_claim_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    normalized_text: str = Field(sa_type=SAText)
    fingerprint: str = Field(max_length=64, unique=True, index=True)
    status: str = Field(default="new", max_length=20)
    duplicate_of_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    similarity: float | None = None
    tags: list[str] = _json(list)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ClaimPublic(ClaimBase):
    id: int
    normalized_text: str
    fingerprint: str
    status: str
    duplicate_of_id: int | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime


# ---- verification runs and discovery ------------------------------------------------------


class Run(SQLModel, table=True):
    """One verification (or re-verification) of one claim: the search window lives here."""

    __tablename__ = "run"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    kind: str = Field(default="verify", max_length=20)  # verify | reverify
    flow_run_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="running", max_length=20)  # running | done | failed
    queries: list[str] = _json(list)
    search_window: dict[str, Any] = _json(dict)  # sources, queries, date range, adapter errors
    suggestion: dict[str, Any] = _json(dict)  # rating, confidence, explanation (never published)
    error: str | None = Field(default=None, sa_type=SAText)
    started_at: datetime = _ts()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Candidate(SQLModel, table=True):
    """A URL proposed by a discovery adapter: why each page was fetched."""

    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("claim_id", "url", "adapter", name="uq_candidate"),)
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    url: str = Field(sa_type=SAText)
    adapter: str = Field(max_length=40)
    query: str | None = Field(default=None, sa_type=SAText)
    rank: int = 0
    title: str | None = Field(default=None, sa_type=SAText)
    meta: dict[str, Any] = _json(dict)
    created_at: datetime = _ts()


# ---- documents, fetches, passages ---------------------------------------------------------


class Document(SQLModel, table=True):
    """A page, identified by its normalised URL; fetched one or more times."""

    __tablename__ = "document"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=SAText, unique=True)
    canonical_url: str | None = Field(default=None, sa_type=SAText)
    site: str | None = Field(default=None, max_length=255, index=True)
    title: str | None = Field(default=None, sa_type=SAText)
    byline: str | None = Field(default=None, sa_type=SAText)
    language: str | None = Field(default=None, max_length=20)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    modified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    date_source: str | None = Field(default=None, max_length=40)  # how the date was found
    gone: bool = False  # last fetch was a 404/410; archived copies stay citable
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Fetch(SQLModel, table=True):
    """One attempt to fetch one URL; every outcome, success or failure, is a row."""

    __tablename__ = "fetch_record"
    __table_args__ = (Index("ix_fetch_url_time", "requested_url", "fetched_at"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    requested_url: str = Field(sa_type=SAText)
    final_url: str | None = Field(default=None, sa_type=SAText)
    status_code: int | None = None
    headers: dict[str, str] = _json(dict)  # selected: content-type, etag, last-modified, ...
    content_type: str | None = Field(default=None, max_length=255)
    sha256: str | None = Field(default=None, max_length=64, index=True)
    byte_count: int | None = None
    elapsed_ms: float | None = None
    warc_file: str | None = Field(default=None, sa_type=SAText)
    warc_offset: int | None = None
    warc_length: int | None = None
    not_modified: bool = False  # a 304 answered our conditional GET
    error_kind: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, sa_type=SAText)
    fetched_at: datetime = _ts()


class Passage(SQLModel, table=True):
    """A citable piece of a page's main text, with offsets into that text."""

    __tablename__ = "passage"
    __table_args__ = (UniqueConstraint("fetch_id", "ordinal", name="uq_passage_fetch_ordinal"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    fetch_id: int = Field(foreign_key="fetch_record.id", index=True)
    ordinal: int
    key: str = Field(max_length=64, index=True)  # stable id: hash of normalised text
    text: str = Field(sa_type=SAText)
    start: int
    end: int
    sha256: str = Field(max_length=64)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---- evidence and existing fact-checks ----------------------------------------------------


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (
        UniqueConstraint("claim_id", "passage_id", name="uq_evidence_claim_passage"),
        Index("ix_evidence_claim_rank", "claim_id", "rank"),
    )
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id")
    passage_id: int = Field(foreign_key="passage.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    score: float
    rank: int
    components: dict[str, float] = _json(dict)  # bm25, phrase, entity, number, date...
    matched_terms: list[str] = _json(list)
    copies: list[dict[str, Any]] = _json(list)  # syndicated copies grouped under this one
    stance: str | None = Field(default=None, max_length=20)  # supports | refutes | context
    stance_confidence: float | None = None
    stance_reasons: list[str] = _json(list)  # the cues behind the stance, in words
    role: str | None = Field(default=None, max_length=20)  # origin | refutes | supports | context
    active: bool = True  # false once drift removed the passage or a re-run superseded it
    created_at: datetime = _ts()


class FactCheck(SQLModel, table=True):
    """An existing fact-check (ClaimReview) found in a page or by the fact-check search."""

    __tablename__ = "fact_check"
    __table_args__ = (UniqueConstraint("claim_id", "url", name="uq_fact_check_claim_url"),)
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id")
    source: str = Field(max_length=40)  # embedded | factcheck-api
    url: str = Field(sa_type=SAText)
    claim_reviewed: str | None = Field(default=None, sa_type=SAText)
    rating: str | None = Field(default=None, max_length=200)
    publisher: str | None = Field(default=None, max_length=300)
    review_date: date | None = None
    similarity: float | None = None
    created_at: datetime = _ts()


# ---- review -------------------------------------------------------------------------------


class ReviewTask(SQLModel, table=True):
    __tablename__ = "review_task"
    __table_args__ = (Index("ix_task_queue_order", "state", "priority", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", unique=True)
    queue: str = Field(default="default", max_length=60)
    priority: int = 0  # higher first
    state: str = Field(default="queued", max_length=20)
    lease_holder: str | None = Field(default=None, max_length=120)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
    reopen_count: int = 0
    reason: str | None = Field(default=None, sa_type=SAText)
    assigned_to: str | None = Field(default=None, max_length=120)  # set by an editor
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class ClaimComment(SQLModel, table=True):
    """A team note on a claim, threaded by ``parent_id``; never exported (only its
    SHA-256 reaches the audit chain, in the ``comment.added`` event)."""

    __tablename__ = "claim_comment"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="claim_comment.id")
    author: str = Field(max_length=120)
    text: str = Field(sa_type=SAText)
    created_at: datetime = _ts()


class Verdict(SQLModel, table=True):
    __tablename__ = "verdict"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="review_task.id")
    rating: str = Field(max_length=40)
    rationale: str = Field(sa_type=SAText)
    reviewer: str = Field(max_length=120)
    evidence_ids: list[int] = _json(list)
    suggested_rating: str | None = Field(default=None, max_length=40)  # what the run suggested
    agreed_with_suggestion: bool | None = None  # None: there was no suggestion
    state: str = Field(default="published", max_length=20)
    approver: str | None = Field(default=None, max_length=120)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _ts()


# ---- people -------------------------------------------------------------------------------


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    role: str = Field(max_length=20)
    password_hash: str | None = Field(default=None, sa_type=SAText)
    token_hash: str | None = Field(default=None, max_length=64, index=True)
    active: bool = True
    created_at: datetime = _ts()


class UserPublic(SQLModel):
    id: int
    name: str
    role: str
    active: bool
    created_at: datetime


class UserSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries a random id, only its SHA-256 is stored."""

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=300)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, max_length=60)


class LoginAttempt(SQLModel, table=True):
    """One password check admitted by the login throttle; its outcome is filled in after."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_account_at", "account", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=120)  # the name typed, known user or not
    address: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    outcome: str = Field(default="pending", max_length=20)  # pending | failed | succeeded


# ---- audit --------------------------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained. ``seq`` is assigned by ``evidence.audit.record``."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_subject", "subject"),)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=60)
    subject: str = Field(max_length=120)
    payload: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
