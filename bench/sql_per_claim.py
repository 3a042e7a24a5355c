"""SQL statements and transactions per claim of the verify step sequence.

    python -m bench.sql_per_claim [--limit N] [--json]

Serves the evidence corpus as ``bench.eval_e2e`` does, points a fresh SQLite database at it
and runs the first N claims of ``bench/data/evidence_set.jsonl`` through
``flows.verify.verify_one`` without Prefect, counting with ``bench.sqlcount.SqlCounter``
what each claim sends (adding the claim is not counted). Prints one line per claim and the
mean.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from bench.eval_e2e import _add, _environment, settings_for
from bench.sqlcount import SqlCounter
from demo.evidence_corpus import evidence_corpus, load_evidence_set
from demo.server import CorpusServer
from evidence.db import get_engine, upgrade
from flows.steps import VerifyConfig
from flows.verify import fetcher_scope, verify_one

FIGURES = ("statements", "write_transactions", "read_transactions", "savepoints")


async def _count_all(limit: int) -> list[dict[str, Any]]:
    everything = load_evidence_set()
    rows: list[dict[str, Any]] = []
    with SqlCounter(get_engine()) as counter:
        async with fetcher_scope():
            for claim in everything[:limit]:
                claim_id = await asyncio.to_thread(_add, claim)
                counter.reset()
                await verify_one(claim_id, VerifyConfig())
                rows.append({"claim": claim.id, **counter.reset().as_dict()})
    return rows


def count_claims(limit: int = 5) -> list[dict[str, Any]]:
    """Per-claim SQL counts of the first ``limit`` claims, against the whole served corpus."""
    everything = load_evidence_set()
    corpus = evidence_corpus(everything)
    with (
        CorpusServer(corpus.corpus) as server,
        tempfile.TemporaryDirectory(prefix="factcheck-sql-") as tmp,
        _environment(settings_for(server, Path(tmp), "issue")),
    ):
        upgrade(get_engine())
        return asyncio.run(_count_all(limit))


def mean(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {k: round(sum(r[k] for r in rows) / max(1, len(rows)), 1) for k in FIGURES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = count_claims(args.limit)
    if args.json:
        print(json.dumps({"claims": rows, "mean": mean(rows)}, indent=2))
        return 0
    for row in rows:
        print(f"{row['claim']:<12}" + "  ".join(f"{k}={row[k]}" for k in FIGURES), row["inserts"])
    print(f"{'mean':<12}" + "  ".join(f"{k}={v}" for k, v in mean(rows).items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
