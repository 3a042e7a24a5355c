"""Prefect flows: `verify-claim`, `verify-batch` and `nightly-reverify`.

Granularity (measured, see README "Task granularity"): `verify-claim` is one task; a batch
runs one task per chunk of ``FACTCHECK_BATCH_CHUNK`` claims (``verify_chunk_task``), each
claim the one step sequence (``verify_one``), never one task per URL or passage. The fetch
step fans out over its URLs with asyncio inside the task, through one shared AsyncFetcher
per flow run (per-host politeness holds across every claim of a batch).

Retries: a claim's task (a batch's chunk) retries once on an unexpected error, redoing only
the claims that did not finish (re-running one reuses what was already fetched); bad input
(``BadInput``) is never retried.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.exceptions import MissingContextError
from prefect.runtime import flow_run

from evidence.actors import flow_actor
from evidence.errors import BadInput, FactcheckError
from evidence.settings import get_settings
from flows import steps
from flows.steps import VerifyConfig, VerifyOutcome
from sources.fetch import AsyncFetcher

_shared_fetcher: contextvars.ContextVar[AsyncFetcher | None] = contextvars.ContextVar(
    "factcheck_fetcher", default=None
)


T = TypeVar("T")


def _actor() -> str:
    return flow_actor(flow_run.get_id())


def _no_retry_on_bad_input(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except BadInput:
        return False
    except Exception:  # noqa: BLE001 - any other failure may be transient
        return True
    return True


@asynccontextmanager
async def fetcher_scope() -> AsyncIterator[AsyncFetcher]:
    """The flow run's shared fetcher, or a private one for a task run on its own."""
    shared = _shared_fetcher.get()
    if shared is not None:
        yield shared
        return
    async with AsyncFetcher() as fetcher:
        token = _shared_fetcher.set(fetcher)
        try:
            yield fetcher
        finally:
            _shared_fetcher.reset(token)


async def _publish(outcome: VerifyOutcome) -> None:
    """A markdown artifact of the top evidence and the events automations react to."""

    await acreate_markdown_artifact(
        key=f"claim-{outcome.claim_id}",
        markdown=evidence_markdown(outcome),
        description=f"Top evidence for claim {outcome.claim_id}",
    )
    resource = {"prefect.resource.id": f"factcheck.claim.{outcome.claim_id}"}
    emit_event(
        "factcheck.claim.verified",
        resource=resource,
        payload={"run_id": outcome.run_id, "evidence": len(outcome.evidence)},
    )
    if outcome.status == "queued":
        emit_event("factcheck.claim.queued", resource=resource, payload={"run_id": outcome.run_id})


def evidence_markdown(outcome: VerifyOutcome) -> str:
    """The claim's artifact. Every fetched string (publisher, rating, site, URL, terms) is
    untrusted: it is escaped, and a URL becomes a link only when it is http(s)."""
    lines = [f"# Claim {outcome.claim_id}", ""]
    for fc in outcome.fact_checks:
        lines.append(
            f"- **Existing fact-check** ({_md(fc.get('publisher') or 'unknown')}): "
            f"{_md(fc.get('rating') or 'no rating')} — {_md_link(fc['url'], fc['url'])}"
        )
    if not outcome.evidence:
        lines.append("No evidence found.")
    for ev in outcome.evidence:
        lines.append(
            f"{ev['rank']}. {_md_link(ev.get('site') or ev['url'], ev['url'])} "
            f"score {ev['score']:.3f}, terms: {_md(', '.join(ev['matched_terms']))}"
        )
    if outcome.adapter_failures:
        lines += [
            "",
            "Sources that failed: "
            + "; ".join(f"{_md(f['source'])} ({_md(f['kind'])})" for f in outcome.adapter_failures),
        ]
    return "\n".join(lines)


_MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!<>|~&\"'=:")
# RFC 3986 characters that need no encoding, less the ones markdown reads: ( ) [ ] ' and *
_URL_SAFE = ":/?#@!$&+,;=%-._~"


def _md(text: object) -> str:
    """Fetched text as inert markdown: one line (a newline could open a heading or an HTML
    block), every punctuation mark markdown or HTML could act on backslash-escaped."""
    flat = " ".join(str(text).split())
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in flat)


def _md_link(text: object, url: str) -> str:
    """A link for an http(s) URL (percent-encoded so it cannot close the link), else the
    URL as escaped text: a ``javascript:`` or ``data:`` URL is never clickable."""
    try:
        parts = urlsplit(url.strip())
        linkable = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # "http://[::1" and the like
        linkable = False
    if not linkable:
        return _md(url)
    return f"[{_md(text)}]({quote(url.strip(), safe=_URL_SAFE)})"


async def verify_one(claim_id: int, config: VerifyConfig) -> VerifyOutcome:
    """The one step sequence for a claim: `verify-claim` and each claim of `verify-batch`
    run it (inside one task: a task per step would cost more than the steps, see
    PREFECT_NOTES.md). Failed sources are logged and reported on the outcome."""
    reason = steps.needs_verification(claim_id, force=config.force)
    if reason is not None:
        return VerifyOutcome(claim_id, None, "skipped", error=reason)
    actor = _actor()
    run_id = steps.start_run(claim_id, actor=actor, flow_run_id=str(flow_run.get_id() or ""))
    try:
        async with fetcher_scope() as fetcher:
            found = await steps.discover_for(claim_id, run_id, config, fetcher, actor=actor)
            _log_failures(found.failures)
            pages = await steps.fetch_candidates(
                found.candidates, fetcher, run_id=run_id, actor=actor
            )
            # round two ("follow the story"): what the best passages so far add to the claim
            top = await asyncio.to_thread(steps.preliminary_top, claim_id, run_id, pages)
            more = await steps.discover_followup(
                claim_id, run_id, config, fetcher, top, actor=actor
            )
            if more is not None:
                _log_failures(more.failures)
                pages = [
                    *pages,
                    *await steps.fetch_candidates(
                        more.candidates, fetcher, run_id=run_id, actor=actor
                    ),
                ]
        # evidence, suggestion, review task and the run's end: one transaction
        outcome = await asyncio.to_thread(
            steps.rank, claim_id, run_id, pages, actor=actor, then_route=True
        )
    except Exception as exc:
        steps.finish_run(run_id, status="failed", actor=actor, error=_sentence(exc))
        raise
    outcome.status = "queued"
    outcome.candidates = len(found.candidates) + (len(more.candidates) if more else 0)
    outcome.fetched = sum(p.ok for p in pages)
    outcome.failed_fetches = sum(not p.ok for p in pages)
    # a source that failed in both discovery rounds is reported once (the audit chain keeps
    # each failure)
    failures: dict[str, Any] = {}
    for failure in [*found.failures, *(more.failures if more else ())]:
        failures.setdefault(failure.source, failure)
    outcome.adapter_failures = [f.as_json() for f in failures.values()]
    return outcome


def _log_failures(failures: Sequence[Any]) -> None:
    try:
        logger: Any = get_run_logger()
    except MissingContextError:  # the sequence run as plain code (benchmarks, eval)
        logger = logging.getLogger(__name__)
    for failure in failures:
        logger.warning("source %s failed (%s): %s", failure.source, failure.kind, failure.message)


def _sentence(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, FactcheckError) else f"{type(exc).__name__}: {exc}"


@task(
    name="verify-one",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=5,
    retry_condition_fn=_no_retry_on_bad_input,
)
async def verify_one_task(claim_id: int, config: VerifyConfig) -> VerifyOutcome:
    return await verify_one(claim_id, config)


@flow(name="verify-claim", log_prints=False)
async def verify_claim(claim_id: int, config: VerifyConfig | None = None) -> VerifyOutcome:
    """Plan, discover, fetch, extract, rank, record and route one claim to review.

    The same step sequence as each claim of a batch (``verify_one``), so both report the
    same things (failed sources included); then the claim's artifact and events. With no
    source configured it refuses to run (BadInput) and writes nothing.
    """
    config = config or VerifyConfig()
    steps.require_sources(config)
    outcome = await verify_one_task(claim_id, config)
    if outcome.status == "skipped":
        get_run_logger().info("claim %s skipped: %s", claim_id, outcome.error)
        return outcome
    await _publish(outcome)
    return outcome


ProgressCallback = Callable[[VerifyOutcome], None]


@dataclass
class ChunkBook:
    """What a batch's chunks have finished, shared by the flow and its chunk tasks (same
    process, same event loop): a retried chunk skips the claims it already finished, and
    each claim is reported once, as it ends."""

    limit: asyncio.Semaphore  # claims in flight across all chunks
    notify: ProgressCallback | None = None
    done: dict[int, VerifyOutcome] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)  # latest transient failure per claim

    def finish(self, outcome: VerifyOutcome) -> None:
        self.done[outcome.claim_id] = outcome
        self.errors.pop(outcome.claim_id, None)
        if self.notify is not None:
            self.notify(outcome)


_chunk_book: contextvars.ContextVar[ChunkBook | None] = contextvars.ContextVar(
    "factcheck_chunk_book", default=None
)


class ChunkUnfinished(RuntimeError):
    """Some claims of a chunk failed with an error that may be transient: the chunk retries."""


def chunk_results(
    claim_ids: Sequence[int], done: Mapping[int, T], errors: Mapping[int, str]
) -> list[T]:
    """A chunk's results in claim order, or ChunkUnfinished naming each claim that failed
    (so Prefect retries the chunk, and the retry redoes only those)."""
    unfinished = [c for c in claim_ids if c not in done]
    if unfinished:
        raise ChunkUnfinished(
            f"{len(unfinished)} of {len(claim_ids)} claims failed: "
            + "; ".join(f"claim {c}: {errors.get(c, 'unknown error')}" for c in unfinished)
        )
    return [done[c] for c in claim_ids]


def chunks(claim_ids: Sequence[int], size: int) -> list[list[int]]:
    size = max(1, size)
    return [list(claim_ids[i : i + size]) for i in range(0, len(claim_ids), size)]


@task(
    name="verify-chunk",
    cache_policy=NO_CACHE,
    retries=1,
    retry_delay_seconds=5,
)
async def verify_chunk_task(claim_ids: list[int], config: VerifyConfig) -> list[VerifyOutcome]:
    """A chunk of a batch's claims in one task run (issue 15: one task per claim cost the
    Prefect server 40-60 ms CPU per claim, one per 20 claims 6-9 ms). Each claim is still
    its own ``verify_one``; a claim's failure never stops the others. Bad input fails its
    claim for good; any other failure makes the chunk raise once the rest is done, so Prefect
    retries it, and the retry redoes only the claims that did not finish."""
    book = _chunk_book.get() or ChunkBook(asyncio.Semaphore(4))

    async def one(claim_id: int) -> None:
        async with book.limit:
            try:
                outcome = await verify_one(claim_id, config)
            except BadInput as exc:
                outcome = VerifyOutcome(claim_id, None, "failed", error=_sentence(exc))
            except Exception as exc:  # noqa: BLE001 - retried with the chunk, then reported
                book.errors[claim_id] = _sentence(exc)
                return
        book.finish(outcome)

    await asyncio.gather(*(one(c) for c in claim_ids if c not in book.done))
    return chunk_results(claim_ids, book.done, book.errors)


@flow(name="verify-batch")
async def verify_batch(
    claim_ids: list[int], config: VerifyConfig | None = None, concurrency: int = 4
) -> dict[str, Any]:
    """Verify many claims, ``FACTCHECK_BATCH_CHUNK`` claims per task; one claim's failure
    never stops the batch, and each failed claim is reported with its own error.

    Claims already verified are skipped (so a batch killed half-way finishes when run
    again, with nothing done twice). With no source configured it refuses to run.
    """
    config = config or VerifyConfig()
    steps.require_sources(config)
    book = ChunkBook(asyncio.Semaphore(max(1, concurrency)), _progress_callback.get())
    token = _chunk_book.set(book)

    async def run_chunk(chunk: list[int]) -> None:
        try:
            await verify_chunk_task(chunk, config)
        except Exception as exc:  # noqa: BLE001 - reported per claim, the batch goes on
            for claim_id in chunk:
                if claim_id not in book.done:
                    error = book.errors.get(claim_id) or _sentence(exc)
                    book.finish(VerifyOutcome(claim_id, None, "failed", error=error))

    try:
        async with fetcher_scope():
            size = get_settings().batch_chunk
            await asyncio.gather(*(run_chunk(c) for c in chunks(claim_ids, size)))
    finally:
        _chunk_book.reset(token)
    results = [book.done[c] for c in dict.fromkeys(claim_ids) if c in book.done]
    summary = batch_summary(results)
    await acreate_table_artifact(
        key="verify-batch",
        table=[
            {
                "claim": o.claim_id,
                "status": o.status,
                "evidence": len(o.evidence),
                "error": o.error or "",
            }
            for o in sorted(results, key=lambda o: o.claim_id)
        ],
        description=f"{summary['queued']} queued, {summary['skipped']} skipped, "
        f"{summary['failed']} failed",
    )
    return summary


_progress_callback: contextvars.ContextVar[ProgressCallback | None] = contextvars.ContextVar(
    "factcheck_progress", default=None
)


def batch_summary(results: list[VerifyOutcome]) -> dict[str, Any]:
    return {
        "total": len(results),
        "queued": sum(o.status == "queued" for o in results),
        "skipped": sum(o.status == "skipped" for o in results),
        "failed": sum(o.status == "failed" for o in results),
        "failures": [
            {"claim_id": o.claim_id, "error": o.error}
            for o in sorted(results, key=lambda o: o.claim_id)
            if o.status == "failed"
        ],
        "skipped_reasons": [
            {"claim_id": o.claim_id, "reason": o.error}
            for o in sorted(results, key=lambda o: o.claim_id)
            if o.status == "skipped"
        ],
    }


def run_batch_with_progress(
    claim_ids: list[int],
    config: VerifyConfig,
    *,
    on_result: ProgressCallback | None,
    concurrency: int = 4,
) -> dict[str, Any]:
    """Run `verify-batch` in this process, calling ``on_result`` as each claim ends."""
    token = _progress_callback.set(on_result)
    try:
        return asyncio.run(verify_batch(claim_ids, config, concurrency))
    finally:
        _progress_callback.reset(token)
