"""`factcheck audit show / export / check-bundle`: thin shells over flows.bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session

from evidence.audit import TimelineEntry, claim_timeline
from evidence.audit.check import Anchor, adopt_rows, verify_audit
from evidence.settings import get_settings
from flows.bundle import check_bundle, export_bundle
from flows.cli.support import cli_actor, console, err_console, open_db, print_json

_SHORT_HASH = 12


def _short(digest: str | None) -> str:
    return digest[:_SHORT_HASH] if digest else "-"


def _page(fetch: dict[str, Any]) -> str:
    where = f"{fetch['warc_file']}@{fetch['warc_offset']}" if fetch.get("warc_file") else "none"
    return (
        f"fetch {fetch['fetch_id']} of {fetch['url']} at {fetch['fetched_at']} "
        f"(HTTP {fetch['status_code']}, sha256 {_short(fetch['sha256'])}, WARC {where})"
    )


def describe(entry: TimelineEntry) -> list[str]:
    """One line for the event, then one per page it is about or cites."""
    ev = entry.event
    keys = ("rating", "old", "new", "status", "holder", "reason", "passages", "priority")
    detail = ", ".join(f"{k}={ev.payload[k]}" for k in keys if ev.payload.get(k) is not None)
    lines = [f"{ev.seq:>8}  {entry.as_json()['at']}  {ev.actor}  {ev.action}  {detail}".rstrip()]
    if entry.fetch is not None:
        lines.append(f"          about {_page(entry.fetch)}")
    lines += [f"          cites {c['kind']} {c['id']}: {_page(c)}" for c in entry.cites]
    return lines


def audit_show(claim_id: int, json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A claim's timeline: who did what, when, citing which fetch of which page."""
    with Session(open_db()) as session:
        entries = claim_timeline(session, claim_id)
    if json_out:
        print_json({"claim_id": claim_id, "events": [e.as_json() for e in entries]})
        return
    console.print(f"Claim {claim_id}: {len(entries)} audit events")
    for entry in entries:
        for line in describe(entry):
            console.print(line, markup=False)


def audit_export(
    claim_id: int,
    out: Annotated[Path, typer.Option("--out", help="directory to create (must be empty)")],
    segment: Annotated[
        bool,
        typer.Option(help="include the chain segment linking the claim's events (chain.jsonl)"),
    ] = True,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Write a self-contained evidence bundle of the claim (check it with `check-bundle`)."""
    result = export_bundle(
        open_db(),
        claim_id,
        out,
        warc_dir=get_settings().warc_dir,
        actor=cli_actor(),
        segment=segment,
    )
    if json_out:
        print_json(
            {
                "out": str(result.out),
                "files": result.files,
                "manifest_sha256": result.manifest_sha256,
                "events": result.events,
                "pages": result.fetches,
            }
        )
        return
    console.print(
        f"Bundle of claim {claim_id} written to {result.out}: {result.events} events, "
        f"{result.fetches} archived pages, {len(result.files)} files."
    )
    console.print(f"manifest.json SHA-256 {result.manifest_sha256} (keep it to prove the bundle)")


def audit_check_bundle(
    directory: Path,
    expect: Annotated[
        str | None,
        typer.Option(help="the manifest SHA-256 printed at export; fails if it differs"),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify a bundle offline, without the database; exit 1 naming the first mismatch."""
    report = check_bundle(directory, expect=expect)
    if json_out:
        print_json(
            {
                "ok": report.ok,
                "manifest_sha256": report.manifest_sha256,
                "expected": expect,
                "events": report.events,
                "segment_events": report.segment_events,
                "reduced_events": report.reduced_events,
                "withheld_events": report.withheld_events,
                "rederived": report.rederived,
                "pages": report.pages,
                "passages": report.passages,
                "problems": [str(p) for p in report.problems],
            }
        )
    elif report.ok:
        proof = (
            "matches the expected digest"
            if expect
            else "compare it with the digest printed at export, or pass --expect"
        )
        withheld = (
            f", {report.withheld_events} older events only linked" if report.withheld_events else ""
        )
        console.print(
            f"Bundle intact: {report.events} events ({report.segment_events} in the chain "
            f"segment, {report.reduced_events} of them other claims' reduced to digests"
            f"{withheld}), {report.rederived} rows re-derived from the events, "
            f"{report.pages} archived pages, {report.passages} passages replayed. "
            f"manifest.json SHA-256 {report.manifest_sha256} ({proof}).",
            markup=False,
        )
    else:
        more = len(report.problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        err_console.print(f"Bundle check failed: {report.problems[0]}{tail}.", markup=False)
    if not report.ok:
        raise typer.Exit(1)


# -- audit verify ----------------------------------------------------------------------------

_HEADLINES = {
    "chain": "Audit chain broken at event {seq}: {reason}.",
    "archive": "Archived page altered at event {seq}: {reason}.",
    "anchor": "Audit anchor not matched at event {seq}: {reason}.",
    "row": "Table row does not match the audit trail: {reason}.",
    "unvouched": "Table row not vouched for: {reason}.",
}


def audit_verify(
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH of an event noted earlier; fails if it changed or is gone"),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recompute the audit hash chain and every archived page digest; exit 1 naming the first
    event that does not match."""
    expected = Anchor.parse(anchor) if anchor else None
    report = verify_audit(open_db(), warc_dir=get_settings().warc_dir, anchor=expected)
    if json_out:
        print_json(
            {
                "ok": report.ok,
                "events": report.events,
                "payloads": report.payloads,
                "head_seq": report.events if report.ok and report.events else None,
                "head_hash": report.head_hash,
                "first_bad_seq": report.first_bad_seq,
                "kind": report.kind,
                "reason": report.reason,
                "rows": report.rows,
                "row_problems": report.row_problems,
                "unvouched": report.unvouched,
            }
        )
    elif report.ok:
        head = f"; head {report.events}:{report.head_hash}" if report.head_hash else ""
        console.print(
            f"Audit chain intact: {report.events} events verified, "
            f"{report.payloads} archived pages match their digests, "
            f"{report.rows} table rows match their latest events{head}.",
            markup=False,
        )
    else:
        headline = _HEADLINES[report.kind or "chain"]
        err_console.print(
            headline.format(seq=report.first_bad_seq, reason=report.reason), markup=False
        )
    if not report.ok:
        raise typer.Exit(1)


def audit_adopt(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Vouch once for table rows no audit event records (data older than row vouching).
    Refused while the chain, an archived page or a recorded row does not check out."""
    adopted = adopt_rows(open_db(), warc_dir=get_settings().warc_dir, actor=cli_actor())
    if json_out:
        print_json({"adopted": adopted})
        return
    console.print(f"{adopted} rows adopted; `factcheck audit verify` now holds them to the chain.")


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command group to ``app``."""
    audit_app = typer.Typer(
        help="Audit trail: verify the chain, show timelines, export bundles.",
        no_args_is_help=True,
    )
    app.add_typer(audit_app, name="audit")
    audit_app.command("verify")(audit_verify)
    audit_app.command("show")(audit_show)
    audit_app.command("export")(audit_export)
    audit_app.command("check-bundle")(audit_check_bundle)
    audit_app.command("adopt")(audit_adopt)
