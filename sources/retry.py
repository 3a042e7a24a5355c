"""When to try a URL again, and how long to wait first. Pure: the fetcher does the waiting.

Retried: connection failures (refused, reset), 429 and 502/503/504. Never retried: any
other 4xx (asking again will not change the answer) and anything the caps refused.
The wait is exponential backoff with full jitter, unless the server sent Retry-After: that
is honoured when it is at most ``retry_after_cap_s``; a longer one means give up now rather
than hammer a server that asked us to stay away. The fetcher also gives up when the wait
would not fit in what is left of the URL's total deadline.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_ERROR_KINDS = frozenset({"connect"})
BACKOFF_BASE_S = 0.25
BACKOFF_MAX_S = 8.0


def is_retryable(status: int | None, error_kind: str | None) -> bool:
    if error_kind is not None and error_kind != "http_status":
        return error_kind in RETRY_ERROR_KINDS
    return status in RETRY_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Full-jitter exponential backoff for retry number ``attempt`` (0-based)."""
    return rng.uniform(0.0, min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt))


def retry_delay(
    attempt: int,
    *,
    max_retries: int,
    retry_after: float | None,
    cap_s: float,
    remaining_s: float,
    rng: random.Random,
) -> float | None:
    """Seconds to wait before retry ``attempt``, or None to give up."""
    if attempt >= max_retries:
        return None
    if retry_after is not None:
        if retry_after > cap_s:
            return None
        delay = retry_after
    else:
        delay = backoff_delay(attempt, rng)
    return delay if delay < remaining_s else None
