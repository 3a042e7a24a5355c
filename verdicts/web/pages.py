"""The server-rendered pages: login, queue, the claim workspace and its verdict form,
approvals (approve or send back), timeline, dashboard, the archived copy of a fetch
(readable, and raw under a sandboxing CSP), and the admins' list of sessions.

Every route is a thin shell: check the role, open one transaction, call a function of
``verdicts`` or ``evidence``, render. Every POST carries the session's CSRF token (checked
by the router's dependency before the route runs); writes need a role with the ``decide``
or ``approve`` permission, so an auditor's write is refused with 403.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlmodel import Session, col, select
from starlette.responses import JSONResponse, RedirectResponse, Response

from evidence import audit, claims
from evidence.audit.events import LoginSucceeded
from evidence.errors import BadInput, Conflict, NotFound
from evidence.models import CLAIM_STATUSES, Claim, Fetch, User, Verdict
from verdicts import claimreview, comments, decisions, queue, search, sessions, throttle, users
from verdicts.scale import scale_from
from verdicts.web import charts, workspace
from verdicts.web.archive import read_archived, readable_copy
from verdicts.web.auth import (
    actor_of,
    api_user,
    bearer,
    client_address,
    flash,
    now_of,
    page_user,
    page_writer,
    safe_next,
    session_of,
    sign_in,
    sign_out,
    verify_csrf,
)
from verdicts.web.config import (
    ARCHIVE_DISPLAY_BYTES,
    QUEUE_PAGE_SIZE,
    SESSION_IDLE_S,
    TIMELINE_LIMIT,
)
from verdicts.web.db import transaction
from verdicts.web.headers import RAW_ARCHIVE_HEADERS
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


def _throttled(request: Request, name: str, next: str, retry_after_s: int) -> Response:
    """429 with Retry-After: the password was not checked (a lock refuses the right one too)."""
    wait = f"{retry_after_s} seconds" if retry_after_s < 120 else f"{retry_after_s // 60} minutes"
    error = f"Too many failed sign-ins. Try again in {wait}."
    context = {"next": safe_next(next), "name": name, "error": error}
    response = render(request, "login.html", context, status_code=429)
    response.headers["Retry-After"] = str(retry_after_s)
    return response


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    # the attempt is committed as pending before the (slow) password check, so parallel
    # requests count it; see verdicts.throttle
    with transaction(request) as session:
        admission = throttle.admit(
            session, name=name, address=client_address(request), now=now_of(request)
        )
    if not admission.allowed:
        return _throttled(request, name, next, admission.retry_after_s)
    with transaction(request) as session:
        user = users.authenticate(session, name, password)
        throttle.settle(session, admission, user=user, now=now_of(request))
        if user is not None:
            row = sign_in(request, session, user)
            assert row.id is not None and user.id is not None
            event = LoginSucceeded(session_id=row.id, user_id=user.id, address=admission.address)
            audit.record(session, event, actor=actor_of(user))
    if user is None:
        context = {"next": safe_next(next), "name": name, "error": "Wrong name or password."}
        return render(request, "login.html", context, status_code=401)
    return redirect(safe_next(next))


@router.post("/logout")
def logout(request: Request) -> Response:
    with transaction(request) as session:
        sign_out(request, session)
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
            session,
            _filters(status, claimant, tag, source),
            limit=QUEUE_PAGE_SIZE,
            offset=offset,
            viewer=user.name,  # claims assigned to this user first
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
    task = detail.task
    ratings = scale_from(request.app.state.settings).ratings()
    # where and over which dates the last run looked: for "first/never/only" claims the
    # timeline of dated evidence is what a reviewer weighs
    window = claims.latest_search_window(session, claim_id)
    return {
        "detail": detail,
        "claim": detail.claim,
        "task": task,
        "groups": workspace.evidence_groups(detail.evidence, detail.claim.claim_date),
        "suggestion": workspace.suggestion_view(detail, ratings),
        "ratings": ratings,
        "can_decide": _may_decide(user, task),
        "holds_lease": task is not None and task.lease_holder == user.name,
        "form": {"rating": "", "rationale": "", "evidence_ids": []},
        "form_error": None,
        "window": workspace.window_view(window, workspace.timeline_outlets(session, window)),
        "comments": comments.thread(session, claim_id),
        "can_comment": users.can(user, users.DECIDE),
        "assignees": comments.assignees(session) if users.can(user, users.APPROVE) else [],
        "comment_error": None,
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
    except (BadInput, Conflict) as exc:
        # the page again, with what was typed and the reason next to the form
        with transaction(request) as session:
            context = _claim_context(request, session, claim_id, user)
        context["form"] = {"rating": rating, "rationale": rationale, "evidence_ids": evidence_ids}
        context["form_error"] = str(exc)
        return render(request, "claim.html", context, status_code=exc.http_status)
    flash(request, f"Verdict recorded: {verdict.rating} ({verdict.state.replace('_', ' ')}).")
    return redirect(f"/claims/{claim_id}#claim-heading")


# -- approval -------------------------------------------------------------------------------


def _approvals_context(session: Session, user: User) -> dict[str, Any]:
    pending = session.exec(
        select(Verdict, Claim)
        .join(Claim, col(Claim.id) == Verdict.claim_id)
        .where(Verdict.state == "pending_approval")
        .order_by(col(Verdict.created_at))
    ).all()
    cited = workspace.cited_evidence(session, [i for v, _ in pending for i in v.evidence_ids])
    return {
        "pending": list(pending),
        "cited": cited,
        "disputed": queue.list_queue(session, queue.QueueFilter(status="disputed")),
        "can_approve": users.can(user, users.APPROVE),
        "reject_error": None,
    }


@router.get("/approvals")
def approvals_page(request: Request, user: PageUser) -> Response:
    with transaction(request) as session:
        context = _approvals_context(session, user)
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


@router.post("/verdicts/{verdict_id}/reject")
def reject(
    request: Request, verdict_id: int, user: PageUser, reason: Annotated[str, Form()] = ""
) -> Response:
    """Send a verdict back to the queue with the editor's comment (the two-person rule)."""
    users.require(user, users.APPROVE)
    try:
        with transaction(request) as session:
            verdict = decisions.reject(
                session, verdict_id, editor=user.name, reason=reason, actor=actor_of(user)
            )
    except (BadInput, Conflict) as exc:
        with transaction(request) as session:
            context = _approvals_context(session, user)
        listed = any(v.id == verdict_id for v, _ in context["pending"])
        context["reject_error"] = {
            "verdict_id": verdict_id,
            "message": str(exc),
            "reason": reason,
            "listed": listed,  # else the message goes at the top of the page
        }
        return render(request, "approvals.html", context, status_code=exc.http_status)
    flash(request, f"Verdict {verdict_id} sent back: claim {verdict.claim_id} is queued again.")
    return redirect("/approvals#approvals-heading")  # not the form's #verdict-N, now gone


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
        desk = charts.desk_charts(queue.desk_stats(session))
    return render(request, "dashboard.html", {"stats": stats, "charts": desk})


def _fetch(request: Request, fetch_id: int) -> Fetch:
    with transaction(request) as session:
        fetch = session.get(Fetch, fetch_id)
    if fetch is None:
        raise NotFound("fetch", fetch_id)
    return fetch


@router.get("/fetches/{fetch_id}/archive")
def archive_page(request: Request, fetch_id: int, user: PageUser) -> Response:
    """The archived page as readable text: the passages extracted from the archived bytes,
    in order; ``#passage-ID`` marks and scrolls to a cited one (CSS ``:target``)."""
    users.require(user, users.READ)
    with transaction(request) as session:
        copy = readable_copy(session, fetch_id)
    return render(request, "archive.html", {"copy": copy})


@router.get("/fetches/{fetch_id}/archive/raw")
def archive_raw_page(request: Request, fetch_id: int, user: PageUser) -> Response:
    """The WARC record as escaped text, under a sandboxing CSP: even if something of the
    page got through, it could run nothing and reach no cookie of the app's origin."""
    users.require(user, users.READ)
    fetch = _fetch(request, fetch_id)
    copy = read_archived(
        fetch, warc_dir=request.app.state.settings.warc_dir, limit=ARCHIVE_DISPLAY_BYTES
    )
    response = render(request, "archive_raw.html", {"fetch": fetch, "copy": copy})
    response.headers.update(RAW_ARCHIVE_HEADERS)
    return response


# -- export ---------------------------------------------------------------------------------


def _reader(request: Request, credentials: HTTPAuthorizationCredentials | None) -> User:
    """A page session or an API token: the export serves both browsers and machines."""
    if credentials is not None:
        return api_user(request, credentials)
    if session_of(request).sid is None:
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


# -- sessions (admins) ----------------------------------------------------------------------


@router.get("/admin/sessions")
def sessions_page(request: Request, user: PageUser) -> Response:
    users.require(user, users.ADMIN)
    idle = timedelta(seconds=SESSION_IDLE_S)
    with transaction(request) as session:
        rows = sessions.list_sessions(session, idle=idle, now=now_of(request))
        mine = sessions.find_session(session, session_of(request).sid or "")
    context = {"sessions": rows, "current_id": mine.id if mine is not None else None}
    return render(request, "sessions.html", context)


@router.post("/admin/sessions/revoke")
def revoke_session(
    request: Request, session_id: Annotated[int, Form()], user: PageUser
) -> Response:
    users.require(user, users.ADMIN)
    with transaction(request) as session:
        row = sessions.revoke_session(session, session_id, actor=actor_of(user))
        owner = session.get(User, row.user_id)
    flash(request, f"Session {session_id} of {owner.name if owner else '?'} ended.")
    return redirect("/admin/sessions")


@router.post("/admin/sessions/revoke-user")
def revoke_user_sessions(
    request: Request, user_id: Annotated[int, Form()], user: PageUser
) -> Response:
    users.require(user, users.ADMIN)
    with transaction(request) as session:
        owner = session.get(User, user_id)
        if owner is None:
            raise NotFound("user", user_id)
        ended = sessions.end_user_sessions(
            session, user_id, reason="revoked by an admin", actor=actor_of(user)
        )
    flash(request, f"{ended} session(s) of {owner.name} ended.")
    return redirect("/admin/sessions")


# -- every claim: list, search, bulk actions ------------------------------------------------


def _claim_filter(q: str, status: str, tag: str, claimant: str) -> search.ClaimFilter:
    return search.ClaimFilter(
        q=q or None, status=status or None, tag=tag or None, claimant=claimant or None
    )


@router.get("/claims")
def claims_page(
    request: Request,
    user: PageUser,
    q: str = "",
    status: str = "",
    tag: str = "",
    claimant: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Every claim in every state; the filters are the URL's (a GET form), so a search can
    be bookmarked and shared."""
    users.require(user, users.READ)
    size = search.PAGE_SIZE
    with transaction(request) as session:
        found = search.search_claims(
            session, _claim_filter(q, status, tag, claimant), limit=size, offset=(page - 1) * size
        )
    filters = {"q": q, "status": status, "tag": tag, "claimant": claimant}
    context = {
        "found": found,
        "filters": filters,
        "query": urlencode({k: v for k, v in filters.items() if v}),
        "page": page,
        "pages": max(1, -(-found.total // size)),
        "statuses": CLAIM_STATUSES,
        "can_edit": users.can(user, users.APPROVE),
        "verify_tag": search.VERIFY_REQUESTED,
    }
    return render(request, "claims.html", context)


def _bulk_message(
    session: Session, action: str, ids: list[int], priority: str, tag: str, *, actor: str
) -> str:
    if action == "priority":
        try:
            value = int(priority)
        except ValueError:
            raise BadInput("Priority is a whole number.") from None
        changed, untasked = search.set_priority(session, ids, value, actor=actor)
        rest = f"; {untasked} not in the review queue yet, unchanged" if untasked else ""
        return f"Priority {value} set on {changed} claim(s){rest}."
    if action == "tag":
        changed = search.add_tag(session, ids, tag, actor=actor)
        return f"Tag {search.clean_tag(tag)!r} added to {changed} claim(s)."
    if action == "verify":
        marked, skipped = search.request_verification(session, ids, actor=actor)
        rest = f"; {skipped} not new, left alone" if skipped else ""
        return (
            f"{marked} claim(s) marked for verification{rest}. They are verified by the next "
            f"`factcheck verify-batch --tag {search.VERIFY_REQUESTED}` an operator runs."
        )
    raise BadInput(f"Unknown bulk action {action!r}.")


@router.post("/claims/bulk")
def claims_bulk(
    request: Request,
    user: PageUser,
    action: Annotated[str, Form()] = "",
    claim_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    priority: Annotated[str, Form()] = "",
    tag: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Editors act on the selected claims; the list comes back with the same filters."""
    users.require(user, users.APPROVE)
    target = back if back.startswith("/claims") and not back.startswith("//") else "/claims"
    try:
        with transaction(request) as session:
            message = _bulk_message(session, action, claim_ids, priority, tag, actor=actor_of(user))
    except BadInput as exc:
        message = f"Nothing changed: {exc}"
    flash(request, message)
    return redirect(safe_next(target))


@router.get("/api/claims")
def claims_api(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    q: str = "",
    status: str = "",
    tag: str = "",
    claimant: str = "",
    limit: Annotated[int, Query(ge=1, le=500)] = search.PAGE_SIZE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The list as JSON, for a page session or an API token."""
    users.require(_reader(request, credentials), users.READ)
    with transaction(request) as session:
        found = search.search_claims(
            session, _claim_filter(q, status, tag, claimant), limit=limit, offset=offset
        )
    return JSONResponse(search.page_summary(found))


# -- team notes and assignment --------------------------------------------------------------


@router.post("/claims/{claim_id}/comments")
def add_comment(
    request: Request,
    claim_id: int,
    user: PageUser,
    text: Annotated[str, Form()] = "",
    parent_id: Annotated[int | None, Form()] = None,
) -> Response:
    """A note (or a reply) on a claim; a refused one comes back with the text kept."""
    users.require(user, users.DECIDE)
    try:
        with transaction(request) as session:
            comments.add_comment(
                session,
                claim_id,
                author=user.name,
                text=text,
                parent_id=parent_id,
                actor=actor_of(user),
            )
    except BadInput as exc:
        with transaction(request) as session:
            context = _claim_context(request, session, claim_id, user)
        context["comment_error"] = {"message": str(exc), "text": text, "parent_id": parent_id}
        return render(request, "claim.html", context, status_code=exc.http_status)
    return redirect(f"/claims/{claim_id}#comments")


@router.post("/claims/{claim_id}/assign")
def assign_claim(
    request: Request, claim_id: int, user: PageUser, assignee: Annotated[str, Form()] = ""
) -> Response:
    """An editor names the reviewer who should take the claim (empty: nobody)."""
    users.require(user, users.APPROVE)
    with transaction(request) as session:
        task = comments.assign(
            session, claim_id, assignee=assignee, editor=user.name, actor=actor_of(user)
        )
    flash(request, f"Claim {claim_id} is assigned to {task.assigned_to or 'nobody'}.")
    return redirect(f"/claims/{claim_id}#comments")


# -- the dashboard's numbers as CSV ---------------------------------------------------------


@router.get("/dashboard.csv")
def dashboard_csv(request: Request, user: PageUser, chart: str = "flow") -> Response:
    """One dashboard chart's numbers (the table under it) as a CSV download."""
    users.require(user, users.READ)
    with transaction(request) as session:
        desk = charts.desk_charts(queue.desk_stats(session))
    found = next((c for c in desk if c.key == chart), None)
    if found is None:
        raise BadInput(f"Unknown chart {chart!r}; use one of: {', '.join(c.key for c in desk)}.")
    return Response(
        charts.csv_text(found.columns, found.rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="factcheck-{found.key}.csv"'},
    )
