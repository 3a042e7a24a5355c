"""How many requests may be in flight, globally and per host, and how far apart per host.

One ``Politeness`` per fetcher. A request takes, in order: a slot of its host (at most
``per_host_concurrency`` in flight), a global slot (at most ``fetch_concurrency``), and then
the host's next start time, which keeps request starts to one host at least
``per_host_delay_s`` apart. The host slot comes first so that requests queued behind a busy
host never sit on global slots that other hosts could use; the start time is reserved last,
right before the request goes out, so the spacing holds between the starts themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0
    delay_s: float = 0.0


class Politeness:
    """Global and per-host concurrency plus a minimum delay between starts to one host."""

    def __init__(self, *, concurrency: int, per_host: int, delay_s: float) -> None:
        self._global = asyncio.Semaphore(max(1, concurrency))
        self._per_host = max(1, per_host)
        self._delay_s = max(0.0, delay_s)
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = _Host(asyncio.Semaphore(self._per_host), delay_s=self._delay_s)
            self._hosts[host] = state
        return state

    def set_delay(self, host: str, delay_s: float) -> None:
        """Raise one host's delay (robots.txt Crawl-delay); never below the setting."""
        state = self._host(host.lower())
        state.delay_s = max(self._delay_s, delay_s)

    @contextlib.asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold a request slot for ``host``; the body of the block is the request."""
        state = self._host(host.lower())
        async with state.slots, self._global:
            await self._wait_turn(state)
            yield

    @staticmethod
    async def _wait_turn(state: _Host) -> None:
        # no await between reading and moving next_start: the reservation is atomic
        now = asyncio.get_running_loop().time()
        start = max(now, state.next_start)
        state.next_start = start + state.delay_s
        if start > now:
            await asyncio.sleep(start - now)
