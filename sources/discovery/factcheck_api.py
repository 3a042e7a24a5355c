"""`factcheck-api`: Google Fact Check Tools claim search — fact-checks already published.

``GET {api}?query=Q&key=KEY&pageSize=N`` answers
``{"claims": [{"text", "claimant", "claimDate", "claimReview": [{"publisher": {"name",
"site"}, "url", "title", "reviewDate", "textualRating", "languageCode"}]}]}`` (``{}`` when
nothing matches) and ``{"error": {"code", "message", "status"}}`` with a 4xx on a bad key.
Each review becomes an ``ExistingFactCheck`` (recorded in the fact_check table) and its page a
candidate. The search is sent the plan's origin and topic queries as plain text (its
relevance ranking wants neither correction words nor quotes). The key (setting
``factcheck_api_key``) travels in the query string, as the API requires; it is kept out of
every message this module writes.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sources.discovery.base import (
    Adapter,
    AdapterMisconfigured,
    BadAnswer,
    Candidate,
    DiscoveryOutput,
    DiscoveryRequest,
    ExistingFactCheck,
    SourceUnreachable,
    require_dict,
    require_list,
)
from sources.discovery.config import ACCEPT_JSON, FACTCHECK_SEARCH_API, QUERIES_PER_SEARCH
from sources.results import Fetcher, FetchResult


class FactCheckApiAdapter(Adapter):
    kind = "factcheck-api"
    default_base_url = FACTCHECK_SEARCH_API
    needs_target = False

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        return list((await self.run(request, fetcher)).candidates)

    async def run(self, request: DiscoveryRequest, fetcher: Fetcher) -> DiscoveryOutput:
        key = self.settings.factcheck_api_key
        if not key:
            raise AdapterMisconfigured(
                self.kind, "no API key is set; set FACTCHECK_FACTCHECK_API_KEY."
            )
        candidates: list[Candidate] = []
        checks: list[ExistingFactCheck] = []
        seen: set[str] = set()
        self.searches = []
        for planned in request.queries_for(self.kind)[: QUERIES_PER_SEARCH[self.kind]]:
            query = planned.query
            claims = await self._search(fetcher, query, key, request.max_results)
            self.searched(planned, len(claims))
            for claim in claims:
                for review in _reviews(claim):
                    if review.url in seen:
                        continue
                    seen.add(review.url)
                    checks.append(review)
                    candidates.append(
                        self.candidate(
                            review.url,
                            query=query,
                            rank=len(candidates) + 1,
                            title=review.claim_reviewed,
                            publisher=review.publisher,
                            rating=review.rating,
                            fact_check=True,
                            family=planned.family,
                        )
                    )
        limit = request.max_results
        return DiscoveryOutput(
            tuple(candidates[:limit]), tuple(checks[:limit]), tuple(self.searches)
        )

    async def _search(
        self, fetcher: Fetcher, query: str, key: str, limit: int
    ) -> list[dict[str, Any]]:
        params = {"query": query, "pageSize": str(limit), "key": key}
        result = await fetcher.get(
            f"{self.base_url}?{urlencode(params)}", accept=ACCEPT_JSON, archive=False
        )
        if not result.ok:
            reason = _api_error(result) or result.error or f"HTTP status {result.status}"
            message = f"the fact-check search could not be fetched: {reason}"
            raise SourceUnreachable(self.kind, message.replace(key, "***"))
        answer = require_dict(
            self.kind, self.parse_json(result, what="the fact-check search"), "its answer"
        )
        claims = require_list(self.kind, answer.get("claims"), "the claims")
        if not all(isinstance(c, dict) for c in claims):
            raise BadAnswer(self.kind, "a claim in the answer is not a JSON object.")
        return claims


def _api_error(result: FetchResult) -> str | None:
    """The API's own error sentence from a 4xx/5xx JSON body, when there is one."""
    try:
        error = json.loads(result.body)["error"]
        return f"{error['message']} (HTTP {error['code']})"
    except (ValueError, KeyError, TypeError):
        return None


def _reviews(claim: dict[str, Any]) -> list[ExistingFactCheck]:
    reviews = claim.get("claimReview")
    if not isinstance(reviews, list):
        return []
    out = []
    for review in reviews:
        if not isinstance(review, dict) or not isinstance(review.get("url"), str):
            continue
        publisher = review.get("publisher")
        publisher = publisher if isinstance(publisher, dict) else {}
        out.append(
            ExistingFactCheck(
                publisher=_text(publisher.get("name")) or _text(publisher.get("site")),
                rating=_text(review.get("textualRating")),
                url=review["url"],
                review_date=_date(review.get("reviewDate")),
                claim_reviewed=_text(claim.get("text")),
                claimant=_text(claim.get("claimant")),
            )
        )
    return out


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
