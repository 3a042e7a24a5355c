"""`factcheck review …`, `user …`, `export claimreview`, `serve`: thin shells over verdicts.*.

The reviewer is ``--as NAME``, else ``FACTCHECK_ACTOR``, else the operating-system user; the
audit log names them ``user:<name>``. Claims are named by claim id everywhere except
``approve``/``reject``, which name a verdict id. Webhooks and Prefect events go out after the
transaction commits.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated, Any

import typer
import uvicorn

from evidence.actors import cli_actor, os_user, user_actor
from evidence.db import session_scope
from evidence.errors import BadInput
from evidence.models import UserPublic
from evidence.settings import get_settings
from flows.cli.support import console, err_console, open_db, print_json
from verdicts import claimreview, decisions, notify, queue, sessions, users
from verdicts.web.config import SESSION_IDLE_S

review_app = typer.Typer(
    help="Take, decide and approve claims in the review queue.", no_args_is_help=True
)


user_app = typer.Typer(
    help="Add users, change their roles or passwords, deactivate them, end their sessions.",
    no_args_is_help=True,
)
export_app = typer.Typer(help="Export published verdicts.", no_args_is_help=True)

AsOption = Annotated[str | None, typer.Option("--as", help="act as this user")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]
SNIPPET_CHARS = 160


def reviewer_name(as_: str | None) -> str:
    """``--as``, else FACTCHECK_ACTOR, else the operating-system user."""
    if as_:
        return as_
    return os_user()


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


def _print_detail(detail: decisions.ClaimDetail) -> None:
    claim, task = detail.claim, detail.task
    console.print(f"Claim {claim.id} [{claim.status}]: {claim.text}")
    if claim.claimant or claim.claim_date or claim.origin_url:
        console.print(
            f"  by {claim.claimant or '?'} on {claim.claim_date or '?'} "
            f"at {claim.origin_url or '?'}"
        )
    if task is not None:
        lease = (
            f", leased by {task.lease_holder} until {task.lease_expires_at:%Y-%m-%d %H:%M} UTC"
            if task.lease_holder and task.lease_expires_at
            else ""
        )
        console.print(
            f"  task {task.id}: {task.state}, version {task.version}, policy {detail.policy}{lease}"
        )
    for check in detail.fact_checks:
        console.print(
            f"  fact-check: {check.rating or '?'} by {check.publisher or '?'} {check.url}"
        )
    if detail.suggestion:
        s = detail.suggestion
        console.print(
            f"  suggested verdict: {s.get('rating')} (confidence "
            f"{float(s.get('confidence') or 0):.2f}; not published): {s.get('explanation') or ''}"
        )
    for ev in detail.evidence:
        flag = "" if ev.active else " (inactive)"
        stance = f" {ev.role or ev.stance}" if (ev.role or ev.stance) else ""
        console.print(
            f"  evidence {ev.evidence_id}{flag}{stance} [{ev.score:.3f}] {ev.site or '?'} — "
            f"{ev.title or ev.url}"
        )
        console.print(f"      {_snippet(ev.passage)}")
        if ev.reasons:
            console.print(f"      why: {'; '.join(ev.reasons)}")
    for v in detail.verdicts:
        console.print(
            f"  verdict {v.id}: {v.rating} ({v.state}) by {v.reviewer}: {_snippet(v.rationale)}"
        )


@review_app.command("next")
def review_next(
    as_: AsOption = None,
    json_out: JsonOption = False,
    lease_minutes: Annotated[int | None, typer.Option(help="lease length")] = None,
    tag: Annotated[str | None, typer.Option(help="only claims with this tag")] = None,
    claimant: Annotated[str | None, typer.Option(help="only claims by this claimant")] = None,
    source: Annotated[
        str | None, typer.Option(help="only claims with this site or adapter")
    ] = None,
) -> None:
    """Lease the next claim (or show the one you hold) and print it."""
    name = reviewer_name(as_)
    filters = queue.QueueFilter(tag=tag, claimant=claimant, source=source)
    with session_scope(open_db()) as session:
        task = queue.next_task(session, name, filters=filters, lease_minutes=lease_minutes)
        detail = decisions.claim_detail(session, task.claim_id, viewer=name) if task else None
    if json_out:
        print_json(detail.model_dump(mode="json") if detail else None)
    elif detail is None:
        console.print("The queue is empty.")
    else:
        _print_detail(detail)


@review_app.command("show")
def review_show(claim_id: int, as_: AsOption = None, json_out: JsonOption = False) -> None:
    """Show a claim with its evidence, existing fact-checks and verdicts."""
    name = reviewer_name(as_)
    with session_scope(open_db()) as session:
        detail = decisions.claim_detail(session, claim_id, viewer=name)
    if json_out:
        print_json(detail.model_dump(mode="json"))
    else:
        _print_detail(detail)


@review_app.command("decide")
def review_decide(
    claim_id: int,
    rating: Annotated[str, typer.Option(help="a rating of the scale")],
    note: Annotated[str, typer.Option(help="the rationale")],
    evidence: Annotated[
        list[int] | None, typer.Option(help="a cited evidence id; repeatable")
    ] = None,
    as_: AsOption = None,
    version: Annotated[int | None, typer.Option(help="the task version you read")] = None,
    json_out: JsonOption = False,
) -> None:
    """Record your verdict on a claim."""
    name = reviewer_name(as_)
    with session_scope(open_db()) as session:
        verdict = decisions.decide(
            session,
            claim_id,
            reviewer=name,
            rating=rating,
            rationale=note,
            evidence_ids=evidence or [],
            expected_version=version,
            actor=user_actor(name),
        )
        shown = decisions.VerdictPublic.model_validate(verdict, from_attributes=True)
    notify.deliver(session)
    if json_out:
        print_json(shown.model_dump(mode="json"))
    else:
        console.print(f"Verdict {shown.id} on claim {claim_id}: {shown.rating} ({shown.state}).")


@review_app.command("approve")
def review_approve(verdict_id: int, as_: AsOption = None) -> None:
    """Approve (and publish) a verdict awaiting approval or in dispute."""
    name = reviewer_name(as_)
    with session_scope(open_db()) as session:
        verdict = decisions.approve(session, verdict_id, editor=name, actor=user_actor(name))
        claim_id, rating = verdict.claim_id, verdict.rating
    notify.deliver(session)
    console.print(f"Verdict {verdict_id} on claim {claim_id} approved and published: {rating}.")


@review_app.command("reject")
def review_reject(
    verdict_id: int,
    reason: Annotated[str, typer.Option(help="why it goes back")],
    as_: AsOption = None,
) -> None:
    """Send a verdict awaiting approval back to the queue."""
    name = reviewer_name(as_)
    with session_scope(open_db()) as session:
        verdict = decisions.reject(
            session, verdict_id, editor=name, reason=reason, actor=user_actor(name)
        )
        claim_id = verdict.claim_id
    console.print(f"Verdict {verdict_id} rejected; claim {claim_id} is back in the queue.")


@review_app.command("release")
def review_release(claim_id: int, as_: AsOption = None) -> None:
    """Give a claim you lease back to the queue."""
    name = reviewer_name(as_)
    with session_scope(open_db()) as session:
        task = queue.task_for_claim(session, claim_id)
        if task is None or task.id is None:
            raise BadInput(f"Claim {claim_id} is not in the review queue.")
        queue.release(session, task.id, reviewer=name, actor=user_actor(name))
    console.print(f"Claim {claim_id} released.")


@review_app.command("reopen")
def review_reopen(
    claim_id: int,
    reason: Annotated[str, typer.Option(help="why it needs another look")],
    as_: AsOption = None,
) -> None:
    """Put a decided claim back in the queue; its verdict stays in the history."""
    name = reviewer_name(as_)
    with session_scope(open_db()) as session:
        decisions.reopener(session, name)
        decisions.reopen(session, claim_id, reason=reason, actor=user_actor(name))
    notify.deliver(session)
    console.print(f"Claim {claim_id} re-opened.")


@review_app.command("list")
def review_list(
    status: Annotated[str | None, typer.Option(help="a task state, open (default) or all")] = None,
    source: Annotated[str | None, typer.Option(help="site or discovery adapter")] = None,
    claimant: Annotated[str | None, typer.Option(help="claimant (any case)")] = None,
    tag: Annotated[str | None, typer.Option(help="tag")] = None,
    holder: Annotated[str | None, typer.Option(help="leased by this reviewer")] = None,
    limit: Annotated[int, typer.Option(help="rows")] = 50,
    offset: Annotated[int, typer.Option(help="rows to skip")] = 0,
    json_out: JsonOption = False,
) -> None:
    """The queue: highest priority first, then oldest."""
    filters = queue.QueueFilter(
        status=status, source=source, claimant=claimant, tag=tag, holder=holder
    )
    with session_scope(open_db()) as session:
        items = queue.list_queue(session, filters, limit=limit, offset=offset)
    if json_out:
        print_json([item.model_dump(mode="json") for item in items])
        return
    for item in items:
        held = f" [{item.lease_holder}]" if item.lease_holder else ""
        console.print(
            f"{item.claim_id}\t{item.state}{held}\tp{item.priority}\t"
            f"{item.evidence_count} ev\t{_snippet(item.text)}"
        )
    if not items:
        err_console.print("No claims match.")


@review_app.command("stats")
def review_stats(json_out: JsonOption = False) -> None:
    """Queue size per state, the oldest item, verdicts per day, reviewer agreement."""
    with session_scope(open_db()) as session:
        stats = queue.queue_stats(session)
    if json_out:
        print_json(stats.model_dump(mode="json"))
        return
    console.print("  ".join(f"{state}: {n}" for state, n in stats.counts.items()))
    oldest = stats.oldest_age_seconds
    console.print(
        f"queue size {stats.queue_size}; oldest "
        f"{'-' if oldest is None else f'{oldest / 3600:.1f} h'}"
    )
    console.print("published per day: " + " ".join(str(d.count) for d in stats.verdicts_per_day))
    for row in stats.agreement:
        console.print(f"{row.reviewer}: agreed {row.agreed}/{row.compared} ({row.rate:.0%})")


def _read_password() -> str:
    """A password: asked twice, hidden, at a terminal; else the first line of stdin."""
    if sys.stdin.isatty():
        password = _prompt_password(optional=False)
        if password:
            return password
        raise BadInput("No password given.")
    line = sys.stdin.readline()
    if not line.strip():
        raise BadInput("No password on standard input.")
    return line.rstrip("\r\n")


def _prompt_password(*, optional: bool) -> str | None:
    hint = " (press Enter twice for none: API token only)" if optional else ""
    answer: str = typer.prompt(
        f"Password{hint}",
        hide_input=True,
        confirmation_prompt=True,
        default="" if optional else None,
        show_default=False,
        err=True,
    )
    return answer or None


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option(help="reviewer, editor, auditor or admin")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read a password from stdin")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Add a user and print their API token (shown this once only).

    The password comes from stdin with ``--password-stdin``; at a terminal it is asked for
    (hidden, twice); otherwise the user signs in with the API token only.
    """
    password: str | None
    if password_stdin:
        password = _read_password()
    else:
        password = _prompt_password(optional=True) if sys.stdin.isatty() else None
    with session_scope(open_db()) as session:
        user, token = users.add_user(
            session, name, role=role, password=password, actor=_admin_actor()
        )
        user_id = user.id
    if json_out:
        print_json({"id": user_id, "name": name, "role": role, "token": token})
        return
    err_console.print(f"User {name} ({role}) added. API token (shown once):")
    console.print(token)


@user_app.command("role")
def user_role(name: str, role: str) -> None:
    """Change a user's role."""
    with session_scope(open_db()) as session:
        users.set_role(session, name, role=role, actor=_admin_actor())
    console.print(f"User {name} is now {role}.")


@user_app.command("password")
def user_password(name: str) -> None:
    """Set a user's password (asked at a terminal, else read from stdin); this ends every
    web session of theirs."""
    password = _read_password()
    with session_scope(open_db()) as session:
        users.set_password(session, name, password=password, actor=_admin_actor())
    console.print(f"Password of {name} changed; their web sessions have ended.")


@user_app.command("deactivate")
def user_deactivate(name: str) -> None:
    """Deactivate a user: their password and API token stop working, their sessions end."""
    with session_scope(open_db()) as session:
        users.set_active(session, name, active=False, actor=_admin_actor())
    console.print(f"User {name} is deactivated; their web sessions have ended.")


@user_app.command("activate")
def user_activate(name: str) -> None:
    """Activate a deactivated user again."""
    with session_scope(open_db()) as session:
        users.set_active(session, name, active=True, actor=_admin_actor())
    console.print(f"User {name} is active.")


@user_app.command("sessions")
def user_sessions(
    name: str,
    all_: Annotated[bool, typer.Option("--all", help="ended sessions too")] = False,
    json_out: JsonOption = False,
) -> None:
    """A user's web sessions: live ones (or all with --all), newest first."""
    with session_scope(open_db()) as session:
        user = users.get_user(session, name)
        rows = sessions.list_sessions(
            session,
            user_id=user.id,
            include_ended=all_,
            idle=timedelta(seconds=SESSION_IDLE_S),
        )
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    for r in rows:
        state = "live" if r.live else f"ended ({r.revoked_reason or 'expired'})"
        console.print(
            f"{r.id}\t{state}\tsigned in {r.created_at:%Y-%m-%d %H:%M}\t"
            f"last seen {r.last_seen_at:%Y-%m-%d %H:%M}\t{r.address or '?'}\t{r.user_agent or ''}"
        )
    if not rows:
        err_console.print(f"{name} has no {'' if all_ else 'live '}sessions.")


@user_app.command("revoke-sessions")
def user_revoke_sessions(name: str) -> None:
    """End every web session of a user at once (they must sign in again)."""
    with session_scope(open_db()) as session:
        user = users.get_user(session, name)
        assert user.id is not None
        ended = sessions.end_user_sessions(
            session, user.id, reason="revoked by an admin", actor=_admin_actor()
        )
    console.print(f"{ended} session(s) of {name} ended.")


@user_app.command("list")
def user_list(json_out: JsonOption = False) -> None:
    """Users and their roles."""

    with session_scope(open_db()) as session:
        rows = [
            UserPublic.model_validate(u, from_attributes=True) for u in users.list_users(session)
        ]
    if json_out:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    for row in rows:
        state = "" if row.active else "\t(inactive)"
        console.print(f"{row.name}\t{row.role}{state}")


def _admin_actor() -> str:
    """User administration from the shell is the operator's act (shell access is the check)."""
    return cli_actor()


@export_app.command("claimreview")
def export_claimreview(claim_id: int) -> None:
    """Print schema.org ClaimReview JSON-LD of the claim's published verdict."""
    with session_scope(open_db()) as session:
        document: dict[str, Any] = claimreview.claimreview_jsonld(session, claim_id)
    print_json(document)


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (setting: host)")] = None,
    port: Annotated[int | None, typer.Option(help="port (setting: port)")] = None,
) -> None:
    """Run the reviewer and auditor web app."""

    settings = get_settings()
    open_db()
    uvicorn.run(
        "verdicts.web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
    )


def register(app: typer.Typer) -> None:
    """Add the review-side commands to ``app``."""
    app.add_typer(review_app, name="review")
    app.add_typer(user_app, name="user")
    app.add_typer(export_app, name="export")
    app.command("serve")(serve)
