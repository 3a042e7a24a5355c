"""robots.txt: rules obeyed, RFC 9309 failure semantics, one fetch per origin, expiry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from evidence.settings import Settings
from sources.robots import (
    RobotsAnswer,
    RobotsCache,
    RobotsDisallowed,
    policy_from,
    product_token,
    robots_url,
)

from .conftest import Servers, fetch_all

SettingsMaker = Callable[..., Settings]
RULES = "User-agent: *\nDisallow: /private\n\nUser-agent: factcheck\nDisallow: /nofc\n"


def test_rules_are_matched_for_our_product_token() -> None:
    policy = policy_from(RobotsAnswer(200, RULES))
    assert policy.allows("http://h/page", "factcheck")
    assert not policy.allows("http://h/nofc/x", "factcheck")
    # our own group replaces the * group (RFC 9309 2.2.1)
    assert policy.allows("http://h/private/x", "factcheck")
    assert not policy.allows("http://h/private/x", "otherbot")


def test_a_bot_group_does_not_catch_us_by_a_substring_of_the_comment() -> None:
    agent = product_token("factcheck/0.1 (+https://example.org; verification bot)")
    assert agent == "factcheck"
    policy = policy_from(RobotsAnswer(200, "User-agent: bot\nDisallow: /\n"))
    assert policy.allows("http://h/page", agent)


@pytest.mark.parametrize(
    ("status", "allowed"),
    [(404, True), (410, True), (401, True), (403, True), (429, False), (500, False), (503, False)],
)
def test_failure_statuses_follow_rfc_9309(status: int, allowed: bool) -> None:
    assert policy_from(RobotsAnswer(status, "")).allows("http://h/x", "factcheck") is allowed


def test_an_unreachable_robots_txt_disallows_everything() -> None:
    policy = policy_from(RobotsAnswer(None, detail="connection refused"))
    assert not policy.allows("http://h/x", "factcheck")
    assert "connection refused" in policy.reason


def test_robots_url_is_per_origin() -> None:
    assert robots_url("https://Example.org:8443/a/b?c#d") == "https://Example.org:8443/robots.txt"


def test_the_cache_fetches_once_per_origin_and_expires() -> None:
    calls: list[str] = []
    now = [0.0]

    async def fake_fetch(url: str) -> RobotsAnswer:
        calls.append(url)
        await asyncio.sleep(0.01)
        return RobotsAnswer(200, RULES)

    cache = RobotsCache(fake_fetch, user_agent="factcheck/1", ttl_s=60, clock=lambda: now[0])

    async def run() -> None:
        await asyncio.gather(*(cache.check(f"http://a.example/p{i}") for i in range(5)))
        await cache.check("http://b.example/p")
        now[0] = 59.0
        await cache.check("http://a.example/again")
        now[0] = 61.0
        await cache.check("http://a.example/expired")
        with pytest.raises(RobotsDisallowed):
            await cache.check("http://a.example/nofc/x")

    asyncio.run(run())
    assert calls == [
        "http://a.example/robots.txt",
        "http://b.example/robots.txt",
        "http://a.example/robots.txt",
    ]


# ---- through the fetcher against the servers -----------------------------------------------


def test_a_disallowed_page_is_not_fetched_and_says_so(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = uuid.uuid4().hex[:10]
    (result,) = fetch_all(make_settings(), servers.url(1, f"/private/{tag}"))
    assert (result.ok, result.error_kind, result.status) == (False, "robots", None)
    assert "robots.txt" in (result.error or "")
    assert servers.tracker.hits_for(tag) == []


def test_allowed_pages_on_a_host_with_rules_are_fetched(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    (result,) = fetch_all(make_settings(), servers.url(1, "/page/public"))
    assert result.ok


@pytest.mark.parametrize("n", [4, 5])  # 503 robots.txt; connection closed without an answer
def test_an_unreachable_robots_txt_blocks_the_host(
    n: int, servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = uuid.uuid4().hex[:10]
    (result,) = fetch_all(make_settings(max_retries=0), servers.url(n, f"/page/{tag}"))
    assert result.error_kind == "robots"
    assert servers.tracker.hits_for(tag) == []


def test_robots_can_be_switched_off(servers: Servers, make_settings: SettingsMaker) -> None:
    tag = uuid.uuid4().hex[:10]
    (result,) = fetch_all(make_settings(respect_robots=False), servers.url(4, f"/page/{tag}"))
    assert result.ok
    assert len(servers.tracker.hits_for(tag)) == 1


def test_one_robots_fetch_serves_many_pages_of_a_host(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    before = len([h for h in servers.tracker.hits_for("/robots.txt") if h.address == "127.0.0.3"])
    tag = uuid.uuid4().hex[:10]
    results = fetch_all(make_settings(), *(servers.url(3, f"/page/{tag}-{i}") for i in range(4)))
    assert all(r.ok for r in results)
    after = len([h for h in servers.tracker.hits_for("/robots.txt") if h.address == "127.0.0.3"])
    assert after - before == 1
