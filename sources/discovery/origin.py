"""`origin`: the page where the claim was seen, and the pages it links to.

The claim's own URL comes first (rank 0): it is the primary source of what was said. Its
outbound links follow, in page order, because a claim's page usually cites the report,
statement or data it is about. The page is read through the safe fetcher and
`sources.extract` (main-text links; navigation boilerplate is dropped there). When the page
cannot be fetched the URL is still proposed — the fetch step records why it failed.

``origin`` alone uses each claim's origin URL; ``origin=URL`` names the page explicitly.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from evidence.errors import AdapterError
from sources.discovery.base import Adapter, Candidate, DiscoveryRequest
from sources.extract import extract
from sources.results import Fetcher, FetchResult

_WEB_SCHEMES = ("http", "https")


class OriginAdapter(Adapter):
    kind = "origin"
    needs_target = False

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        page = self.base_url or request.origin_url
        if not page:
            return []
        first = self.candidate(page, query=None, rank=0, role="origin")
        try:
            links = await self._links(fetcher, page, request.origin_page)
        except AdapterError as exc:
            return [replace(first, meta={**first.meta, "links_error": str(exc)})]
        proposed = [first]
        for text, url in links:
            if len(proposed) >= request.max_results:
                break
            proposed.append(
                self.candidate(
                    url,
                    query=None,
                    rank=len(proposed),
                    title=text or None,
                    role="link",
                    linked_from=page,
                )
            )
        return proposed

    async def _links(
        self, fetcher: Fetcher, page: str, known: FetchResult | None = None
    ) -> list[tuple[str, str]]:
        if known is not None and known.ok and known.url == page and not known.not_modified:
            result = known
        else:
            result = await self.get(fetcher, page, what="the origin page")
        extraction = extract(
            result.body, url=result.final_url or page, content_type=result.content_type
        )
        seen = {page}
        links = []
        for link in extraction.links:
            if urlsplit(link.url).scheme in _WEB_SCHEMES and link.url not in seen:
                seen.add(link.url)
                links.append((link.text.strip(), link.url))
        return links
