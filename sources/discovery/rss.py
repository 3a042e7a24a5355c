"""`rss`: an RSS 2.0 or Atom feed, its entries matched against the queries.

The feed is fetched through the safe fetcher and parsed from bytes by feedparser (which
never touches the network when handed bytes). Its entries are ranked by their title and
summary with BM25 against each planned query, and the rankings fused
(`Adapter.rank_listing`); an entry holding too few of a query's terms is not proposed.
"""

from __future__ import annotations

import re
from typing import Any

from sources.discovery.base import Adapter, BadAnswer, Candidate, DiscoveryRequest
from sources.discovery.config import ACCEPT_XML
from sources.results import Fetcher

_TAG = re.compile(r"<[^>]+>")


class RssAdapter(Adapter):
    kind = "rss"

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        result = await self.get(fetcher, self.base_url, accept=ACCEPT_XML, what="the feed")
        entries = parse_feed(self.kind, result.body, base_url=result.final_url or self.base_url)

        def make(position: int, query: str, rank: int, score: float) -> Candidate:
            entry = entries[position]
            return self.candidate(
                entry["link"],
                query=query,
                rank=rank,
                title=entry["title"] or None,
                published=entry["published"],
                score=score,
                feed=self.base_url,
                text=f"{entry['title']} {entry['summary']}".strip(),
            )

        listing = [(e["title"], e["summary"]) for e in entries]
        return self.rank_listing(request, listing, make)


def parse_feed(adapter: str, body: bytes, *, base_url: str) -> list[dict[str, Any]]:
    """Entries with a link, as plain dicts (title, link, summary, published); relative
    links are resolved against ``base_url``."""
    import feedparser  # noqa: PLC0415 - feedparser costs ~0.1 s and only this adapter needs it

    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({type(problem).__name__})" if problem else ""
        raise BadAnswer(adapter, f"the source is not an RSS or Atom feed{detail}.")
    entries = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not isinstance(link, str) or not link:
            continue
        entries.append(
            {
                "title": str(entry.get("title") or ""),
                "link": link,
                "summary": _TAG.sub(" ", str(entry.get("summary") or "")),
                "published": entry.get("published") or entry.get("updated"),
            }
        )
    return entries
