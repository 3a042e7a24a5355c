"""Small builders shared by the discovery tests."""

from __future__ import annotations

from typing import Any

from sources.discovery.base import DiscoveryRequest


def request_for(*queries: str, **kw: Any) -> DiscoveryRequest:
    """A discovery request with the given queries (the claim defaults to the first)."""
    claim = kw.pop("claim", queries[0] if queries else "")
    return DiscoveryRequest(claim=claim, queries=tuple(queries), **kw)
