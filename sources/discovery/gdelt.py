"""`gdelt`: the GDELT DOC 2.0 article search (worldwide news, 65 languages).

``GET {api}?query=Q&mode=ArtList&format=json&maxrecords=N`` answers
``{"articles": [{"url", "title", "seendate", "domain", "language", "sourcecountry"}]}``;
with no hits the body is ``{}`` or empty, and a query GDELT refuses (a keyword too short,
a bad operator) gets a 200 with a plain-text sentence instead of JSON.
With a claim date the search covers GDELT_WINDOW_DAYS either side of it; without one GDELT
searches its default window (the last three months).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sources.discovery.base import (
    Adapter,
    BadAnswer,
    Candidate,
    DiscoveryRequest,
    interleave,
    require_dict,
    require_list,
)
from sources.discovery.config import (
    ACCEPT_JSON,
    GDELT_DOC_API,
    GDELT_WINDOW_DAYS,
    QUERIES_PER_SEARCH,
)
from sources.results import Fetcher

GDELT_MAX_RECORDS = 250  # the API's own ceiling
_MIN_KEYWORD = 3  # GDELT refuses shorter keywords outside quoted phrases
_PHRASE_OR_WORD = re.compile(r'"[^"]+"|[^\s"]+')


class GdeltAdapter(Adapter):
    kind = "gdelt"
    default_base_url = GDELT_DOC_API
    needs_target = False

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        per_query = []
        for query in request.queries[: QUERIES_PER_SEARCH[self.kind]]:
            gdelt_query = to_gdelt_query(query)
            if not gdelt_query:
                continue
            articles = await self._search(fetcher, gdelt_query, request)
            per_query.append(
                [
                    self.candidate(
                        a["url"],
                        query=query,
                        rank=rank,
                        title=a.get("title"),
                        domain=a.get("domain"),
                        language=a.get("language"),
                        seendate=a.get("seendate"),
                    )
                    for rank, a in enumerate(articles, start=1)
                ]
            )
        return interleave(per_query, request.max_results)

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


def to_gdelt_query(query: str) -> str:
    """``query`` as GDELT accepts it: quoted phrases kept, short keywords and punctuation
    dropped (GDELT answers "keyword too short" rather than ignoring them)."""
    kept = []
    for part in _PHRASE_OR_WORD.findall(query):
        if part.startswith('"'):
            kept.append(part)
            continue
        word = re.sub(r"[^\w-]", "", part)
        if len(word) >= _MIN_KEYWORD:
            kept.append(word)
    return " ".join(kept)


def date_window(claim_date: date | None) -> dict[str, str]:
    if claim_date is None:
        return {}
    start = datetime.combine(claim_date - timedelta(days=GDELT_WINDOW_DAYS), time.min)
    end = datetime.combine(claim_date + timedelta(days=GDELT_WINDOW_DAYS), time.max)
    return {
        "startdatetime": start.strftime("%Y%m%d%H%M%S"),
        "enddatetime": end.strftime("%Y%m%d%H%M%S"),
    }
