"""`nightly-reverify`: re-fetch, detect drift, discover anew, re-open on material change.

One task per claim (each fans out over its pages inside); one table artifact for the night.
Schedules are attached at deployment (`flows.deploy`), never here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import reverify
from flows.steps import VerifyConfig, require_sources
from flows.verify import _actor, _no_retry_on_bad_input, _sentence, fetcher_scope


@task(
    name="reverify-claim",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=10,
    retry_condition_fn=_no_retry_on_bad_input,
)
async def reverify_task(claim_id: int, config: VerifyConfig) -> reverify.DriftReport:
    async with fetcher_scope() as fetcher:
        return await reverify.reverify_claim(claim_id, fetcher, actor=_actor(), config=config)


@flow(name="nightly-reverify")
async def nightly_reverify(
    config: VerifyConfig | None = None, limit: int | None = None, concurrency: int = 4
) -> dict[str, Any]:
    """Re-verify every claim a reviewer has or will see; summarise the night in a table.

    Without a configured source the night is refused (BadInput, one line saying how to
    configure one) before any claim is touched: a search of nothing would record "Searched
    0 sources" over each claim's last search window, and drift alone is no reason to run
    with a broken configuration (a scheduled run then fails loudly in the Prefect UI).
    """
    config = config or VerifyConfig()
    require_sources(config)
    claim_ids = reverify.claims_to_reverify(limit)
    gate = asyncio.Semaphore(max(1, concurrency))
    reports: list[reverify.DriftReport] = []

    async def one(claim_id: int) -> None:
        async with gate:
            try:
                reports.append(await reverify_task(claim_id, config))
            except Exception as exc:  # noqa: BLE001 - one claim never stops the night
                reports.append(reverify.DriftReport(claim_id, error=_sentence(exc)))

    async with fetcher_scope():
        await asyncio.gather(*(one(c) for c in claim_ids))
    reports.sort(key=lambda r: r.claim_id)
    rows = [night_row(r) for r in reports]
    await acreate_table_artifact(
        key="nightly-reverify",
        table=rows or [{"claim": "none"}],
        description=f"{len(reports)} claims re-verified",
    )
    reopened = [r.claim_id for r in reports if r.reopened]
    failed = [{"claim_id": r.claim_id, "error": r.error} for r in reports if r.error]
    summary: dict[str, Any] = {
        "claims": len(reports),
        "reopened": reopened,
        "material": [r.claim_id for r in reports if r.material],
        "failed": failed,
        "rows": rows,
    }
    get_run_logger().info(
        "nightly: %s claims, %s re-opened, %s failed",
        len(reports),
        len(reopened),
        len(failed),
    )
    return summary


def night_row(report: reverify.DriftReport) -> dict[str, Any]:
    kinds = sorted({c["kind"] for c in report.changes})
    return {
        "claim": report.claim_id,
        "pages checked": report.checked_pages,
        "unchanged (304)": report.unchanged,
        "changes": ", ".join(kinds) or "none",
        "material": report.material,
        "re-opened": report.reopened,
        "error": report.error or "",
    }
