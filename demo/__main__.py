"""`make demo`: the main job, offline, on the embedded defaults.

Serves the demo corpus (eight fictional outlets on 127.0.0.2-9 writing about the March 2018
North Korea talks offer), points discovery at their feeds, sitemaps and wiki API, verifies
the corpus's claims through the `verify-batch` flow in Prefect's local mode, and prints the
review queue with each claim's top evidence. The demo database lives in ``data/demo``
(``FACTCHECK_DATA_DIR`` overrides) and starts empty on every run.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from rich.markup import escape
from sqlmodel import Session, select

from demo.server import CorpusServer
from evidence import claims
from evidence.db import get_engine
from evidence.models import FactCheck
from flows.cli import main as cli
from flows.cli.support import console
from verdicts.queue import list_queue


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
        console.rule("audit")
        return cli(["audit", "verify"])


def print_queue() -> None:
    """The review queue, highest priority first, each claim with its top evidence."""

    console.rule("review queue")
    with Session(get_engine()) as session:
        for item in list_queue(session, limit=50):
            console.print(
                f"[bold]claim {item.claim_id}[/bold] (priority {item.priority}) "
                f"{escape(item.claimant or 'unknown')}: {escape(item.text)}",
                markup=True,
            )
            for fc in session.exec(_fact_checks(item.claim_id)).all():
                console.print(
                    f"   existing fact-check: {fc.publisher} rated it {fc.rating!r} <{fc.url}>",
                    markup=False,
                )
            for ev in claims.claim_evidence(session, item.claim_id)[:3]:
                console.print(
                    f"   #{ev['rank']} {ev['score']:.2f} {ev['site']}: {ev['passage'][:150]}",
                    markup=False,
                )
    console.print(
        "Next: `factcheck serve` for the reviewer web app, or "
        "`factcheck review next --as NAME` on the command line."
    )


def _fact_checks(claim_id: int) -> Any:
    return select(FactCheck).where(FactCheck.claim_id == claim_id)


if __name__ == "__main__":
    raise SystemExit(main())
