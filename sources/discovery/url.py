"""`url`: one given page, proposed as it is (``--source url=https://…``).

For the page a newsroom already knows bears on the claim: no search, no matching.
"""

from __future__ import annotations

from sources.discovery.base import Adapter, Candidate, DiscoveryRequest
from sources.results import Fetcher


class UrlAdapter(Adapter):
    kind = "url"

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        return [self.candidate(self.base_url, query=None, rank=1, role="given")]
