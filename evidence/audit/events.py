"""The audit vocabulary: one small class per kind of event, with a fixed ``action`` name.

``chain.record`` refuses any event that is not one of these classes. A kind lists the fields
that explain the change; extra fields are allowed so a payload can say more.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

EVENT_KINDS: dict[str, type[Event]] = {}


class Event(BaseModel):
    """Base of every audit event kind; subclasses set ``action`` and ``subject_kind``."""

    model_config = ConfigDict(extra="allow", frozen=True)
    action: ClassVar[str]
    subject_kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "action" in cls.__dict__:
            EVENT_KINDS[cls.action] = cls

    def subject_id(self) -> object:
        return getattr(self, f"{self.subject_kind}_id")

    def subject_text(self) -> str:
        """The event's subject as stored: ``claim:7``."""
        return f"{self.subject_kind}:{self.subject_id()}"


# -- the vocabulary -------------------------------------------------------------------------


class ClaimAdded(Event):
    action = "claim.added"
    subject_kind = "claim"
    claim_id: int
    text: str
    fingerprint: str
    claimant: str | None = None
    origin_url: str | None = None
    claim_date: date | None = None


class ClaimLinked(Event):
    action = "claim.linked"
    subject_kind = "claim"
    claim_id: int
    duplicate_of_id: int
    similarity: float


class ClaimStatusChanged(Event):
    action = "claim.status"
    subject_kind = "claim"
    claim_id: int
    old: str
    new: str


class RunStarted(Event):
    action = "run.started"
    subject_kind = "claim"
    claim_id: int
    run_id: int
    kind: str


class RunFinished(Event):
    action = "run.finished"
    subject_kind = "claim"
    claim_id: int
    run_id: int
    status: str
    error: str | None = None


class CandidatesProposed(Event):
    action = "candidates.proposed"
    subject_kind = "claim"
    claim_id: int
    candidates: list[dict[str, Any]]


class FetchRecorded(Event):
    action = "fetch.recorded"
    subject_kind = "fetch"
    fetch_id: int
    url: str
    status_code: int | None
    sha256: str | None
    error_kind: str | None


class PassagesExtracted(Event):
    action = "passages.extracted"
    subject_kind = "fetch"
    fetch_id: int
    document_id: int
    passages: int


class EvidenceSelected(Event):
    action = "evidence.selected"
    subject_kind = "claim"
    claim_id: int
    evidence: list[dict[str, Any]]


class FactCheckFound(Event):
    action = "factcheck.found"
    subject_kind = "claim"
    claim_id: int
    url: str
    rating: str | None


class DriftDetected(Event):
    action = "drift.detected"
    subject_kind = "claim"
    claim_id: int
    changes: list[dict[str, Any]]
    material: bool = False  # true when the change re-opens a decided claim


class TaskQueued(Event):
    action = "task.queued"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    priority: int


class TaskLeased(Event):
    action = "task.leased"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    holder: str
    expires_at: str


class TaskReleased(Event):
    action = "task.released"
    subject_kind = "claim"
    claim_id: int
    task_id: int


class TaskReopened(Event):
    action = "task.reopened"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    reason: str


class VerdictDecided(Event):
    action = "verdict.decided"
    subject_kind = "claim"
    claim_id: int
    verdict_id: int
    rating: str
    evidence_ids: list[int]


class VerdictApproved(Event):
    action = "verdict.approved"
    subject_kind = "claim"
    claim_id: int
    verdict_id: int


class VerdictPublished(Event):
    action = "verdict.published"
    subject_kind = "claim"
    claim_id: int
    verdict_id: int
    rating: str


class UserAdded(Event):
    action = "user.added"
    subject_kind = "user"
    user_id: int
    name: str
    role: str


class UserRoleChanged(Event):
    action = "user.role"
    subject_kind = "user"
    user_id: int
    old: str
    new: str


class VerdictRejected(Event):
    action = "verdict.rejected"
    subject_kind = "claim"
    claim_id: int
    verdict_id: int
    reason: str


class ReviewsCompared(Event):
    """Blind double review: the second verdict was compared with the first."""

    action = "review.compared"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    verdict_ids: list[int]
    reviewers: list[str]
    ratings: list[str]
    agreed: bool


class UserPasswordChanged(Event):
    action = "user.password"
    subject_kind = "user"
    user_id: int


class AdapterFailed(Event):
    """A discovery source failed for a claim; the claim went on with the others."""

    action = "discovery.adapter_failed"
    subject_kind = "claim"
    claim_id: int
    run_id: int | None
    adapter: str
    source: str
    failure: str
    message: str


class RowsAdopted(Event):
    """Rows written before the chain vouched for rows (or outside the application), vouched
    for as they stand by someone who checked them: ``factcheck audit adopt``. The subject is
    the one whose events write such rows (``claim:7`` for its claim, evidence, verdicts and
    task; ``fetch:12`` for passages; ``user:3``), so a claim's timeline and bundle hold it."""

    action = "rows.adopted"
    subject_kind = "rows"
    of: str
    count: int

    def subject_text(self) -> str:
        return self.of


class SearchWindowRecorded(Event):
    """Where and over which dates a run looked: for a "first/never/only" claim, "no earlier
    case found" is only as good as this record, so it goes into the chain."""

    action = "search.window"
    subject_kind = "claim"
    claim_id: int
    run_id: int
    window: dict[str, Any]


class VerdictSuggested(Event):
    """The run's suggested verdict (rating, confidence, explanation naming the passages):
    kept in the chain so an auditor can compare it with what the reviewer decided."""

    action = "verdict.suggested"
    subject_kind = "claim"
    claim_id: int
    run_id: int
    rating: str
    confidence: float
    explanation: str


class UserActiveChanged(Event):
    """A user was deactivated (their sessions end with it) or activated again."""

    action = "user.active"
    subject_kind = "user"
    user_id: int
    old: bool
    new: bool


class LoginSucceeded(Event):
    """A password sign-in started a session (the session id, never its token)."""

    action = "login.succeeded"
    subject_kind = "session"
    session_id: int
    user_id: int
    address: str


class LoginFailed(Event):
    """A wrong password (or unknown name) the login throttle had admitted for checking."""

    action = "login.failed"
    subject_kind = "login"
    account: str  # the name as typed, known user or not
    address: str
    user_id: int | None = None
    failures: int  # recent failures on this account, this one included

    def subject_id(self) -> object:
        return self.account


class LoginLocked(Event):
    """Too many failures: sign-ins for an account or from an address are refused until."""

    action = "login.locked"
    subject_kind = "login"
    scope: str  # account | address
    key: str
    until: str
    failures: int

    def subject_id(self) -> object:
        return self.key


class SessionEnded(Event):
    """A session was ended before its time: logout, revocation, or a change to its user."""

    action = "session.ended"
    subject_kind = "session"
    session_id: int
    user_id: int
    reason: str


class CommentAdded(Event):
    """A team note on a claim. The text stays out of the chain (notes are never exported,
    and the claim's events are): its SHA-256 and length prove what was written."""

    action = "comment.added"
    subject_kind = "claim"
    claim_id: int
    comment_id: int
    parent_id: int | None
    author: str
    text_sha256: str
    chars: int


class TaskAssigned(Event):
    """An editor assigned a claim's review task to a named reviewer (None: unassigned)."""

    action = "task.assigned"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    assigned_to: str | None
    previous: str | None


class ClaimTagged(Event):
    """An editor added a tag to a claim (from the claims list's bulk actions)."""

    action = "claim.tagged"
    subject_kind = "claim"
    claim_id: int
    tag: str


class TaskPrioritySet(Event):
    """An editor set the review priority of a claim's task."""

    action = "task.priority"
    subject_kind = "claim"
    claim_id: int
    task_id: int
    priority: int
    previous: int
