"""`factcheck db …`, `factcheck claim …`, `factcheck audit verify`: thin shells over evidence.*."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from evidence import claims
from evidence.db import current_revision, get_engine, session_scope, upgrade
from evidence.errors import BadInput
from evidence.models import CLAIM_STATUSES, ClaimPublic
from flows.cli.evidence import evidence_json, print_evidence
from flows.cli.support import cli_actor, console, err_console, open_db, print_json

db_app = typer.Typer(help="Create or migrate the database.", no_args_is_help=True)
claim_app = typer.Typer(help="Add, import, list and show claims.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the schema or migrate it to the newest revision."""
    engine = get_engine()
    before = current_revision(engine)
    after = upgrade(engine)
    if before == after:
        console.print(f"Database already at revision {after}.")
    else:
        console.print(f"Database migrated from {before or 'empty'} to revision {after}.")


@db_app.command("current")
def db_current() -> None:
    """Print the revision the database is at."""
    console.print(current_revision(get_engine()) or "empty (run `factcheck db upgrade`)")


@claim_app.command("add")
def claim_add(
    text: str,
    url: Annotated[str | None, typer.Option(help="origin URL of the claim")] = None,
    claimant: Annotated[str | None, typer.Option(help="who made the claim")] = None,
    date: Annotated[str | None, typer.Option(help="when it was made (YYYY-MM-DD)")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="a tag; repeatable")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a claim and print its id (an exact duplicate prints the known id)."""
    data = claims.make_create(text=text, url=url, claimant=claimant, claim_date=date, tags=tag)
    with session_scope(open_db()) as session:
        added = claims.add_claim(session, data, actor=cli_actor())
    if json_out:
        print_json({"id": added.claim.id, "created": added.created})
        return
    if not added.created:
        err_console.print(f"Already known as claim {added.claim.id}.")
    elif added.claim.duplicate_of_id is not None:
        err_console.print(
            f"Near-duplicate of claim {added.claim.duplicate_of_id} "
            f"(similarity {added.claim.similarity:.2f})."
        )
    console.print(str(added.claim.id))


@claim_app.command("import")
def claim_import(
    file: Path,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import claims from JSONL or CSV (text, url, claimant, date, tags); all or nothing."""
    with session_scope(open_db()) as session:
        results = claims.import_claims(session, file, actor=cli_actor())
    created = sum(r.created for r in results)
    if json_out:
        print_json(
            {
                "ids": [r.claim.id for r in results],
                "added": created,
                "known": len(results) - created,
            }
        )
        return
    console.print(
        f"Imported {len(results)} claims: {created} new, {len(results) - created} already known."
    )


@claim_app.command("list")
def claim_list(
    status: Annotated[str | None, typer.Option(help="only claims in this status")] = None,
    limit: int = 100,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List claims, newest first."""
    if status is not None and status not in CLAIM_STATUSES:
        raise BadInput(f"Unknown status {status!r}; use one of: {', '.join(CLAIM_STATUSES)}.")
    with session_scope(open_db()) as session:
        rows = claims.list_claims(session, status=status, limit=limit)
    if json_out:
        for row in rows:
            print_json(ClaimPublic.model_validate(row).model_dump(mode="json"))
        return

    table = Table("id", "status", "claim", "claimant", "date")
    for row in rows:
        table.add_row(
            str(row.id), row.status, row.text, row.claimant or "", str(row.claim_date or "")
        )
    console.print(table)


@claim_app.command("show")
def claim_show(claim_id: int, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A claim, its status and its evidence (url, title, passage, score)."""
    with session_scope(open_db()) as session:
        claim = claims.get_claim(session, claim_id)
        evidence = claims.claim_evidence(session, claim_id)
        original = claims.original_of(session, claim)
        window = claims.latest_search_window(session, claim_id)
        suggestion = claims.latest_suggestion(session, claim_id)
    public = ClaimPublic.model_validate(claim).model_dump(mode="json")
    if json_out:
        print_json(
            {
                **public,
                "duplicate_of": original,
                **evidence_json(evidence, suggestion),
                "search_window": window,
            }
        )
        return
    console.print(
        f"[bold]Claim {claim.id}[/bold] ({claim.status}): {escape(claim.text)}", markup=True
    )
    if claim.claimant or claim.claim_date:
        console.print(f"  by {claim.claimant or 'unknown'} on {claim.claim_date or 'unknown date'}")
    if claim.origin_url:
        console.print(f"  origin: {claim.origin_url}")
    if original is not None:
        verdict = f", verdict {original['verdict']}" if original["verdict"] else ""
        console.print(
            f"  near-duplicate of claim {original['id']} (similarity "
            f"{claim.similarity or 0:.2f}): {original['status']}{verdict}"
        )
    if window and window.get("note"):
        console.print(f"  searched: {window['note']}")
    print_evidence(console, evidence, suggestion, empty="no evidence yet")


def register(app: typer.Typer) -> None:
    """Add the ``db`` and ``claim`` command groups to ``app``."""
    app.add_typer(db_app, name="db")
    app.add_typer(claim_app, name="claim")
