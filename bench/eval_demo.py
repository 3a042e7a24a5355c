"""The suggested verdict on the demo corpus: seven claims nobody trained or tuned on.

The demo corpus (demo/corpus, eight outlets on 127.0.0.2-9) tags each claim with the rating
a fact-checker gives it (``expected:true`` / ``expected:false``). This runs the flow's step
sequence on each claim, as `make demo` does, and prints the suggested rating beside the
expected one, with the share that agree: a held-out check of the stance model and the
suggester, whose weights were learned on bench/data/evidence_set.jsonl only.

    python -m bench.eval_demo
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench.eval_e2e import _environment
from demo.server import CorpusServer
from evidence import claims as claims_mod
from evidence.db import get_engine, session_scope, upgrade
from flows.steps import VerifyConfig
from flows.verify import fetcher_scope, verify_one

ACTOR = "bench:eval-demo"


def _expected(tags: list[str]) -> str | None:
    return next((t.split(":", 1)[1] for t in tags if t.startswith("expected:")), None)


async def _run(rows: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    out = []
    async with fetcher_scope():
        for row in rows:
            data = claims_mod.make_create(
                text=row["text"],
                url=row.get("url"),
                claimant=row.get("claimant"),
                claim_date=row.get("date"),
            )
            with session_scope(get_engine()) as session:
                claim_id = claims_mod.add_claim(session, data, actor=ACTOR).claim.id
            assert claim_id is not None
            await verify_one(claim_id, VerifyConfig())
            with session_scope(get_engine()) as session:
                suggestion = claims_mod.latest_suggestion(session, claim_id) or {}
            out.append((row["text"], _expected(row.get("tags", [])), suggestion.get("rating")))
    return out


def demo_figures() -> dict[str, Any]:
    with CorpusServer() as server, tempfile.TemporaryDirectory(prefix="factcheck-demo-") as tmp:
        env = {
            **server.environment(),
            "FACTCHECK_DATA_DIR": tmp,
            "FACTCHECK_DATABASE_URL": f"sqlite:///{Path(tmp) / 'factcheck.db'}",
            "FACTCHECK_CONFIG": str(Path(tmp) / "no-such-factcheck.toml"),
            "FACTCHECK_PER_HOST_DELAY_S": "0",
        }
        with _environment(env):
            upgrade(get_engine())
            results = asyncio.run(_run(server.claims()))
    agreed = sum(expected == got for _, expected, got in results)
    return {
        "claims": len(results),
        "agreement": round(agreed / max(len(results), 1), 3),
        "results": results,
    }


def main() -> int:
    figures = demo_figures()
    print("Suggested verdict on the demo corpus (held out: never trained or tuned on)")
    for text, expected, got in figures["results"]:
        mark = "ok " if expected == got else "off"
        print(f"  {mark} expected {expected or '?':<6} suggested {got or '-':<13} {text[:70]}")
    print(f"agreement {figures['agreement']} on {figures['claims']} claims")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
