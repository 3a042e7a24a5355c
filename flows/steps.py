"""The verification steps as plain functions; `flows.verify` wraps them as Prefect tasks.

Each step does one thing; reads go through ``read_scope`` (no write lock on SQLite) and
each step's writes are one transaction (a fetch round's after fetching; ``rank`` with
``then_route`` also routes), so a crash loses at most the step in flight, and running a
claim again picks up what is already recorded:

- ``start_run``         the run row (queries, sources), claim status ``verifying``
- ``discover``          adapters → candidate rows (unique per claim, URL and adapter)
- ``fetch_candidates``  fetch + archive + extract; a URL already fetched in full is reused
                        (one look-up for all the URLs), so a re-run writes no second fetch or
                        passage rows for it; the round's fetch rows and passages are written
                        in one transaction
- ``rank``              BM25 + agreement features over the claim's pages → evidence rows
                        (unique per claim and passage), search window on the run
- ``route``             review task (one per claim), run finished, claim ``queued``

Failed fetches are attempts, not evidence: a re-run retries them and records the new
attempt. Network work fans out inside a step with asyncio (one shared AsyncFetcher);
Prefect sees one task per step, never one per URL (see README, "Task granularity").
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import exists, func
from sqlmodel import Session, col, select

from evidence import audit, claims
from evidence.archive import read_record
from evidence.db import get_engine, read_scope, session_scope
from evidence.errors import BadInput
from evidence.models import Candidate as CandidateRow
from evidence.models import Claim, Document, FactCheck, Fetch, Passage, Run
from evidence.scoring.rank import PassageInput, ScoredPassage, rank_passages
from evidence.scoring.search_window import search_window
from evidence.scoring.select import FactCheckInput, match_fact_checks, select_evidence
from evidence.scoring.semantic import SemanticReranker
from evidence.scoring.stance import ClaimFacts
from evidence.scoring.text import has_superlative
from evidence.settings import Settings, get_settings
from evidence.store import record_evidence
from evidence.types import utcnow
from sources.discovery import sources_from_settings
from sources.discovery.base import Candidate
from sources.discovery.followup import followup_plan
from sources.discovery.localdir import is_local, load_local
from sources.discovery.plan import plan
from sources.discovery.record import record_discovery
from sources.discovery.run import DiscoveryResult, discover, make_request, request_for_plan
from sources.extract import extract
from sources.llm import stance_model_from_settings, suggester_from_settings
from sources.results import Extraction, FetchResult
from sources.store import extract_result, store_page, url_forms
from sources.urls import normalize_url
from verdicts.queue import enqueue

DONE_STATUSES = frozenset({"queued", "in_review", "decided", "published", "duplicate"})
REVIEW_STATUSES = frozenset({"queued", "in_review", "decided", "published"})
# the claim status that goes with its review task's state (as verdicts.queue and
# verdicts.decisions set them)
STATUS_OF_TASK = {
    "queued": "queued",
    "leased": "in_review",
    "awaiting_second": "queued",
    "awaiting_approval": "decided",
    "disputed": "decided",
    "done": "published",
}
NO_SOURCE = (
    "No discovery source is configured: set FACTCHECK_SOURCES (KIND=URL, comma-separated) "
    "or pass --source KIND=URL, e.g. --source mediawiki=https://en.wikipedia.org/w/api.php."
)
FOLLOWUP_PASSAGES = 10  # round two reads the names and dates of the first round's best
STANCE_POOL = 200  # passages given a stance per claim, best ranked first (bounds the cost)
PRIORITY_FACT_CHECK = 20  # an existing fact-check matched: quick to settle
PRIORITY_SUPERLATIVE = 10  # "first", "never", "only": needs the timeline


class VerifyConfig(BaseModel):
    """Flow parameter: what to search (``KIND=URL`` specs added to the configured ones)."""

    sources: list[str] = []
    force: bool = False  # verify again even if the claim is already queued or decided


@dataclass(frozen=True)
class Page:
    """What the fetch step hands to ranking: a document and where its passages are."""

    url: str
    document_id: int | None
    fetch_id: int | None
    ok: bool
    reused: bool
    error_kind: str | None = None
    error: str | None = None
    fact_checks: tuple[FactCheckInput, ...] = ()  # ClaimReviews embedded in the page


@dataclass
class VerifyOutcome:
    claim_id: int
    run_id: int | None
    status: str  # queued | skipped | duplicate | failed
    candidates: int = 0
    fetched: int = 0
    failed_fetches: int = 0
    evidence: list[dict[str, Any]] = field(default_factory=list)
    fact_checks: list[dict[str, Any]] = field(default_factory=list)
    adapter_failures: list[dict[str, str]] = field(default_factory=list)
    suggestion: dict[str, Any] = field(default_factory=dict)  # never published by itself
    error: str | None = None


# -- run ------------------------------------------------------------------------------------


def start_run(
    claim_id: int, *, actor: str, kind: str = "verify", flow_run_id: str | None = None
) -> int:
    with session_scope(get_engine()) as session:
        claim = claims.get_claim(session, claim_id)
        # a run left "running" by a crashed process is over; this one takes its place
        for stale in session.exec(
            select(Run).where(Run.claim_id == claim_id, Run.status == "running")
        ).all():
            stale.status, stale.error = "abandoned", "superseded by a later run"
            session.add(stale)
        run = Run(claim_id=claim_id, kind=kind, flow_run_id=flow_run_id)
        session.add(run)
        session.flush()
        assert run.id is not None
        audit.record(
            session, audit.RunStarted(claim_id=claim_id, run_id=run.id, kind=kind), actor=actor
        )
        # a claim a reviewer has (or had) keeps its review status through a forced run
        if kind == "verify" and claim.status not in REVIEW_STATUSES:
            claims.set_status(session, claim, "verifying", actor=actor)
        return run.id


def require_sources(config: VerifyConfig, settings: Settings | None = None) -> list[str]:
    """The sources a run would search (settings, then ``config``); BadInput when there are
    none: a search of nothing would queue the claim with "no evidence found"."""
    specs = sources_from_settings(settings or get_settings(), config.sources)
    if not specs:
        raise BadInput(NO_SOURCE)
    return [str(spec) for spec in specs]


def needs_verification(claim_id: int, *, force: bool = False) -> str | None:
    """None when the claim should be verified, else the reason to skip it."""
    with read_scope(get_engine()) as session:
        claim = claims.get_claim(session, claim_id)
        if claim.status == "duplicate":
            return f"near-duplicate of claim {claim.duplicate_of_id}"
        if not force and claim.status in DONE_STATUSES:
            return f"already {claim.status}"
    return None


def finish_run(run_id: int, *, status: str, actor: str, error: str | None = None) -> None:
    with session_scope(get_engine()) as session:
        _finish_in(session, run_id, status=status, actor=actor, error=error)


def _finish_in(
    session: Session, run_id: int, *, status: str, actor: str, error: str | None = None
) -> None:
    run = session.get(Run, run_id)
    assert run is not None
    run.status, run.error, run.finished_at = status, error, utcnow()
    session.add(run)
    audit.record(
        session,
        audit.RunFinished(claim_id=run.claim_id, run_id=run_id, status=status, error=error),
        actor=actor,
    )
    claim = claims.get_claim(session, run.claim_id)
    if status == "failed" and claim.status == "verifying":  # never a reviewed claim
        claims.set_status(session, claim, "failed", actor=actor)


# -- discover -------------------------------------------------------------------------------


async def discover_for(
    claim_id: int,
    run_id: int,
    config: VerifyConfig,
    fetcher: Any,
    *,
    actor: str,
    settings: Settings | None = None,
) -> DiscoveryResult:
    settings = settings or get_settings()
    specs = sources_from_settings(settings, config.sources)
    with read_scope(get_engine()) as session:
        claim = claims.get_claim(session, claim_id)
        request = make_request(
            claim.text,
            settings=settings,
            claimant=claim.claimant,
            claim_date=claim.claim_date,
            origin_url=claim.origin_url,
        )
    if request.origin_url and not await asyncio.to_thread(_reusable_url, request.origin_url):
        # fetch, archive and record the origin page once: the origin adapter reads its links
        # from these bytes and the fetch step then reuses the recorded fetch
        page = await fetcher.get(request.origin_url)
        await asyncio.to_thread(store_result, page, run_id=run_id, actor=actor)
        request = replace(request, origin_page=page)
    result = await discover(request, specs, fetcher, settings)
    with session_scope(get_engine()) as session:
        # the run's search window gets the plan, every query each source sent and what it
        # found (sources.discovery.record); the adapter errors are kept for `rank`
        record_discovery(session, claim_id, run_id, result, actor=actor)
        run = session.get(Run, run_id)
        assert run is not None
        run.search_window = {
            **run.search_window,
            "adapter_errors": [f.as_json() for f in result.failures],
        }
        session.add(run)
    return result


# -- fetch ----------------------------------------------------------------------------------


def _reusable(session: Session, url: str) -> Fetch | None:
    """A full earlier fetch of ``url`` whose passages are recorded."""
    return _reusable_many(session, [url]).get(url)


def _reusable_many(session: Session, urls: Sequence[str]) -> dict[str, Fetch]:
    """URL -> its newest full earlier fetch (``sources.store.previous_fetch``), for the
    URLs whose newest full fetch has its passages recorded; one query for all of them."""
    forms = {url: url_forms(url) for url in urls}
    every = sorted({form for f in forms.values() for form in f})
    if not every:
        return {}
    extracted = exists().where(col(Passage.fetch_id) == col(Fetch.id))
    rows = session.exec(
        select(Fetch, extracted)
        .where(col(Fetch.requested_url).in_(every))
        .where(Fetch.status_code == 200, col(Fetch.error_kind).is_(None))
        .where(col(Fetch.sha256).is_not(None))
        .order_by(col(Fetch.fetched_at).desc(), col(Fetch.id).desc())
    ).all()
    found: dict[str, Fetch] = {}
    for url, wanted in forms.items():
        newest = next(((f, has) for f, has in rows if f.requested_url in wanted), None)
        if newest is not None and newest[1] and newest[0].id is not None:
            found[url] = newest[0]
    return found


def _attempted_in_run(session: Session, run_id: int | None) -> dict[str, Fetch]:
    """This run's failed fetches by normalised URL."""
    if run_id is None:
        return {}
    rows = session.exec(
        select(Fetch).where(Fetch.run_id == run_id, col(Fetch.error_kind).is_not(None))
    ).all()
    attempted: dict[str, Fetch] = {}
    for row in rows:
        try:
            attempted[normalize_url(row.requested_url)] = row
        except BadInput:
            continue
    return attempted


def _reusable_url(url: str) -> bool:
    with read_scope(get_engine()) as session:
        return _reusable(session, url) is not None


def store_result(result: FetchResult, *, run_id: int | None, actor: str) -> Page:
    """One transaction: the fetch row, then (for a page) its passages."""
    return store_results([result], run_id=run_id, actor=actor)[0]


def store_results(results: Sequence[FetchResult], *, run_id: int | None, actor: str) -> list[Page]:
    """One transaction for a round of fetches: each fetch row, then (for a page) its
    passages. A crash before the commit records none of them, and the next run fetches them
    again; after it, the next run reuses every page recorded in full."""
    extractions = [extract_result(result) for result in results]  # pure, outside it
    pages: list[Page] = []
    with session_scope(get_engine()) as session:
        for result, extraction in zip(results, extractions, strict=True):
            row = store_page(session, result, extraction, actor=actor, run_id=run_id).fetch
            checks = embedded_fact_checks(extraction, row) if extraction else ()
            pages.append(
                Page(
                    url=result.url,
                    document_id=row.document_id,
                    fetch_id=row.id,
                    ok=result.ok,
                    reused=False,
                    error_kind=result.error_kind,
                    error=result.error,
                    fact_checks=checks,
                )
            )
    return pages


def embedded_fact_checks(extraction: Extraction, row: Fetch) -> tuple[FactCheckInput, ...]:
    page_url = row.final_url or row.requested_url
    return tuple(
        FactCheckInput(
            url=review.url or page_url,
            claim_reviewed=review.claim_reviewed,
            rating=review.rating,
            publisher=review.author,
            review_date=_date(review.date_published),
            source="embedded",
            document_id=row.document_id,
        )
        for review in extraction.claim_reviews
    )


def reextract(row: Fetch) -> Extraction | None:
    """The extraction of an archived fetch (a reused page's ClaimReviews)."""

    if row.warc_file is None or row.warc_offset is None:
        return None
    response, body = read_record(row.warc_file, row.warc_offset)
    return extract(
        body, url=row.final_url or row.requested_url, content_type=response.header("content-type")
    )


async def fetch_candidates(
    candidates: Sequence[Candidate], fetcher: Any, *, run_id: int | None, actor: str
) -> list[Page]:
    """Fetch what is not yet recorded in full; everything else is reused as it stands."""
    pages: list[Page] = []
    todo: list[Candidate] = []
    with read_scope(get_engine()) as session:
        attempted = _attempted_in_run(session, run_id)
        reusable = _reusable_many(session, [c.url for c in candidates])
        for candidate in candidates:
            failed = attempted.get(candidate.url)
            if failed is not None:  # this run already tried it (the origin page): no retry
                pages.append(
                    Page(
                        candidate.url,
                        failed.document_id,
                        failed.id,
                        False,
                        True,
                        error_kind=failed.error_kind,
                        error=failed.error,
                    )
                )
                continue
            row = reusable.get(candidate.url)
            if row is not None:
                pages.append(_page_of(candidate.url, row))
            else:
                todo.append(candidate)
    fetched = await _fetch_round(todo, fetcher, run_id=run_id, actor=actor)
    return [*pages, *fetched]


def _page_of(url: str, reused: Fetch) -> Page:
    """A page recorded in full earlier, with the ClaimReviews its archived copy embeds."""
    extraction = reextract(reused)
    checks = embedded_fact_checks(extraction, reused) if extraction else ()
    return Page(url, reused.document_id, reused.id, True, True, fact_checks=checks)


# URL -> the page being fetched, per shared fetcher (a batch shares one across its claims)
_INFLIGHT: weakref.WeakKeyDictionary[Any, dict[str, asyncio.Future[Page | None]]] = (
    weakref.WeakKeyDictionary()
)
# URL -> the page fetched and recorded in full, per shared fetcher (the newest DONE_PAGES)
_DONE: weakref.WeakKeyDictionary[Any, dict[str, Page]] = weakref.WeakKeyDictionary()
DONE_PAGES = 4096


async def _fetch_round(
    candidates: Sequence[Candidate], fetcher: Any, *, run_id: int | None, actor: str
) -> list[Page]:
    """Fetch the candidates, then record them all in one transaction; once per URL across
    the claims sharing ``fetcher``: a claim that needs a page another claim is fetching
    waits for that page instead of asking the site a second time."""
    inflight = _INFLIGHT.setdefault(fetcher, {})
    done = _DONE.setdefault(fetcher, {})
    pages: dict[str, Page] = {}
    waits: dict[str, asyncio.Future[Page | None]] = {}
    mine: dict[str, tuple[Candidate, asyncio.Future[Page | None]]] = {}
    for candidate in candidates:
        url = candidate.url
        if url in pages or url in waits or url in mine:
            continue
        if (finished := done.get(url)) is not None:
            # another claim finished it since our look-up: no second fetch, and no look-up
            # per URL in the database to find that out
            pages[url] = replace(finished, reused=True)
        elif (running := inflight.get(url)) is not None:
            waits[url] = running
        else:
            future: asyncio.Future[Page | None] = asyncio.get_running_loop().create_future()
            inflight[url] = future
            mine[url] = (candidate, future)
    stored: list[Page] = []
    try:
        results = await asyncio.gather(*(_get(c, fetcher) for c, _ in mine.values()))
        if results:
            stored = await asyncio.to_thread(store_results, results, run_id=run_id, actor=actor)
    finally:
        outcomes: list[Page | None] = [*stored] if stored else [None] * len(mine)
        for (url, (_, future)), page in zip(mine.items(), outcomes, strict=True):
            if inflight.get(url) is future:
                del inflight[url]
            future.set_result(page)
    for url, page in zip(mine, stored, strict=True):
        pages[url] = page
        if page.ok:
            done[url] = page
            while len(done) > DONE_PAGES:  # oldest first: a batch's memory stays flat
                del done[next(iter(done))]
    for url, running in waits.items():
        shared = await asyncio.shield(running)
        if shared is None:  # the claim fetching it failed: fetch it ourselves
            by_url = {c.url: c for c in candidates}
            pages[url] = (await _fetch_round([by_url[url]], fetcher, run_id=run_id, actor=actor))[0]
        else:
            pages[url] = replace(shared, reused=True)
    return [pages[c.url] for c in candidates]


async def _get(candidate: Candidate, fetcher: Any) -> FetchResult:
    if is_local(candidate):
        return await asyncio.to_thread(load_local, candidate)
    result: FetchResult = await fetcher.get(candidate.url)
    return result


# -- rank -----------------------------------------------------------------------------------


def claim_passages(session: Session, document_ids: Sequence[int]) -> list[PassageInput]:
    """The passages of each document's newest extracted fetch."""
    if not document_ids:
        return []
    newest = (
        select(Passage.document_id, func.max(Passage.fetch_id).label("fetch_id"))
        .where(col(Passage.document_id).in_(document_ids))
        .group_by(col(Passage.document_id))
        .subquery()
    )
    rows = session.exec(
        select(Passage, Document)
        .join(
            newest,
            (col(Passage.document_id) == newest.c.document_id)
            & (col(Passage.fetch_id) == newest.c.fetch_id),
        )
        .join(Document, col(Document.id) == Passage.document_id)
        .order_by(col(Passage.id))
    ).all()
    return [
        PassageInput(
            passage_id=p.id,
            text=p.text,
            url=d.url,
            site=d.site,
            title=d.title,
            published=d.published_at or p.published_at,
            document_id=d.id,
            key=p.key,
        )
        for p, d in rows
        if p.id is not None
    ]


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _api_fact_checks(session: Session, claim_id: int) -> list[FactCheckInput]:
    rows = session.exec(
        select(FactCheck).where(FactCheck.claim_id == claim_id, FactCheck.source == "factcheck-api")
    ).all()
    return [
        FactCheckInput(
            url=r.url,
            claim_reviewed=r.claim_reviewed,
            rating=r.rating,
            publisher=r.publisher,
            review_date=r.review_date,
            source="factcheck-api",
        )
        for r in rows
    ]


@functools.lru_cache(maxsize=1)
def _semantic() -> Any:
    """The sentence-embedding re-ranker, loaded once per process (~8 s)."""

    return SemanticReranker()


def preliminary_top(
    claim_id: int, run_id: int, pages: Sequence[Page], *, limit: int = FOLLOWUP_PASSAGES
) -> list[ScoredPassage]:
    """The best passages of the first round, ranked but not recorded: what round two of
    discovery reads to follow the story. Read-only."""
    document_ids = sorted({p.document_id for p in pages if p.ok and p.document_id is not None})
    ranks = search_ranks(claim_id, run_id)
    with read_scope(get_engine()) as session:
        claim = claims.get_claim(session, claim_id)
        pool = with_search_ranks(claim_passages(session, document_ids), ranks)
    return rank_passages(claim.text, pool, claim_date=claim.claim_date)[:limit]


def rank(
    claim_id: int,
    run_id: int,
    pages: Sequence[Page],
    *,
    actor: str,
    extra_fact_checks: Sequence[FactCheckInput] = (),
    then_route: bool = False,
) -> VerifyOutcome:
    """Rank the claim's pages and record the evidence, the suggested verdict and the search
    window. Reads in a read-only transaction and ranks outside any, then writes in one
    transaction; with ``then_route`` that transaction also queues the claim for review and
    closes the run (``route``): all the claim writes after fetching, as one unit."""
    document_ids = sorted({p.document_id for p in pages if p.ok and p.document_id is not None})
    ranks = search_ranks(claim_id, run_id)
    settings = get_settings()
    with read_scope(get_engine()) as session:
        claim = claims.get_claim(session, claim_id)
        pool = with_search_ranks(claim_passages(session, document_ids), ranks)
        api_checks = _api_fact_checks(session, claim_id)
        run = session.get(Run, run_id)
        assert run is not None
        window, queries = dict(run.search_window), run.queries
    ranked = rank_passages(claim.text, pool, claim_date=claim.claim_date)
    if settings.semantic_rerank:
        ranked = _semantic().rerank(claim.text, ranked)
    checks = [*(fc for p in pages for fc in p.fact_checks), *api_checks, *extra_fact_checks]
    facts = ClaimFacts(claim.text, claim.claimant, claim.claim_date)
    matched = match_fact_checks(claim.text, checks, threshold=settings.match_threshold)
    judged = ranked[:STANCE_POOL]  # best first: a model-backed stance reads the first ones
    stances = stance_model_from_settings(settings).classify(
        facts, [s.passage for s in judged], fact_checks=matched
    )
    selection = select_evidence(
        claim.text,
        ranked,
        fact_checks=checks,
        top_k=settings.evidence_top_k,
        max_per_site=settings.max_per_site,
        match_threshold=settings.match_threshold,
        stances={s.passage_id: st for s, st in zip(judged, stances, strict=True)},
    )
    suggestion = suggester_from_settings(settings).suggest(
        facts, selection, fact_checks=selection.fact_checks, scale=settings.rating_scale
    )
    window.update(
        search_window(
            claim.text,
            ranked,
            sources=window.get("sources", []),
            queries=queries,
            claim_date=claim.claim_date,
            adapter_errors=window.get("adapter_errors", []),
        )
    )
    listed = selection.as_list()
    outcome = VerifyOutcome(
        claim_id=claim_id,
        run_id=run_id,
        status="ranked",
        evidence=[e for e in listed if e["kind"] == "passage"],
        fact_checks=[e for e in listed if e["kind"] == "fact_check"],
        suggestion=suggestion.as_json(),
    )
    with session_scope(get_engine()) as session:
        record_evidence(session, claim_id, run_id, selection, actor=actor)
        run = session.get(Run, run_id)
        assert run is not None
        run.suggestion = suggestion.as_json()
        audit.record(
            session,
            audit.VerdictSuggested(
                claim_id=claim_id,
                run_id=run_id,
                rating=suggestion.rating,
                confidence=suggestion.confidence,
                explanation=suggestion.explanation,
                **{"passage_ids": list(suggestion.passage_ids), "model": suggestion.model},
            ),
            actor=actor,
        )
        run.search_window = window
        session.add(run)
        audit.record(
            session,
            audit.SearchWindowRecorded(claim_id=claim_id, run_id=run_id, window=window),
            actor=actor,
        )
        if then_route:
            _route_in(session, claim_id, outcome, actor=actor)
            _finish_in(session, run_id, status="done", actor=actor)
    return outcome


# -- route ----------------------------------------------------------------------------------


def priority_for(claim: Claim, outcome: VerifyOutcome) -> int:
    priority = PRIORITY_FACT_CHECK if outcome.fact_checks else 0
    return priority + (PRIORITY_SUPERLATIVE if has_superlative(claim.text) else 0)


def route(claim_id: int, run_id: int, outcome: VerifyOutcome, *, actor: str) -> int:
    """Queue the claim for review (one task per claim) and close the run, in one
    transaction; the task id."""
    with session_scope(get_engine()) as session:
        task_id = _route_in(session, claim_id, outcome, actor=actor)
        _finish_in(session, run_id, status="done", actor=actor)
    return task_id


def _route_in(session: Session, claim_id: int, outcome: VerifyOutcome, *, actor: str) -> int:
    claim = claims.get_claim(session, claim_id)
    task = enqueue(session, claim_id, priority=priority_for(claim, outcome), actor=actor)
    assert task.id is not None
    if claim.status == "verifying":  # its task already existed: left so by an older run
        claims.set_status(session, claim, STATUS_OF_TASK[task.state], actor=actor)
    return task.id


def top_evidence(claim_id: int, limit: int = 5) -> list[dict[str, Any]]:
    with read_scope(get_engine()) as session:
        return claims.claim_evidence(session, claim_id)[:limit]


def claim_evidence_report(claim_id: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The claim's active evidence in display order and its latest suggested verdict."""
    with read_scope(get_engine()) as session:
        return claims.claim_evidence(session, claim_id), claims.latest_suggestion(session, claim_id)


# -- discover, round two: follow the story ------------------------------------------------


async def discover_followup(
    claim_id: int,
    run_id: int,
    config: VerifyConfig,
    fetcher: Any,
    passages: Sequence[ScoredPassage | PassageInput],
    *,
    actor: str,
    settings: Settings | None = None,
) -> DiscoveryResult | None:
    """Discovery's second round: queries from the names and dates that the first round's
    top ``passages`` (best first) add to the claim (`sources.discovery.followup`), sent to
    the same sources (not the origin page again), recorded like the first round: candidate
    rows numbered after round one's, the audit chain, and the run's search window (round 2).
    At most ``settings.followup_candidates`` pages; None when the passages add nothing to
    search for. The caller fetches ``result.candidates`` (pages fetched before are reused)
    and ranks the claim again."""
    settings = settings or get_settings()
    specs = [s for s in sources_from_settings(settings, config.sources) if s.kind != "origin"]
    with read_scope(get_engine()) as session:
        claim = claims.get_claim(session, claim_id)
        first = plan(claim.text, claimant=claim.claimant, claim_date=claim.claim_date)
        second = followup_plan(
            first, passages, claimant=claim.claimant, max_queries=settings.followup_queries
        )
    if not second.queries or not specs:
        return None
    seen = len(search_ranks(claim_id, run_id))
    request = request_for_plan(second, settings)
    result = await discover(request, specs, fetcher, settings, limit=settings.followup_candidates)
    with session_scope(get_engine()) as session:
        record_discovery(session, claim_id, run_id, result, actor=actor, first_order=seen + 1)
    return result


def search_ranks(claim_id: int, run_id: int | None = None) -> dict[str, int]:
    """URL -> its place in discovery's fused ranking (1 is best; round two's pages come
    after round one's), over the claim's candidates (of ``run_id`` when given): what
    `PassageInput.search_rank` wants (see ``with_search_ranks``)."""
    query = select(CandidateRow).where(CandidateRow.claim_id == claim_id)
    if run_id is not None:
        query = query.where(CandidateRow.run_id == run_id)
    ranks: dict[str, int] = {}
    with read_scope(get_engine()) as session:
        for row in session.exec(query).all():
            order = row.meta.get("order") if isinstance(row.meta, dict) else None
            if isinstance(order, int) and order < ranks.get(row.url, order + 1):
                ranks[row.url] = order
    return ranks


def with_search_ranks(
    passages: Sequence[PassageInput], ranks: dict[str, int]
) -> list[PassageInput]:
    """``passages`` with the search rank of their page (matched on the normalised URL)."""

    def rank_of(url: str) -> int | None:
        if url in ranks:
            return ranks[url]
        try:
            return ranks.get(normalize_url(url))
        except BadInput:
            return None

    return [replace(p, search_rank=rank_of(p.url)) for p in passages]
