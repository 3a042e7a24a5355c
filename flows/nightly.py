"""`nightly-reverify`: re-fetch, detect drift, discover anew, re-open on material change.

One task per chunk of ``FACTCHECK_BATCH_CHUNK`` claims (each claim fans out over its pages
inside); one table artifact for the night.
Schedules are attached at deployment (`flows.deploy`), never here.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NO_CACHE

from evidence.errors import BadInput
from evidence.settings import get_settings
from flows import reverify
from flows.steps import VerifyConfig, require_sources
from flows.verify import _actor, _sentence, chunk_results, chunks, fetcher_scope


@dataclass
class NightBook:
    """What the night's chunks have finished (shared by the flow and its chunk tasks): a
    retried chunk redoes only the claims that did not finish."""

    gate: asyncio.Semaphore  # claims in flight across all chunks
    done: dict[int, reverify.DriftReport] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)  # latest transient failure per claim


_night_book: contextvars.ContextVar[NightBook | None] = contextvars.ContextVar(
    "factcheck_night_book", default=None
)


@task(
    name="reverify-chunk",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=10,
)
async def reverify_chunk_task(
    claim_ids: list[int], config: VerifyConfig
) -> list[reverify.DriftReport]:
    """``FACTCHECK_BATCH_CHUNK`` claims per task (see flows/verify.py ``verify_chunk_task``):
    bad input fails a claim for good, any other failure retries the chunk once for the
    claims that did not finish."""
    book = _night_book.get() or NightBook(asyncio.Semaphore(4))

    async def one(claim_id: int) -> None:
        async with book.gate, fetcher_scope() as fetcher:
            try:
                report = await reverify.reverify_claim(
                    claim_id, fetcher, actor=_actor(), config=config
                )
            except BadInput as exc:
                report = reverify.DriftReport(claim_id, error=_sentence(exc))
            except Exception as exc:  # noqa: BLE001 - retried with the chunk, then reported
                book.errors[claim_id] = _sentence(exc)
                return
        book.done[claim_id] = report
        book.errors.pop(claim_id, None)

    await asyncio.gather(*(one(c) for c in claim_ids if c not in book.done))
    return chunk_results(claim_ids, book.done, book.errors)


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
    book = NightBook(asyncio.Semaphore(max(1, concurrency)))
    token = _night_book.set(book)

    async def run_chunk(chunk: list[int]) -> None:
        try:
            await reverify_chunk_task(chunk, config)
        except Exception as exc:  # noqa: BLE001 - one claim never stops the night
            for claim_id in chunk:
                if claim_id not in book.done:
                    error = book.errors.get(claim_id) or _sentence(exc)
                    book.done[claim_id] = reverify.DriftReport(claim_id, error=error)

    try:
        async with fetcher_scope():
            size = get_settings().batch_chunk
            await asyncio.gather(*(run_chunk(c) for c in chunks(claim_ids, size)))
    finally:
        _night_book.reset(token)
    reports = list(book.done.values())
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
