"""The hash-chained audit log.

Every state change records one typed event in the same transaction as the change::

    record(session, ClaimAdded(claim_id=7, text="...", fingerprint="..."), actor="cli:alice")

Each event's hash is SHA-256 over the previous hash and a canonical JSON of the event
(seq, time, actor, action, subject, payload), so altering, deleting or reordering any row
breaks the chain at that row. Appends are serialised: on SQLite by the write lock every
transaction takes (``BEGIN IMMEDIATE``), on PostgreSQL by a transaction-scoped advisory lock.

The package holds five rooms: ``events`` (the vocabulary), ``chain`` (append and verify),
``rows`` (what an event records of the table rows it wrote), ``timeline`` (the auditor's
view of one claim) and ``check`` (the whole-database check that ``factcheck audit verify``
runs: the chain, the archived pages and the vouched tables). The names most callers need
are re-exported here, so ``from evidence import audit; audit.record(...)`` reads as it
always has.
"""

from __future__ import annotations

from evidence.audit.chain import (
    GENESIS,
    HASH_RULE,
    VERIFY_BATCH,
    ChainReport,
    ChainVerifier,
    EventRow,
    ReducedEvent,
    WithheldEvent,
    canonical_json,
    compute_hash,
    event_digest,
    events_for,
    hash_rule,
    hashed_time,
    iter_event_range,
    iter_event_rows,
    iter_events,
    record,
    rehash,
    verify_chain,
)
from evidence.audit.events import (
    EVENT_KINDS,
    AdapterFailed,
    CandidatesProposed,
    ClaimAdded,
    ClaimLinked,
    ClaimStatusChanged,
    ClaimTagged,
    DriftDetected,
    Event,
    EvidenceSelected,
    FactCheckFound,
    FetchRecorded,
    PassagesExtracted,
    ReviewsCompared,
    RowsAdopted,
    RunFinished,
    RunStarted,
    SearchWindowRecorded,
    TaskLeased,
    TaskPrioritySet,
    TaskQueued,
    TaskReleased,
    TaskReopened,
    UserAdded,
    UserPasswordChanged,
    UserRoleChanged,
    VerdictApproved,
    VerdictDecided,
    VerdictPublished,
    VerdictRejected,
    VerdictSuggested,
)
from evidence.audit.timeline import (
    TimelineEntry,
    claim_events,
    claim_fetch_ids,
    claim_timeline,
    event_json,
)

__all__ = [
    "ClaimTagged",
    "TaskPrioritySet",
    "GENESIS",
    "HASH_RULE",
    "AdapterFailed",
    "CandidatesProposed",
    "ChainReport",
    "ChainVerifier",
    "ClaimAdded",
    "ClaimLinked",
    "ClaimStatusChanged",
    "DriftDetected",
    "EVENT_KINDS",
    "Event",
    "EventRow",
    "EvidenceSelected",
    "FactCheckFound",
    "FetchRecorded",
    "PassagesExtracted",
    "ReducedEvent",
    "ReviewsCompared",
    "RowsAdopted",
    "RunFinished",
    "RunStarted",
    "SearchWindowRecorded",
    "TaskLeased",
    "TaskQueued",
    "TaskReleased",
    "TaskReopened",
    "TimelineEntry",
    "UserAdded",
    "UserPasswordChanged",
    "UserRoleChanged",
    "VERIFY_BATCH",
    "WithheldEvent",
    "VerdictApproved",
    "VerdictDecided",
    "VerdictPublished",
    "VerdictRejected",
    "VerdictSuggested",
    "canonical_json",
    "claim_events",
    "claim_fetch_ids",
    "claim_timeline",
    "compute_hash",
    "event_digest",
    "event_json",
    "events_for",
    "hash_rule",
    "hashed_time",
    "iter_event_range",
    "iter_event_rows",
    "iter_events",
    "record",
    "rehash",
    "verify_chain",
]
