"""`factcheck verify`, `verify-batch`, `reverify`, `schedule`: the commands that run flows.

Prefect is imported inside each command (it costs ~2 s), never at module import.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evidence import claims
from evidence.db import session_scope
from evidence.errors import BadInput, ImportRowError
from flows.cli.engine import start_engine
from flows.cli.evidence import evidence_json, print_evidence
from flows.cli.support import cli_actor, console, err_console, open_db, print_json
from flows.steps import VerifyConfig, claim_evidence_report, require_sources
from sources.discovery import parse_source
from verdicts import search

SourceOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        help="a discovery source KIND=URL (mediawiki, rss, sitemap, gdelt, "
        "factcheck-api, url, dir, origin); repeatable",
    ),
]


def _config(sources: list[str] | None, force: bool = False) -> Any:
    for spec in sources or []:
        parse_source(spec)  # bad input is refused before anything is written
    return VerifyConfig(sources=list(sources or []), force=force)


def verify(
    text: Annotated[str | None, typer.Argument(help="the claim text")] = None,
    claim_id: Annotated[
        int | None, typer.Option("--claim-id", help="verify a stored claim")
    ] = None,
    url: Annotated[str | None, typer.Option(help="origin URL of the claim")] = None,
    claimant: Annotated[str | None, typer.Option()] = None,
    date: Annotated[str | None, typer.Option()] = None,
    source: SourceOpt = None,
    force: Annotated[bool, typer.Option(help="verify again though already verified")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify one claim (text or --claim-id) and print its top evidence."""
    if (text is None) == (claim_id is None):
        raise BadInput("Give the claim text or --claim-id, not both and not neither.")
    config = _config(source, force)
    engine = open_db()
    data = None
    if text is not None:  # bad input is refused before anything is written
        data = claims.make_create(text=text, url=url, claimant=claimant, claim_date=date)
    elif claim_id is not None:
        with session_scope(engine) as session:
            claims.get_claim(session, claim_id)
    require_sources(config)  # a search of nothing would queue it with "no evidence found"
    if data is not None:
        with session_scope(engine) as session:
            claim_id = claims.add_claim(session, data, actor=cli_actor()).claim.id
    assert claim_id is not None

    start_engine(err_console)
    from flows.verify import verify_claim  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

    outcome = asyncio.run(verify_claim(claim_id, config))
    evidence, suggestion = claim_evidence_report(claim_id)
    if json_out:
        print_json(
            {
                "claim_id": claim_id,
                "status": outcome.status,
                "skipped": outcome.error,
                "candidates": outcome.candidates,
                "fetched": outcome.fetched,
                "failed_fetches": outcome.failed_fetches,
                "fact_checks": outcome.fact_checks,
                "adapter_failures": outcome.adapter_failures,
                **evidence_json(evidence, suggestion),
            }
        )
        return
    if outcome.status == "skipped":
        err_console.print(f"Claim {claim_id} not verified again: {outcome.error} (use --force).")
    console.print(
        f"Claim {claim_id}: {outcome.status}; {outcome.candidates} candidates, "
        f"{outcome.fetched} pages fetched, {outcome.failed_fetches} failed."
    )
    for failure in outcome.adapter_failures:
        err_console.print(f"Source {failure['source']} failed: {failure['message']}")
    for fc in outcome.fact_checks:
        console.print(
            f"  existing fact-check: {fc.get('publisher')} rated it "
            f"{fc.get('rating')!r} <{fc['url']}>"
        )
    print_evidence(console, evidence, suggestion)


def _read_batch(path: Path) -> tuple[list[tuple[int, Any]], list[dict[str, Any]]]:
    """Good rows and bad rows (line, reason): a bad row fails alone, not the batch."""
    good: list[tuple[int, Any]] = []
    bad: list[dict[str, Any]] = []
    try:
        raw_lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"Cannot read {path}: {exc}.") from exc
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO("\n".join(raw_lines)))
        rows = [(reader.line_num, row) for row in reader]
    else:
        rows = []
        for number, line in enumerate(raw_lines, start=1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                bad.append({"line": number, "error": f"not valid JSON ({exc.msg})"})
    for number, row in rows:
        try:
            if not isinstance(row, dict):
                raise BadInput("a row must be a JSON object")
            good.append(
                (
                    number,
                    claims._row_to_create({k: v for k, v in row.items() if v not in (None, "")}),
                )
            )
        except BadInput as exc:
            bad.append({"line": number, "error": str(ImportRowError(number, str(exc).rstrip(".")))})
    return good, sorted(bad, key=lambda row: row["line"])


def _stored_ids(status: str | None, tag: str | None, claim_ids: str | None) -> list[int]:
    """The stored claims a batch without a file verifies: by status and tag, or by id."""
    engine = open_db()
    with session_scope(engine) as session:
        if claim_ids is not None:
            try:
                wanted = [int(part) for part in claim_ids.split(",") if part.strip()]
            except ValueError:
                raise BadInput("--claim-ids takes claim ids separated by commas.") from None
            for claim_id in wanted:
                claims.get_claim(session, claim_id)  # an unknown id is refused, not skipped
            return wanted
        return search.claim_ids(session, search.ClaimFilter(status=status, tag=tag))


def verify_batch(
    file: Annotated[Path | None, typer.Argument(help="a JSONL or CSV file of claims")] = None,
    source: SourceOpt = None,
    concurrency: Annotated[int, typer.Option(help="claims verified at once")] = 4,
    force: bool = False,
    status: Annotated[
        str | None, typer.Option(help="verify the stored claims in this status, e.g. new")
    ] = None,
    tag: Annotated[
        str | None,
        typer.Option(help="verify the stored claims with this tag, e.g. verify-requested"),
    ] = None,
    claim_ids: Annotated[
        str | None, typer.Option("--claim-ids", help="verify these stored claims: 3,5,8")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify every claim of a JSONL or CSV file, or stored claims chosen by --status, --tag
    or --claim-ids (progress bar); failures never stop it."""
    stored = status is not None or tag is not None or claim_ids is not None
    if (file is None) != stored:
        raise BadInput("Give a file of claims or --status/--tag/--claim-ids, not both.")
    if claim_ids is not None and (status is not None or tag is not None):
        raise BadInput("Give --claim-ids or --status/--tag, not both.")
    config = _config(source, force)
    require_sources(config)
    bad: list[dict[str, Any]] = []
    if file is None:
        ids = list(dict.fromkeys(_stored_ids(status, tag, claim_ids)))
        if not ids:
            console.print("No stored claim matches: nothing to verify.")
            return
    else:
        rows, bad = _read_batch(file)
        if not rows and not bad:
            raise BadInput(f"{file} holds no claims.")
        engine = open_db()
        ids = []
        with session_scope(engine) as session:
            for _, data in rows:
                claim = claims.add_claim(session, data, actor=cli_actor()).claim
                assert claim.id is not None
                ids.append(claim.id)
        ids = list(dict.fromkeys(ids))

    start_engine(err_console)  # before the bar: it would sit at 0 while the engine starts
    from flows.verify import run_batch_with_progress  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

    with Progress(
        TextColumn("verifying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        disable=json_out or not sys.stderr.isatty(),
    ) as progress:
        bar = progress.add_task("", total=len(ids))

        def advance(outcome: Any) -> None:
            progress.update(
                bar, advance=1, description=f"claim {outcome.claim_id}: {outcome.status}"
            )

        summary = run_batch_with_progress(ids, config, on_result=advance, concurrency=concurrency)
    summary["bad_rows"] = bad
    summary["failed"] += len(bad)
    if json_out:
        print_json(summary)
    else:
        console.print(
            f"{summary['total'] + len(bad)} claims: {summary['queued']} verified and "
            f"queued, {summary['skipped']} skipped (already done), "
            f"{summary['failed']} failed."
        )
        for failure in summary["failures"]:
            console.print(f"  claim {failure['claim_id']} failed: {failure['error']}")
        for row in bad:
            console.print(f"  {row['error']}")
    if summary["failed"]:
        raise typer.Exit(1)


def reverify_now(
    source: SourceOpt = None,
    limit: Annotated[int | None, typer.Option(help="at most this many claims")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run the nightly re-verification now, in this process."""
    config = _config(source)
    require_sources(config)
    open_db()
    start_engine(err_console)
    from flows.nightly import nightly_reverify  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

    summary = asyncio.run(nightly_reverify(config, limit))
    if json_out:
        print_json(summary)
        return
    console.print(
        f"{summary['claims']} claims re-verified; re-opened: "
        f"{summary['reopened'] or 'none'}; failed: {len(summary['failed'])}."
    )
    for row in summary["rows"]:
        console.print(
            f"  claim {row['claim']}: {row['changes']}"
            + (" (re-opened)" if row["re-opened"] else "")
        )


def schedule(
    start_server: Annotated[
        bool, typer.Option(help="start a local Prefect server when PREFECT_API_URL is not set")
    ] = True,
) -> None:
    """Serve the nightly deployment (cron and time zone from the settings)."""
    require_sources(VerifyConfig())  # each night would be refused: say so now
    from flows.deploy import serve_nightly  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

    open_db()
    serve_nightly(start_server_if_needed=start_server)


def deploy(pool: Annotated[str, typer.Option(help="the process work pool")] = "factcheck") -> None:
    """Register verify-claim, verify-batch and nightly-reverify with a work pool."""
    from flows.deploy import deploy_to_pool  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

    for name in deploy_to_pool(pool):
        console.print(f"Deployed {name} to work pool {pool}.")


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.command("verify-batch")(verify_batch)
    app.command("reverify")(reverify_now)
    app.command("schedule")(schedule)
    app.command("deploy")(deploy)
