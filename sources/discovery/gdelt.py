"""`gdelt`: the GDELT DOC 2.0 article search (worldwide news, 65 languages).

``GET {api}?query=Q&mode=ArtList&format=json&maxrecords=N`` answers
``{"articles": [{"url", "title", "seendate", "domain", "language", "sourcecountry"}]}``;
with no hits the body is ``{}`` or empty, and a query GDELT refuses (a keyword too short,
a bad operator) gets a 200 with a plain-text sentence instead of JSON.

GDELT ANDs every keyword, so it is sent the plan's short family queries (2–4 terms, one
``(a OR b)`` group for the refutation family; `sources.discovery.plan.gdelt_query`), never
one long keyword string that matches a single article. With a claim date the search covers
the news window of `sources.discovery.plan.search_dates` (years before the claim to weeks
after it); without one GDELT searches its default window (the last three months).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from sources.discovery.base import (
    Adapter,
    BadAnswer,
    Candidate,
    DiscoveryRequest,
    require_dict,
    require_list,
)
from sources.discovery.config import ACCEPT_JSON, GDELT_DOC_API, QUERIES_PER_SEARCH
from sources.discovery.plan import search_dates, to_gdelt_query
from sources.results import Fetcher

GDELT_MAX_RECORDS = 250  # the API's own ceiling
__all__ = ["GdeltAdapter", "date_window", "to_gdelt_query"]


class GdeltAdapter(Adapter):
    kind = "gdelt"
    default_base_url = GDELT_DOC_API
    needs_target = False

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        per_query = []
        for query in request.queries_for(self.kind)[: QUERIES_PER_SEARCH[self.kind]]:
            articles = await self._search(fetcher, query.query, request)
            self.searched(query, len(articles))
            per_query.append(
                (
                    query,
                    [
                        self.candidate(
                            a["url"],
                            query=query.query,
                            rank=rank,
                            title=a.get("title"),
                            domain=a.get("domain"),
                            language=a.get("language"),
                            seendate=a.get("seendate"),
                        )
                        for rank, a in enumerate(articles, start=1)
                    ],
                )
            )
        return self.fuse(per_query, request.max_results)

    async def _search(
        self, fetcher: Fetcher, query: str, request: DiscoveryRequest
    ) -> list[dict[str, Any]]:
        params = {
            "query": query,
            "mode": "ArtList",
            "format": "json",
            "maxrecords": str(min(request.max_results, GDELT_MAX_RECORDS)),
            **date_window(request.claim_date),
        }
        url = f"{self.base_url}?{urlencode(params)}"
        result = await self.get(fetcher, url, accept=ACCEPT_JSON, what="the GDELT search")
        body = result.body.strip()
        if not body:
            return []
        if not body.startswith((b"{", b"[")) and not body.startswith(b"<"):
            refusal = body[:200].decode("utf-8", "replace").strip()
            raise BadAnswer(self.kind, f"GDELT refused the query: {refusal}")
        answer = require_dict(self.kind, self.parse_json(result, what="GDELT"), "GDELT's answer")
        articles = require_list(self.kind, answer.get("articles"), "the articles")
        if not all(isinstance(a, dict) and isinstance(a.get("url"), str) for a in articles):
            raise BadAnswer(self.kind, "an article in GDELT's answer has no URL.")
        return articles


def date_window(claim_date: date | None) -> dict[str, str]:
    """GDELT's ``startdatetime``/``enddatetime`` for the news window around ``claim_date``."""
    span = search_dates(claim_date)
    if span is None:
        return {}
    start = datetime.combine(span[0], time.min)
    end = datetime.combine(span[1], time.max)
    return {
        "startdatetime": start.strftime("%Y%m%d%H%M%S"),
        "enddatetime": end.strftime("%Y%m%d%H%M%S"),
    }
