"""robots.txt: fetched once per origin, parsed with protego, cached with an expiry.

What a robots.txt fetch means follows RFC 9309 section 2.3.1:

- 2xx: the rules apply (the first ``ROBOTS_MAX_BYTES`` are parsed);
- 4xx other than 429 ("unavailable"): no rules, everything is allowed;
- 429, 5xx, or no answer at all ("unreachable"): everything is disallowed, for as long
  as the entry is cached (the run), rather than crawling a site that may be struggling.

Rules are matched for the product token of our User-Agent (``factcheck`` in
``factcheck/0.1 (+https://...)``), not the whole header, so that a group for ``bot``
does not catch us by a substring of the comment.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from evidence.errors import FetchError

ROBOTS_MAX_BYTES = 512_000  # RFC 9309: parse at least 500 KiB
ROBOTS_MAX_CRAWL_DELAY_S = 10.0  # a Crawl-delay above this is clamped, not obeyed


@dataclass(frozen=True)
class RobotsAnswer:
    """What fetching /robots.txt gave: a status and text, or ``status=None`` if unreachable."""

    status: int | None
    text: str = ""
    detail: str = ""  # why it was unreachable


@dataclass(frozen=True)
class RobotsPolicy:
    """The rules for one origin: parsed rules, allow-all or disallow-all, and why."""

    reason: str
    parser: Protego | None = None
    allow_all: bool = False

    def allows(self, url: str, agent: str) -> bool:
        if self.parser is not None:
            return bool(self.parser.can_fetch(url, agent))
        return self.allow_all

    def crawl_delay(self, agent: str) -> float | None:
        delay = self.parser.crawl_delay(agent) if self.parser is not None else None
        return min(float(delay), ROBOTS_MAX_CRAWL_DELAY_S) if delay else None


class RobotsDisallowed(FetchError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, "robots", f"robots.txt disallows {url} ({reason}).")


def product_token(user_agent: str) -> str:
    """``factcheck`` from ``factcheck/0.1 (+https://…)``: the name robots.txt groups use."""
    first = user_agent.strip().split(None, 1)[0] if user_agent.strip() else "*"
    return first.split("/", 1)[0]


def robots_url(url: str) -> str:
    """The robots.txt of the origin (scheme, host, port) of ``url``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def policy_from(answer: RobotsAnswer) -> RobotsPolicy:
    """RFC 9309's reading of a robots.txt fetch outcome. Pure."""
    status = answer.status
    if status is None:
        detail = f": {answer.detail.rstrip('.')}" if answer.detail else ""
        return RobotsPolicy(f"robots.txt unreachable{detail}", allow_all=False)
    if 200 <= status < 300:
        return RobotsPolicy("robots.txt rules", parser=Protego.parse(answer.text))
    if 400 <= status < 500 and status != 429:
        return RobotsPolicy(f"robots.txt unavailable ({status})", allow_all=True)
    return RobotsPolicy(f"robots.txt answered {status}", allow_all=False)


RobotsFetch = Callable[[str], Awaitable[RobotsAnswer]]


@dataclass
class _Entry:
    policy: RobotsPolicy
    expires: float


class RobotsCache:
    """Per-origin robots policies with a TTL; concurrent callers share one fetch."""

    def __init__(
        self,
        fetch: RobotsFetch,
        *,
        user_agent: str,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.agent = product_token(user_agent)
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def policy(self, url: str) -> RobotsPolicy:
        origin = robots_url(url)
        entry = self._entries.get(origin)
        if entry is not None and entry.expires > self._clock():
            return entry.policy
        async with self._locks.setdefault(origin, asyncio.Lock()):
            entry = self._entries.get(origin)
            if entry is None or entry.expires <= self._clock():
                policy = policy_from(await self._fetch(origin))
                entry = _Entry(policy, self._clock() + self._ttl_s)
                self._entries[origin] = entry
        return entry.policy

    async def check(self, url: str) -> RobotsPolicy:
        """Raise RobotsDisallowed when ``url`` may not be fetched; else the policy."""
        policy = await self.policy(url)
        if not policy.allows(url, self.agent):
            raise RobotsDisallowed(url, policy.reason)
        return policy
