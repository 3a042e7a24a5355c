"""`mediawiki`: the search API of any MediaWiki (default: English Wikipedia).

``GET {api}?action=query&list=search&srsearch=QUERY&format=json`` answers
``{"query": {"search": [{"title": ..., "snippet": ..., "timestamp": ...}]}}`` or, on a bad
request, ``{"error": {"code": ..., "info": ...}}``. Page URLs are built from the API's base
the way Wikimedia wikis lay them out: ``https://host/w/api.php`` -> ``https://host/wiki/Title``.

The wiki is sent the plan in CirrusSearch syntax (`sources.discovery.plan.cirrus_query`), one
search per family query, each asking for the adapter's whole budget (``srlimit``; a search
answer costs the same for 40 hits as for 10). The answer's text — the title and the snippet
around the match — travels with each candidate (``meta["text"]``), so the run can rank many
wiki candidates against the claim without fetching them, and fetch only the best.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from sources.discovery.base import (
    Adapter,
    BadAnswer,
    Candidate,
    DiscoveryRequest,
    require_dict,
    require_list,
)
from sources.discovery.config import ACCEPT_JSON, MEDIAWIKI_API, QUERIES_PER_SEARCH
from sources.results import Fetcher

_TAG = re.compile(r"<[^>]+>")


class MediaWikiAdapter(Adapter):
    kind = "mediawiki"
    default_base_url = MEDIAWIKI_API
    needs_target = False

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        per_query = []
        for query in request.queries_for(self.kind)[: QUERIES_PER_SEARCH[self.kind]]:
            hits = await self._search(fetcher, query.query, request.max_results)
            self.searched(query, len(hits))
            per_query.append(
                (
                    query,
                    [
                        self.candidate(
                            page_url(self.base_url, hit["title"]),
                            query=query.query,
                            rank=rank,
                            title=hit["title"],
                            snippet=hit.get("snippet"),
                            timestamp=hit.get("timestamp"),
                            text=f"{hit['title']} {plain(hit.get('snippet'))}".strip(),
                        )
                        for rank, hit in enumerate(hits, start=1)
                    ],
                )
            )
        return self.fuse(per_query, request.max_results)

    async def _search(self, fetcher: Fetcher, query: str, limit: int) -> list[dict[str, Any]]:
        params = {
            "action": "query",
            "list": "search",
            "srsearch": query,
            "srlimit": str(limit),
            "srprop": "snippet|timestamp",
            "format": "json",
            "utf8": "1",
        }
        url = f"{self.base_url}?{urlencode(params)}"
        result = await self.get(fetcher, url, accept=ACCEPT_JSON, what="the wiki search")
        answer = require_dict(self.kind, self.parse_json(result), "the wiki's answer")
        if "error" in answer:
            error = require_dict(self.kind, answer["error"], "the wiki's error")
            raise BadAnswer(self.kind, f"the wiki refused the search: {error.get('info')}.")
        found = require_dict(self.kind, answer.get("query", {}), "the answer's query part")
        hits = require_list(self.kind, found.get("search"), "the search results")
        if not all(isinstance(h, dict) and isinstance(h.get("title"), str) for h in hits):
            raise BadAnswer(self.kind, "a search result has no title.")
        return hits


def plain(snippet: Any) -> str:
    """A search snippet's text without its ``searchmatch`` markup."""
    return html.unescape(_TAG.sub("", snippet)) if isinstance(snippet, str) else ""


def page_url(api_url: str, title: str) -> str:
    """The article URL of ``title`` on the wiki whose API is at ``api_url``."""
    parts = urlsplit(api_url)
    path = parts.path
    prefix = path[: -len("/w/api.php")] if path.endswith("/w/api.php") else path.rsplit("/", 1)[0]
    slug = quote(title.replace(" ", "_"), safe="/:(),'!*@$;")
    return urlunsplit((parts.scheme, parts.netloc, f"{prefix}/wiki/{slug}", "", ""))
