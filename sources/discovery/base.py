"""The one small interface every discovery adapter implements.

An adapter is built from a base URL (so a newsroom can point it at its own mirror) and has
one required method::

    class MyAdapter(Adapter):
        kind = "my-kind"

        async def discover(self, request, fetcher):
            result = await self.get(fetcher, self.base_url, accept=ACCEPT_JSON)
            return [Candidate(url=..., adapter=self.kind, query=..., rank=1)]

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from evidence.errors import AdapterError
from evidence.settings import Settings, get_settings
from sources.results import Fetcher, FetchResult


class SourceUnreachable(AdapterError):
    failure_kind = "fetch"


class BadAnswer(AdapterError):
    failure_kind = "bad_answer"


class AdapterMisconfigured(AdapterError):
    failure_kind = "config"


@dataclass(frozen=True)
class DiscoveryRequest:
    """What every adapter is asked: the claim, its planned queries, where it was seen."""

    claim: str
    queries: tuple[str, ...]
    origin_url: str | None = None
    claim_date: date | None = None
    max_results: int = 30  # per adapter; the run caps the total at settings.max_candidates
    # the origin page when the caller has already fetched (and archived) it: `origin` reads
    # its links from these bytes instead of asking the site a second time
    origin_page: FetchResult | None = field(default=None, compare=False, repr=False)


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
class DiscoveryOutput:
    candidates: tuple[Candidate, ...] = ()
    fact_checks: tuple[ExistingFactCheck, ...] = ()


class Adapter(ABC):
    """Base of every discovery adapter: one kind, one base URL, one required method."""

    kind: ClassVar[str]
    default_base_url: ClassVar[str | None] = None
    needs_target: ClassVar[bool] = True  # False: `KIND` alone is a valid source spec
    target_is_path: ClassVar[bool] = False  # the target is a local path, not a URL

    def __init__(self, base_url: str | None = None, *, settings: Settings | None = None) -> None:
        self.base_url = base_url or self.default_base_url or ""
        self.settings = settings or get_settings()
        if not self.base_url and self.needs_target:
            raise AdapterMisconfigured(self.kind, "no URL was given for this source.")

    @abstractmethod
    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        """Candidate URLs for ``request``, best first, at most ``request.max_results``."""

    async def run(self, request: DiscoveryRequest, fetcher: Fetcher) -> DiscoveryOutput:
        """Candidates and any existing fact-checks; override only to return the latter."""
        return DiscoveryOutput(candidates=tuple(await self.discover(request, fetcher)))

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
