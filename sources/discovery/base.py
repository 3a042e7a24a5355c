"""The one small interface every discovery adapter implements.

An adapter is built from a base URL (so a newsroom can point it at its own mirror) and has
one required method::

    class MyAdapter(Adapter):
        kind = "my-kind"

        async def discover(self, request, fetcher):
            for query in request.queries_for(self.kind):   # the plan in this kind's language
                result = await self.get(fetcher, self.base_url, accept=ACCEPT_JSON)
                ...
            return self.fuse(per_query, request.max_results)   # one ranking, best first

then joins ``ADAPTERS`` in ``sources/discovery/__init__.py``. An adapter that also finds
existing fact-checks overrides ``run`` to return them beside its candidates.

Errors, all ``evidence.errors.AdapterError`` with a ``failure_kind`` that the run records::

    AdapterError
    ├── SourceUnreachable     "fetch":      the source could not be fetched (status, network)
    ├── BadAnswer             "bad_answer": it answered with something we cannot read
    └── AdapterMisconfigured  "config":     missing API key, unusable base URL
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from evidence.errors import AdapterError
from evidence.scoring.fusion import rrf
from evidence.settings import Settings, get_settings
from sources.discovery.match import ListingIndex
from sources.discovery.plan import AdapterQuery, QueryPlan, given
from sources.results import Fetcher, FetchResult

LISTING_DEPTH = 4  # a listing query's ranking is fused down to this many times the budget


class SourceUnreachable(AdapterError):
    failure_kind = "fetch"


class BadAnswer(AdapterError):
    failure_kind = "bad_answer"


class AdapterMisconfigured(AdapterError):
    failure_kind = "config"


@dataclass(frozen=True)
class DiscoveryRequest:
    """What every adapter is asked: the claim, its query plan, where it was seen.

    ``queries`` are the plan's queries as plain strings (what the run records); an adapter
    asks ``queries_for(kind)``, the plan rendered in its own query language. A request built
    from plain strings alone (no ``plan``) sends them as they are (family ``given``)."""

    claim: str
    queries: tuple[str, ...]
    origin_url: str | None = None
    claim_date: date | None = None
    max_results: int = 30  # this adapter's candidate budget (settings.candidate_budgets)
    # the origin page when the caller has already fetched (and archived) it: `origin` reads
    # its links from these bytes instead of asking the site a second time
    origin_page: FetchResult | None = field(default=None, compare=False, repr=False)
    plan: QueryPlan | None = field(default=None, compare=False, repr=False)

    def queries_for(self, kind: str) -> tuple[AdapterQuery, ...]:
        if self.plan is not None:
            return self.plan.for_adapter(kind)
        return given(self.queries, kind)


@dataclass(frozen=True)
class Candidate:
    """A URL worth fetching, and why: which adapter proposed it, from which query, at which
    rank (1 is best; the origin page itself is 0)."""

    url: str
    adapter: str
    query: str | None
    rank: int
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ExistingFactCheck:
    """A fact-check someone already published about this (or a similar) claim."""

    publisher: str | None
    rating: str | None
    url: str
    review_date: date | None
    claim_reviewed: str | None
    claimant: str | None = None


@dataclass(frozen=True)
class Search:
    """One query an adapter sent (or ran over its listing), and how many results came back."""

    family: str
    query: str
    hits: int


@dataclass(frozen=True)
class DiscoveryOutput:
    candidates: tuple[Candidate, ...] = ()
    fact_checks: tuple[ExistingFactCheck, ...] = ()
    searches: tuple[Search, ...] = ()


class Adapter(ABC):
    """Base of every discovery adapter: one kind, one base URL, one required method."""

    kind: ClassVar[str]
    default_base_url: ClassVar[str | None] = None
    needs_target: ClassVar[bool] = True  # False: `KIND` alone is a valid source spec
    target_is_path: ClassVar[bool] = False  # the target is a local path, not a URL

    def __init__(self, base_url: str | None = None, *, settings: Settings | None = None) -> None:
        self.base_url = base_url or self.default_base_url or ""
        self.settings = settings or get_settings()
        self.searches: list[Search] = []  # what `discover` sent, for the search window
        if not self.base_url and self.needs_target:
            raise AdapterMisconfigured(self.kind, "no URL was given for this source.")

    @abstractmethod
    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        """Candidate URLs for ``request``, best first, at most ``request.max_results``."""

    async def run(self, request: DiscoveryRequest, fetcher: Fetcher) -> DiscoveryOutput:
        """Candidates and any existing fact-checks; override only to return the latter.
        The searches are read back from the candidates' ``hits`` unless ``discover``
        recorded them itself (``self.searches``, which also lists queries that found
        nothing)."""
        self.searches = []
        candidates = tuple(await self.discover(request, fetcher))
        return DiscoveryOutput(
            candidates=candidates, searches=tuple(self.searches) or searches_of(candidates)
        )

    def searched(self, query: AdapterQuery, hits: int) -> None:
        """Note that ``query`` was sent and answered with ``hits`` results."""
        self.searches.append(Search(query.family, query.query, hits))

    def rank_listing(
        self,
        request: DiscoveryRequest,
        listing: Iterable[tuple[str, str]],
        make: Callable[[int, str, int, float], Candidate],
    ) -> list[Candidate]:
        """Candidates from a listing without a search API (feed, sitemap, folder): each of
        the plan's queries ranks the (title, text) entries with BM25, and the rankings are
        fused. ``make(position, query, rank, score)`` builds the candidate of an entry."""
        queries = request.queries_for(self.kind)
        index = ListingIndex(listing, (t for q in queries for t in q.terms))
        depth = LISTING_DEPTH * max(request.max_results, 1)  # deeper adds nothing to RRF
        per_query = []
        for query in queries:
            ranked = index.rank(query.terms)
            self.searched(query, len(ranked))
            found = [make(i, query.query, r, score) for r, (i, score) in enumerate(ranked, 1)]
            per_query.append((query, found[:depth]))
        return self.fuse(per_query, request.max_results)

    def fuse(
        self, per_query: Sequence[tuple[AdapterQuery, Sequence[Candidate]]], limit: int
    ) -> list[Candidate]:
        """One list from the queries' results by reciprocal-rank fusion (a page two query
        families agree on comes before the top of one alone), each URL once, at most
        ``limit``. A candidate keeps the query and rank of its best result, and every
        result that found it in ``meta["hits"]`` as ``{family, query, rank}``."""
        hits: dict[str, list[dict[str, Any]]] = {}
        first: dict[str, Candidate] = {}
        for query, results in per_query:
            for c in results:
                hits.setdefault(c.url, []).append(
                    {"family": query.family, "query": query.query, "rank": c.rank}
                )
                first.setdefault(c.url, c)
        rankings = [[c.url for c in sorted(r, key=lambda c: c.rank)] for _, r in per_query]
        out = []
        for url, _ in rrf(rankings)[:limit]:
            best = min(hits[url], key=lambda h: int(h["rank"]))
            c = first[url]
            meta = {**c.meta, "hits": hits[url], "family": best["family"]}
            out.append(Candidate(c.url, c.adapter, best["query"], int(best["rank"]), c.title, meta))
        return out

    def candidate(
        self, url: str, *, query: str | None, rank: int, title: str | None = None, **meta: Any
    ) -> Candidate:
        return Candidate(url=url, adapter=self.kind, query=query, rank=rank, title=title, meta=meta)

    async def get(
        self, fetcher: Fetcher, url: str, *, accept: str | None = None, what: str = "the source"
    ) -> FetchResult:
        """GET through the safe fetcher (not archived: an API answer is not evidence);
        a failed fetch becomes ``SourceUnreachable`` naming ``what`` instead of the URL, so
        an API key in a query string never reaches a message."""
        result = await fetcher.get(url, accept=accept, archive=False)
        if not result.ok:
            reason = result.error or f"HTTP status {result.status}"
            raise SourceUnreachable(self.kind, f"{what} could not be fetched: {reason}")
        return result

    def parse_json(self, result: FetchResult, *, what: str = "the source") -> Any:
        """The JSON body of ``result``; an HTML or malformed answer is a ``BadAnswer``."""
        body = result.body.lstrip()
        try:
            return json.loads(body.decode(_json_encoding(body)))
        except (UnicodeDecodeError, ValueError) as exc:
            shape = "an HTML page" if body[:1] == b"<" else "malformed JSON"
            if not body:
                shape = "an empty body"
            raise BadAnswer(self.kind, f"{what} answered with {shape} instead of JSON.") from exc


def _json_encoding(body: bytes) -> str:
    return "utf-8-sig" if body.startswith(b"\xef\xbb\xbf") else "utf-8"


def require_dict(adapter: str, value: Any, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object; otherwise the answer has the wrong shape."""
    if not isinstance(value, dict):
        raise BadAnswer(adapter, f"{what} is not a JSON object.")
    return value


def require_list(adapter: str, value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadAnswer(adapter, f"{what} is not a JSON list.")
    return value


def searches_of(candidates: Sequence[Candidate]) -> tuple[Search, ...]:
    """The searches behind ``candidates`` (their ``hits``, or their query), in first-seen
    order, each with the number of candidates it found."""
    counts: dict[tuple[str, str], int] = {}
    for c in candidates:
        own = [{"family": "given", "query": c.query}] if c.query else []
        for hit in c.meta.get("hits") or own:
            key = (str(hit["family"]), str(hit["query"]))
            counts[key] = counts.get(key, 0) + 1
    return tuple(Search(family, query, n) for (family, query), n in counts.items())


def interleave(per_query: Sequence[Sequence[Candidate]], limit: int) -> list[Candidate]:
    """Round-robin over the queries' results (the first of each, then the second...), each
    URL once, at most ``limit``: every query gets its best hits in before any gets its
    tenth. Each candidate keeps the rank it had in its own query's results."""
    out: list[Candidate] = []
    seen: set[str] = set()
    depth = max((len(results) for results in per_query), default=0)
    for position in range(depth):
        for results in per_query:
            if position < len(results) and results[position].url not in seen:
                seen.add(results[position].url)
                out.append(results[position])
                if len(out) >= limit:
                    return out
    return out
