"""Running the configured adapters for one claim and merging what they propose.

Adapters run concurrently, each within ``settings.adapter_timeout_s``. One that errors,
times out or hands back something that is not a list of candidates becomes an
``AdapterFailure`` (which adapter, what kind of failure, one sentence) and the others'
results still come back: one failing source never fails the claim.

Each adapter is asked for its own candidate budget (``settings.candidate_budgets`` per kind:
a wiki whose search answers with text can propose many pages cheaply, a feed a few), not one
shared number. Candidates are merged by normalised URL (`sources.urls.normalize_url`:
fragments, tracking parameters and default ports dropped); every proposal is kept in
``meta["proposals"]`` as ``{adapter, source, family, query, rank}``, so the record shows each
reason a page was fetched. The claim's origin candidates come first; the others follow in
one fused ranking — reciprocal-rank fusion (`evidence.scoring.fusion`) of every
(source, query) ranking and of a BM25 ranking of the text the sources returned with the
candidates (titles, snippets, feed summaries) against the plan's terms — so a page that
several sources and query families agree on comes first, and the pages worth fetching are
the top ``settings.max_candidates`` of that ranking. Ties are broken by best rank, source
order and position: deterministic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from evidence.errors import AdapterError, BadInput, FactcheckError
from evidence.scoring.fusion import rrf
from evidence.settings import Settings
from sources.discovery import SourceSpec
from sources.discovery.base import (
    Candidate,
    DiscoveryOutput,
    DiscoveryRequest,
    ExistingFactCheck,
    Search,
    searches_of,
)
from sources.discovery.config import DEFAULT_CANDIDATE_BUDGET
from sources.discovery.match import ListingIndex
from sources.discovery.plan import QueryPlan, plan
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
    # every query each source sent (family, query, hits) and which kept candidates it found
    searches: tuple[dict[str, Any], ...] = ()
    plan: QueryPlan | None = None
    round: int = 1


def make_request(
    text: str,
    *,
    settings: Settings,
    claimant: str | None = None,
    claim_date: date | None = None,
    origin_url: str | None = None,
) -> DiscoveryRequest:
    """A request with the claim's query plan (`sources.discovery.plan.plan`)."""
    return request_for_plan(
        plan(text, claimant=claimant, claim_date=claim_date), settings, origin_url=origin_url
    )


def request_for_plan(
    query_plan: QueryPlan, settings: Settings, *, origin_url: str | None = None
) -> DiscoveryRequest:
    """A request carrying ``query_plan``; each adapter's budget is set when it runs."""
    return DiscoveryRequest(
        claim=query_plan.claim,
        queries=query_plan.texts,
        origin_url=origin_url,
        claim_date=query_plan.claim_date,
        max_results=settings.max_candidates,
        plan=query_plan,
    )


def budget(settings: Settings, kind: str) -> int:
    """How many candidates the source kind may propose (``settings.candidate_budgets``)."""
    return max(int(settings.candidate_budgets.get(kind, DEFAULT_CANDIDATE_BUDGET)), 0)


async def discover(
    request: DiscoveryRequest,
    specs: list[SourceSpec],
    fetcher: Fetcher,
    settings: Settings,
    *,
    limit: int | None = None,
) -> DiscoveryResult:
    """Run every source for ``request``; the claim's origin page is always one of them.
    The merged candidates are cut at ``limit`` (default ``settings.max_candidates``)."""
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
    merged, dropped = merge(outputs, terms=request.plan.terms if request.plan else ())
    cap = settings.max_candidates if limit is None else limit
    kept = merged[:cap]
    return DiscoveryResult(
        queries=request.queries,
        sources=tuple(str(s) for s in specs),
        candidates=tuple(kept),
        fact_checks=_unique_fact_checks(outputs),
        failures=failures,
        dropped=dropped,
        capped=max(len(merged) - cap, 0),
        searches=_searches(outputs, kept),
        plan=request.plan,
        round=request.plan.round if request.plan else 1,
    )


def _searches(
    outputs: list[tuple[SourceSpec, DiscoveryOutput]], kept: list[Candidate]
) -> tuple[dict[str, Any], ...]:
    """Where we looked: each source's queries with their hit counts and the URLs of the kept
    candidates each one found (for the run's search window)."""
    found: dict[tuple[str, str | None], list[str]] = {}
    for candidate in kept:
        for proposal in candidate.meta.get("proposals", []):
            key = (str(proposal["source"]), proposal.get("query"))
            found.setdefault(key, []).append(candidate.url)
    out = []
    for spec, output in outputs:
        for search in output.searches or searches_of(output.candidates):
            urls = found.get((str(spec), search.query), [])
            out.append(_search_json(spec, search, urls))
    return tuple(out)


def _search_json(spec: SourceSpec, search: Search, urls: list[str]) -> dict[str, Any]:
    return {
        "source": str(spec),
        "adapter": spec.kind,
        "family": search.family,
        "query": search.query,
        "hits": search.hits,
        "kept": urls,
    }


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
        if request.plan is not None:  # a planned run: the source's own budget
            request = replace(request, max_results=budget(settings, spec.kind))
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


def merge(
    outputs: list[tuple[SourceSpec, DiscoveryOutput]], *, terms: Sequence[str] = ()
) -> tuple[list[Candidate], int]:
    """(merged candidates in final order, proposals dropped for an unusable URL). ``terms``
    (match keys) add a BM25 ranking of the candidates' listed text to the fusion."""
    best: dict[str, tuple[tuple[int, int, int, int], Candidate]] = {}
    proposals: dict[str, list[dict[str, Any]]] = {}
    local: dict[str, dict[str, Any]] = {}
    rankings: dict[tuple[int, str | None], list[tuple[int, int, str]]] = {}
    dropped = 0
    for turn, (spec, output) in enumerate(outputs):
        group = 0 if spec.kind == "origin" else 1
        for position, candidate in enumerate(output.candidates):
            key = candidate_key(candidate.url)
            if key is None:
                dropped += 1
                continue
            for hit in _hits(candidate):
                proposals.setdefault(key, []).append(
                    {
                        "adapter": candidate.adapter,
                        "source": str(spec),
                        "family": hit["family"],
                        "query": hit["query"],
                        "rank": hit["rank"],
                    }
                )
                rankings.setdefault((turn, hit["query"]), []).append(
                    (int(hit["rank"]), position, key)
                )
            if "path" in candidate.meta and key not in local:
                local[key] = {k: candidate.meta.get(k) for k in _LOCAL_KEYS}
            order = (group, candidate.rank, turn, position)
            if key not in best or order < best[key][0]:
                best[key] = (order, candidate)
    lists = [[key for _, _, key in sorted(r)] for _, r in sorted(rankings.items(), key=_first)]
    lists.append(_text_ranking(best, terms))
    fused = {key: i for i, (key, _) in enumerate(rrf(lists))}
    merged = []
    for key, (_, candidate) in sorted(
        best.items(), key=lambda item: (item[1][0][0], _origin_rank(item[1][0]), fused[item[0]])
    ):
        meta = {**candidate.meta, **local.get(key, {}), "proposals": proposals[key]}
        merged.append(replace(candidate, url=key, meta=meta))
    return merged, dropped


def _hits(candidate: Candidate) -> list[dict[str, Any]]:
    """The searches that found ``candidate``: its ``hits``, or its own query and rank."""
    hits = candidate.meta.get("hits")
    if isinstance(hits, list) and hits:
        return hits
    family = candidate.meta.get("family") or ("given" if candidate.query else None)
    return [{"family": family, "query": candidate.query, "rank": candidate.rank}]


def _first(item: tuple[tuple[int, str | None], list[tuple[int, int, str]]]) -> tuple[int, int]:
    """Rankings in source order, then in the order their first result was proposed."""
    (turn, _), entries = item
    return (turn, min(position for _, position, _ in entries))


def _origin_rank(order: tuple[int, int, int, int]) -> tuple[int, ...]:
    """The origin group keeps the origin adapter's own order (the page, then its links)."""
    return order[1:] if order[0] == 0 else ()


def _text_ranking(
    best: dict[str, tuple[tuple[int, int, int, int], Candidate]], terms: Sequence[str]
) -> list[str]:
    """The candidates whose listed text (title, snippet, summary) holds the plan's terms,
    best BM25 first: what the sources' answers already say about each page."""
    if not terms:
        return []
    keys = sorted(best, key=lambda key: best[key][0])
    listing = [(best[k][1].title or "", str(best[k][1].meta.get("text") or "")) for k in keys]
    index = ListingIndex(listing, terms)
    return [keys[i] for i, _ in index.rank(list(terms))]


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
