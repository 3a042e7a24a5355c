"""The server-rendered pages: login, queue, claim and verdict form, approvals, timeline,
dashboard and the archived copy of a fetch.

Every route is a thin shell: check the role, open one transaction, call a function of
``verdicts`` or ``evidence``, render. Every POST carries the session's CSRF token (checked
by the router's dependency before the route runs); writes need a role with the ``decide``
or ``approve`` permission, so an auditor's write is refused with 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlmodel import Session, col, select
from starlette.responses import JSONResponse, RedirectResponse, Response

from evidence import audit, claims
from evidence.errors import BadInput, NotFound
from evidence.models import Claim, Fetch, User, Verdict
from verdicts import claimreview, decisions, queue, users
from verdicts.scale import scale_from
from verdicts.web.archive import read_archived
from verdicts.web.auth import (
    actor_of,
    api_user,
    bearer,
    flash,
    page_user,
    page_writer,
    safe_next,
    session_of,
    sign_in,
    sign_out,
    verify_csrf,
)
from verdicts.web.config import ARCHIVE_DISPLAY_BYTES, QUEUE_PAGE_SIZE, TIMELINE_LIMIT
from verdicts.web.db import transaction
from verdicts.web.highlight import highlight
from verdicts.web.templating import render

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(verify_csrf), Depends(page_writer)]
)
PageUser = Annotated[User, Depends(page_user)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- signing in and out ---------------------------------------------------------------------


@router.get("/")
def home() -> Response:
    return redirect("/queue")


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "name": "", "error": None})


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    with transaction(request) as session:
        user = users.authenticate(session, name, password)
    if user is None:
        context = {"next": safe_next(next), "name": name, "error": "Wrong name or password."}
        return render(request, "login.html", context, status_code=401)
    sign_in(request, user)
    return redirect(safe_next(next))


@router.post("/logout")
def logout(request: Request) -> Response:
    sign_out(request)
    flash(request, "You are signed out.")
    return redirect("/login")


# -- the queue ------------------------------------------------------------------------------


def _filters(status: str, claimant: str, tag: str, source: str) -> queue.QueueFilter:
    return queue.QueueFilter(
        status=status or None, claimant=claimant or None, tag=tag or None, source=source or None
    )


@router.get("/queue")
def queue_page(
    request: Request,
    user: PageUser,
    status: str = "",
    claimant: str = "",
    tag: str = "",
    source: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    with transaction(request) as session:
        items = queue.list_queue(
            session, _filters(status, claimant, tag, source), limit=QUEUE_PAGE_SIZE, offset=offset
        )
        mine = queue.list_queue(session, queue.QueueFilter(holder=user.name))
        stats = queue.queue_stats(session)
    context = {
        "items": items,
        "mine": mine,
        "stats": stats,
        "filters": {"status": status, "claimant": claimant, "tag": tag, "source": source},
        "offset": offset,
        "page_size": QUEUE_PAGE_SIZE,
        "can_decide": users.can(user, users.DECIDE),
    }
    return render(request, "queue.html", context)


@router.post("/queue/next")
def take_next(request: Request, user: PageUser) -> Response:
    users.require(user, users.DECIDE)
    with transaction(request) as session:
        task = queue.next_task(session, user.name)
    if task is None:
        flash(request, "The queue is empty: nothing to take.")
        return redirect("/queue")
    return redirect(f"/claims/{task.claim_id}")


@router.post("/claims/{claim_id}/release")
def release(request: Request, claim_id: int, user: PageUser) -> Response:
    users.require(user, users.DECIDE)
    with transaction(request) as session:
        detail = decisions.claim_detail(session, claim_id, viewer=user.name)
        if detail.task is None or detail.task.id is None:
            raise NotFound("review task for claim", claim_id)
        queue.release(session, detail.task.id, reviewer=user.name, actor=actor_of(user))
    flash(request, f"Claim {claim_id} is back in the queue.")
    return redirect("/queue")


# -- a claim and its verdict form -----------------------------------------------------------


DECIDABLE_STATES = ("queued", "leased", "awaiting_second", "disputed")


def _may_decide(user: User, task: queue.TaskPublic | None) -> bool:
    """Mirror of ``decisions.decide``'s rules, to offer the form only where it can succeed:
    a deciding role, and a task nobody else holds a live lease on."""
    if task is None or task.state not in DECIDABLE_STATES or not users.can(user, users.DECIDE):
        return False
    if task.state == "disputed":
        return False  # an editor settles a dispute on the approvals page
    return task.lease_holder in (None, user.name)


def _claim_context(request: Request, session: Session, claim_id: int, user: User) -> dict[str, Any]:
    detail = decisions.claim_detail(session, claim_id, viewer=user.name)
    evidence = [(item, highlight(item.passage, item.matched_terms)) for item in detail.evidence]
    task = detail.task
    return {
        "detail": detail,
        "claim": detail.claim,
        "task": task,
        "evidence": evidence,
        "ratings": scale_from(request.app.state.settings).ratings(),
        "can_decide": _may_decide(user, task),
        "holds_lease": task is not None and task.lease_holder == user.name,
        "form": {"rating": "", "rationale": "", "evidence_ids": []},
        "form_error": None,
        # where and over which dates the last run looked: for "first/never/only" claims the
        # timeline of dated evidence is what a reviewer weighs
        "window": claims.latest_search_window(session, claim_id),
    }


@router.get("/claims/{claim_id}")
def claim_page(request: Request, claim_id: int, user: PageUser) -> Response:
    with transaction(request) as session:
        context = _claim_context(request, session, claim_id, user)
    return render(request, "claim.html", context)


@router.post("/claims/{claim_id}/verdict")
def decide(
    request: Request,
    claim_id: int,
    user: PageUser,
    background: BackgroundTasks,
    expected_version: Annotated[int, Form()],
    rating: Annotated[str, Form()] = "",
    rationale: Annotated[str, Form()] = "",
    evidence_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    users.require(user, users.DECIDE)
    try:
        with transaction(request, background) as session:
            verdict = decisions.decide(
                session,
                claim_id,
                reviewer=user.name,
                rating=rating,
                rationale=rationale,
                evidence_ids=evidence_ids,
                expected_version=expected_version,
                actor=actor_of(user),
            )
    except BadInput as exc:
        # show the form again with what was typed, so nothing is lost
        with transaction(request) as session:
            context = _claim_context(request, session, claim_id, user)
        context["form"] = {"rating": rating, "rationale": rationale, "evidence_ids": evidence_ids}
        context["form_error"] = str(exc)
        return render(request, "claim.html", context, status_code=exc.http_status)
    flash(request, f"Verdict recorded: {verdict.rating} ({verdict.state.replace('_', ' ')}).")
    return redirect(f"/claims/{claim_id}")


# -- approval -------------------------------------------------------------------------------


@router.get("/approvals")
def approvals_page(request: Request, user: PageUser) -> Response:
    with transaction(request) as session:
        pending = session.exec(
            select(Verdict, Claim)
            .join(Claim, col(Claim.id) == Verdict.claim_id)
            .where(Verdict.state == "pending_approval")
            .order_by(col(Verdict.created_at))
        ).all()
        disputed = queue.list_queue(session, queue.QueueFilter(status="disputed"))
    context = {
        "pending": list(pending),
        "disputed": disputed,
        "can_approve": users.can(user, users.APPROVE),
    }
    return render(request, "approvals.html", context)


@router.post("/verdicts/{verdict_id}/approve")
def approve(
    request: Request, verdict_id: int, user: PageUser, background: BackgroundTasks
) -> Response:
    users.require(user, users.APPROVE)
    with transaction(request, background) as session:
        verdict = decisions.approve(session, verdict_id, editor=user.name, actor=actor_of(user))
    flash(request, f"Verdict {verdict_id} approved and {verdict.state.replace('_', ' ')}.")
    return redirect("/approvals")


# -- auditor's timeline, dashboard, archived copy -------------------------------------------


@router.get("/claims/{claim_id}/timeline")
def timeline_page(request: Request, claim_id: int, user: PageUser) -> Response:
    users.require(user, users.READ)
    with transaction(request) as session:
        detail = decisions.claim_detail(session, claim_id, viewer=user.name)
        # the same trail as `factcheck audit show`: the claim's events and its fetches'
        entries = audit.claim_timeline(session, claim_id)[:TIMELINE_LIMIT]
    return render(request, "timeline.html", {"claim": detail.claim, "entries": entries})


@router.get("/dashboard")
def dashboard_page(request: Request, user: PageUser) -> Response:
    with transaction(request) as session:
        stats = queue.queue_stats(session)
    return render(request, "dashboard.html", {"stats": stats})


@router.get("/fetches/{fetch_id}/archive")
def archive_page(request: Request, fetch_id: int, user: PageUser) -> Response:
    users.require(user, users.READ)
    with transaction(request) as session:
        fetch = session.get(Fetch, fetch_id)
    if fetch is None:
        raise NotFound("fetch", fetch_id)
    copy = read_archived(
        fetch, warc_dir=request.app.state.settings.warc_dir, limit=ARCHIVE_DISPLAY_BYTES
    )
    return render(request, "archive.html", {"fetch": fetch, "copy": copy})


# -- export ---------------------------------------------------------------------------------


def _reader(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User:
    """A page session or an API token: the export serves both browsers and machines."""
    if credentials is not None:
        return api_user(request, credentials)
    if session_of(request).uid is None:
        return api_user(request, None)  # raises Unauthenticated, rendered as JSON here
    return page_user(request)


@router.get("/claims/{claim_id}/claimreview.json")
def claimreview_export(
    request: Request,
    claim_id: int,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    users.require(_reader(request, credentials), users.READ)
    with transaction(request) as session:
        document = claimreview.claimreview_jsonld(session, claim_id)
    return JSONResponse(document, media_type="application/ld+json")
