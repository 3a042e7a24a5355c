"""`make demo`: the main job, offline, on the embedded defaults.

Serves the demo corpus (eight fictional outlets on 127.0.0.2-9 writing about the March 2018
North Korea talks offer), points discovery at their feeds, sitemaps and wiki API, verifies
the corpus's claims through the `verify-batch` flow in Prefect's local mode, and prints the
review queue with each claim's suggested verdict, the most surely refuted claim with its
refuting evidence first, and how to open the web app on this data as a demo reviewer or
editor (their random passwords are printed). The demo database lives in ``data/demo``
(``FACTCHECK_DATA_DIR`` overrides) and starts empty on every run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from rich.markup import escape
from sqlmodel import Session, select

from demo.server import CorpusServer
from evidence import claims
from evidence.db import get_engine, session_scope
from evidence.models import FactCheck
from flows.cli import main as cli
from flows.cli.support import console
from verdicts.queue import list_queue
from verdicts.users import add_user


def _prepare(data_dir: Path, environment: dict[str, str]) -> None:
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ.update(environment)
    os.environ["FACTCHECK_DATA_DIR"] = str(data_dir)
    os.environ.pop("FACTCHECK_DATABASE_URL", None)
    os.environ.setdefault("FACTCHECK_PER_HOST_DELAY_S", "0.1")
    os.environ.setdefault("PREFECT_HOME", str(data_dir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


DEMO_USERS = (("demo-reviewer", "reviewer"), ("demo-editor", "editor"))


def main() -> int:
    data_dir = Path(os.environ.get("FACTCHECK_DATA_DIR", "data/demo")).resolve()
    with CorpusServer() as corpus:
        _prepare(data_dir, corpus.environment())

        console.rule("factcheck demo: verifying the corpus's claims (offline)")
        for site in corpus.corpus.sites:
            console.print(f"  {site.key:<11} {corpus.base_url(site.key)}")
        claims_file = corpus.write_claims(data_dir / "claims.jsonl")
        started = time.perf_counter()
        for args in (["db", "upgrade"], ["verify-batch", str(claims_file)]):
            code = cli(args)
            if code:
                return code
        console.print(f"Verified in {time.perf_counter() - started:.1f} s.")
        print_queue()
        print_refuted()
        console.rule("audit")
        code = cli(["audit", "verify"])
        passwords = add_demo_users()
    print_next_steps(data_dir, passwords)
    return code


def print_queue() -> None:
    """The review queue, highest priority first, each claim with its suggested verdict."""
    console.rule("review queue")
    with Session(get_engine()) as session:
        for item in list_queue(session, limit=50):
            console.print(
                f"[bold]claim {item.claim_id}[/bold] (priority {item.priority}) "
                f"{escape(item.claimant or 'unknown')}: {escape(item.text)}",
                markup=True,
            )
            suggestion = claims.latest_suggestion(session, item.claim_id) or {}
            if suggestion:
                console.print(
                    f"   suggested: {suggestion.get('rating')} "
                    f"(confidence {float(suggestion.get('confidence') or 0):.2f})"
                )
            for fc in session.exec(_fact_checks(item.claim_id)).all():
                console.print(
                    f"   existing fact-check: {fc.publisher} rated it {fc.rating!r} <{fc.url}>",
                    markup=False,
                )


def print_refuted() -> None:
    """The claim the evidence refutes most surely, as `factcheck claim show` prints it:
    the suggested verdict, then the refuting evidence first."""
    with Session(get_engine()) as session:
        best: tuple[float, int] | None = None
        for item in list_queue(session, limit=50):
            evidence = claims.claim_evidence(session, item.claim_id)
            refuting = [ev for ev in evidence if ev.get("stance") == "refutes"]
            confidence = max((ev.get("stance_confidence") or 0 for ev in refuting), default=0)
            if refuting and (best is None or confidence > best[0]):
                best = (confidence, item.claim_id)
    if best is None:
        console.print("No claim was refuted by the corpus.")
        return
    console.rule(f"a refuted claim: factcheck claim show {best[1]}")
    cli(["claim", "show", str(best[1])])


def add_demo_users() -> dict[str, str]:
    """A reviewer and an editor for the web app, with fresh random passwords."""
    passwords = {}
    with session_scope(get_engine()) as session:
        for name, role in DEMO_USERS:
            passwords[name] = secrets.token_urlsafe(9)
            add_user(session, name, role=role, password=passwords[name], actor="demo")
    return passwords


def print_next_steps(data_dir: Path, passwords: dict[str, str]) -> None:
    """How a newcomer opens the web app on the demo data."""
    console.rule("next: the reviewer web app on the demo data")
    console.print(f"  FACTCHECK_DATA_DIR={data_dir} .venv/bin/factcheck serve")
    console.print("  then open http://127.0.0.1:8000 and sign in as")
    for name, role in DEMO_USERS:
        console.print(f"    {name:<14} ({role})  password {passwords[name]}")
    console.print(
        f"  or on the command line: FACTCHECK_DATA_DIR={data_dir} "
        ".venv/bin/factcheck review next --as demo-reviewer"
    )


def _fact_checks(claim_id: int) -> Any:
    return select(FactCheck).where(FactCheck.claim_id == claim_id)


if __name__ == "__main__":
    raise SystemExit(main())
