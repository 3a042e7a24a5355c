"""The JSON API beside the pages: claim intake, queue, decide, approve, ClaimReview export.

Authenticated by ``Authorization: Bearer <token>`` only (no cookies, hence no CSRF), with
the same permissions as the pages. Returns the Public shapes, never table rows; errors come
from the one handler as ``{"error", "message", "status"}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from evidence import claims
from evidence.models import ClaimPublic, User, Verdict
from verdicts import claimreview, decisions, queue, users
from verdicts.decisions import ClaimDetail, VerdictPublic
from verdicts.web.auth import actor_of, api_user, api_writer
from verdicts.web.config import QUEUE_PAGE_SIZE
from verdicts.web.db import transaction

ApiUser = Annotated[User, Depends(api_user)]
router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(api_writer)])
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid API token"},
    403: {"description": "The token's role may not do this"},
}


class ErrorOut(BaseModel):
    error: str
    message: str
    status: int


class ClaimIn(BaseModel):
    text: str = Field(description="The claim as said or written")
    url: str | None = Field(default=None, description="Where the claim was made")
    claimant: str | None = None
    date: str | None = Field(default=None, description="When the claim was made (YYYY-MM-DD)")
    tags: list[str] = []


class ClaimAddedOut(BaseModel):
    claim: ClaimPublic
    created: bool = Field(description="false when the same claim was already known")


class DecisionIn(BaseModel):
    rating: str
    rationale: str
    evidence_ids: list[int] = []
    expected_version: int = Field(description="the task version the decision is based on")


def _verdict_out(verdict: Verdict) -> VerdictPublic:
    return VerdictPublic.model_validate(verdict, from_attributes=True)


@router.post("/claims", status_code=201, response_model=ClaimAddedOut, responses=_ERRORS)
def add_claim(request: Request, body: ClaimIn, user: ApiUser) -> Response:
    """Add a claim (or find the known one with the same text)."""
    users.require(user, users.DECIDE)
    data = claims.make_create(
        text=body.text, url=body.url, claimant=body.claimant, claim_date=body.date, tags=body.tags
    )
    with transaction(request) as session:
        added = claims.add_claim(session, data, actor=actor_of(user, channel="api"))
        out = ClaimAddedOut(
            claim=ClaimPublic.model_validate(added.claim, from_attributes=True),
            created=added.created,
        )
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if added.created else 200)


@router.get("/queue", response_model=list[queue.QueueItem], responses=_ERRORS)
def list_queue(
    request: Request,
    user: ApiUser,
    status: str | None = None,
    claimant: str | None = None,
    tag: str | None = None,
    source: str | None = None,
    holder: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = QUEUE_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[queue.QueueItem]:
    """The queue in the order reviewers get it: priority, then age."""
    users.require(user, users.READ)
    filters = queue.QueueFilter(
        status=status, claimant=claimant, tag=tag, source=source, holder=holder
    )
    with transaction(request) as session:
        return queue.list_queue(session, filters, limit=limit, offset=offset)


@router.post(
    "/queue/next",
    response_model=queue.TaskPublic,
    responses={**_ERRORS, 204: {"description": "The queue is empty"}},
)
def take_next(request: Request, user: ApiUser) -> Response:
    """Lease the next claim to the token's user for the configured number of minutes."""
    users.require(user, users.DECIDE)
    with transaction(request) as session:
        task = queue.next_task(session, user.name)
        if task is None:
            return Response(status_code=204)
        return JSONResponse(queue.task_public(task).model_dump(mode="json"))


@router.get("/claims/{claim_id}", response_model=ClaimDetail, responses=_ERRORS)
def claim_detail(request: Request, claim_id: int, user: ApiUser) -> ClaimDetail:
    """A claim with its task, existing fact-checks, evidence and the verdicts you may see."""
    users.require(user, users.READ)
    with transaction(request) as session:
        return decisions.claim_detail(session, claim_id, viewer=user.name)


@router.post(
    "/claims/{claim_id}/verdict",
    response_model=VerdictPublic,
    responses={**_ERRORS, 409: {"model": ErrorOut, "description": "Stale version"}},
)
def decide(
    request: Request, claim_id: int, body: DecisionIn, user: ApiUser, background: BackgroundTasks
) -> VerdictPublic:
    """Record a verdict; refused with 409 when someone decided since ``expected_version``."""
    users.require(user, users.DECIDE)
    with transaction(request, background) as session:
        verdict = decisions.decide(
            session,
            claim_id,
            reviewer=user.name,
            rating=body.rating,
            rationale=body.rationale,
            evidence_ids=body.evidence_ids,
            expected_version=body.expected_version,
            actor=actor_of(user, channel="api"),
        )
        return _verdict_out(verdict)


@router.post("/verdicts/{verdict_id}/approve", response_model=VerdictPublic, responses=_ERRORS)
def approve(
    request: Request, verdict_id: int, user: ApiUser, background: BackgroundTasks
) -> VerdictPublic:
    """Approve (and so publish) a verdict awaiting an editor; nobody approves their own."""
    users.require(user, users.APPROVE)
    with transaction(request, background) as session:
        verdict = decisions.approve(
            session, verdict_id, editor=user.name, actor=actor_of(user, channel="api")
        )
        return _verdict_out(verdict)


@router.get("/claims/{claim_id}/claimreview", responses=_ERRORS)
def export_claimreview(request: Request, claim_id: int, user: ApiUser) -> Response:
    """The claim's published verdict as schema.org ClaimReview JSON-LD."""
    users.require(user, users.READ)
    with transaction(request) as session:
        document = claimreview.claimreview_jsonld(session, claim_id)
    return JSONResponse(document, media_type="application/ld+json")
