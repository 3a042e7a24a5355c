"""Running the configured adapters for one claim and merging what they propose.

Adapters run concurrently, each within ``settings.adapter_timeout_s``. One that errors,
times out or hands back something that is not a list of candidates becomes an
``AdapterFailure`` (which adapter, what kind of failure, one sentence) and the others'
results still come back: one failing source never fails the claim.

Candidates are merged by normalised URL (`sources.urls.normalize_url`: fragments, tracking
parameters and default ports dropped). The best (lowest) rank wins and every proposal is
kept in ``meta["proposals"]`` as ``{adapter, source, query, rank}``, so the record shows each
reason a page was fetched. Origin candidates come first, then the others by rank, the
sources taking turns; the list is cut at ``settings.max_candidates``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from evidence.errors import AdapterError, BadInput, FactcheckError
from evidence.settings import Settings
from sources.discovery import SourceSpec
from sources.discovery.base import Candidate, DiscoveryOutput, DiscoveryRequest, ExistingFactCheck
from sources.discovery.plan import plan_queries
from sources.results import Fetcher
from sources.urls import normalize_url

log = logging.getLogger(__name__)

FAILURE_KINDS: dict[str, str] = {
    "timeout": "the adapter gave no answer within settings.adapter_timeout_s",
    "fetch": "the source could not be fetched (HTTP status, network, refused address)",
    "bad_answer": "the source answered with something unreadable (HTML, malformed JSON/XML)",
    "config": "the source is misconfigured (no API key, missing folder)",
    "invalid_output": "the adapter returned something other than candidates",
    "error": "the adapter reported another error",
    "crash": "the adapter raised an unexpected exception (a bug)",
}
_LOCAL_KEYS = ("path", "offset", "format")  # where a `dir` candidate's bytes are


@dataclass(frozen=True)
class AdapterFailure:
    adapter: str  # the kind
    source: str  # the spec as configured, e.g. rss=https://example.org/feed.xml
    kind: str  # a key of FAILURE_KINDS
    message: str  # one sentence

    def as_json(self) -> dict[str, str]:
        return {
            "adapter": self.adapter,
            "source": self.source,
            "kind": self.kind,
            "message": self.message,
        }


@dataclass(frozen=True)
class DiscoveryResult:
    queries: tuple[str, ...]
    sources: tuple[str, ...]
    candidates: tuple[Candidate, ...]  # merged, best first, at most max_candidates
    fact_checks: tuple[ExistingFactCheck, ...]
    failures: tuple[AdapterFailure, ...]
    dropped: int = 0  # proposals whose URL was not an absolute http(s) URL
    capped: int = 0  # merged candidates cut by max_candidates


def make_request(
    text: str,
    *,
    settings: Settings,
    claimant: str | None = None,
    claim_date: date | None = None,
    origin_url: str | None = None,
) -> DiscoveryRequest:
    """A request with the planned queries, each adapter allowed ``max_candidates`` results."""
    queries = plan_queries(text, claimant=claimant, claim_date=claim_date)
    return DiscoveryRequest(
        claim=text,
        queries=tuple(queries),
        origin_url=origin_url,
        claim_date=claim_date,
        max_results=settings.max_candidates,
    )


async def discover(
    request: DiscoveryRequest, specs: list[SourceSpec], fetcher: Fetcher, settings: Settings
) -> DiscoveryResult:
    """Run every source for ``request``; the claim's origin page is always one of them."""
    specs = with_origin(specs, request)
    outcomes = await asyncio.gather(*(_run_one(s, request, fetcher, settings) for s in specs))
    outputs = [
        (s, o) for s, o in zip(specs, outcomes, strict=True) if isinstance(o, DiscoveryOutput)
    ]
    failures = tuple(o for o in outcomes if isinstance(o, AdapterFailure))
    for failure in failures:
        log.warning(
            "discovery source %s failed (%s): %s", failure.source, failure.kind, failure.message
        )
    merged, dropped = merge(outputs)
    cap = settings.max_candidates
    return DiscoveryResult(
        queries=request.queries,
        sources=tuple(str(s) for s in specs),
        candidates=tuple(merged[:cap]),
        fact_checks=_unique_fact_checks(outputs),
        failures=failures,
        dropped=dropped,
        capped=max(len(merged) - cap, 0),
    )


def with_origin(specs: list[SourceSpec], request: DiscoveryRequest) -> list[SourceSpec]:
    if request.origin_url and not any(s.kind == "origin" for s in specs):
        return [SourceSpec("origin"), *specs]
    return list(specs)


async def _run_one(
    spec: SourceSpec, request: DiscoveryRequest, fetcher: Fetcher, settings: Settings
) -> DiscoveryOutput | AdapterFailure:
    def failed(kind: str, message: str) -> AdapterFailure:
        return AdapterFailure(spec.kind, str(spec), kind, message)

    try:
        adapter = spec.build(settings)
        output = await asyncio.wait_for(adapter.run(request, fetcher), settings.adapter_timeout_s)
    except TimeoutError:
        return failed("timeout", f"no answer within {settings.adapter_timeout_s:g} s.")
    except AdapterError as exc:
        message = str(exc).removeprefix(f"{exc.adapter}: ")
        return failed(getattr(exc, "failure_kind", "error"), message)
    except FactcheckError as exc:
        return failed("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - one broken adapter must not fail the claim
        log.exception("discovery adapter %s crashed", spec)
        return failed("crash", f"unexpected {type(exc).__name__}: {exc}")
    problem = _invalid(output)
    return failed("invalid_output", problem) if problem else output


def _invalid(output: Any) -> str | None:
    if not isinstance(output, DiscoveryOutput):
        return f"it returned {type(output).__name__}, not candidates."
    if not all(isinstance(c, Candidate) and isinstance(c.url, str) for c in output.candidates):
        return "it returned something that is not a candidate."
    if not all(isinstance(f, ExistingFactCheck) for f in output.fact_checks):
        return "it returned something that is not a fact-check."
    return None


def candidate_key(url: str) -> str | None:
    """The dedup key of a proposed URL; None when it cannot be fetched. Local files keep
    their file: URI (they are read from disk, never fetched)."""
    if url.startswith("file:"):
        return url
    try:
        return normalize_url(url)
    except BadInput:
        return None


def merge(outputs: list[tuple[SourceSpec, DiscoveryOutput]]) -> tuple[list[Candidate], int]:
    """(merged candidates in final order, proposals dropped for an unusable URL)."""
    best: dict[str, tuple[tuple[int, int, int, int], Candidate]] = {}
    proposals: dict[str, list[dict[str, Any]]] = {}
    local: dict[str, dict[str, Any]] = {}
    dropped = 0
    for turn, (spec, output) in enumerate(outputs):
        group = 0 if spec.kind == "origin" else 1
        for position, candidate in enumerate(output.candidates):
            key = candidate_key(candidate.url)
            if key is None:
                dropped += 1
                continue
            proposals.setdefault(key, []).append(
                {
                    "adapter": candidate.adapter,
                    "source": str(spec),
                    "query": candidate.query,
                    "rank": candidate.rank,
                }
            )
            if "path" in candidate.meta and key not in local:
                local[key] = {k: candidate.meta.get(k) for k in _LOCAL_KEYS}
            order = (group, candidate.rank, turn, position)
            if key not in best or order < best[key][0]:
                best[key] = (order, candidate)
    merged = []
    for key, (_, candidate) in sorted(best.items(), key=lambda item: item[1][0]):
        meta = {**candidate.meta, **local.get(key, {}), "proposals": proposals[key]}
        merged.append(replace(candidate, url=key, meta=meta))
    return merged, dropped


def _unique_fact_checks(
    outputs: list[tuple[SourceSpec, DiscoveryOutput]],
) -> tuple[ExistingFactCheck, ...]:
    seen: set[str] = set()
    out = []
    for _, output in outputs:
        for check in output.fact_checks:
            key = candidate_key(check.url) or check.url
            if key not in seen:
                seen.add(key)
                out.append(replace(check, url=key))
    return tuple(out)
