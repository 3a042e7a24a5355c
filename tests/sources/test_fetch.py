"""The fetcher against real local servers: politeness, caps, deadline, retries, redirects."""

from __future__ import annotations

import asyncio
import hashlib
import time
import tracemalloc
import uuid
from collections.abc import Callable

import pytest

from evidence.settings import Settings
from sources.fetch import AsyncFetcher, content_problem, looks_binary
from sources.results import ERROR_KINDS, FetchResult

from .conftest import Servers, fetch_all

SettingsMaker = Callable[..., Settings]


def _token() -> str:
    return uuid.uuid4().hex[:12]


def _one(settings: Settings, url: str, **kwargs: object) -> tuple[FetchResult, float]:
    """Fetch one URL; return the result and the wall time it took."""

    async def run() -> FetchResult:
        async with AsyncFetcher(settings) as fetcher:
            return await fetcher.get(url, **kwargs)  # type: ignore[arg-type]

    started = time.monotonic()
    result = asyncio.run(run())
    return result, time.monotonic() - started


def _peak_memory(settings: Settings, url: str) -> tuple[FetchResult, int]:
    tracemalloc.start()
    try:
        result, _ = _one(settings, url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


# ---- a normal page ------------------------------------------------------------------------


def test_a_page_is_fetched_decoded_digested_and_archived(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = _token()
    result, _ = _one(make_settings(), servers.url(2, f"/page/{tag}"))
    assert result.ok and result.status == 200 and result.error_kind is None
    assert result.text is not None and "Harbour reopens" in result.text
    assert result.sha256 == hashlib.sha256(result.body).hexdigest()
    assert result.byte_count == len(result.body) > 0
    assert result.warc_file and result.warc_offset is not None and result.warc_length
    assert result.headers["content-type"].startswith("text/html")
    assert result.fetched_at is not None and result.elapsed_ms > 0


def test_every_request_carries_the_identifying_user_agent(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = _token()
    agent = f"factcheck-test/{tag} (+https://example.org/contact)"
    _one(make_settings(user_agent=agent), servers.url(2, f"/page/{tag}"))
    (hit,) = servers.tracker.hits_for(tag)
    assert hit.headers["User-Agent"] == agent
    robots = [
        h for h in servers.tracker.hits_for("/robots.txt") if h.headers["User-Agent"] == agent
    ]
    assert len(robots) == 1


@pytest.mark.parametrize("path", ["/gzip-page", "/deflate-page"])
def test_compressed_pages_are_decoded_by_us(
    path: str, servers: Servers, make_settings: SettingsMaker
) -> None:
    result, _ = _one(make_settings(), servers.url(2, path))
    assert result.ok, result.error
    assert result.text is not None and "sea wall" in result.text
    assert result.headers["content-encoding"] in ("gzip", "deflate")


def test_a_wrong_declared_charset_still_decodes(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    result, _ = _one(make_settings(), servers.url(2, "/wrong-charset"))
    assert result.ok and result.text is not None
    assert "café" in result.text and "\ufffd" not in result.text


# ---- politeness ---------------------------------------------------------------------------


def test_requests_to_one_host_are_spaced_while_hosts_run_in_parallel(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = _token()
    delay = 0.4
    urls = [servers.url(n, f"/page/{tag}-{n}-{i}") for n in (2, 3) for i in range(2)]
    results = fetch_all(make_settings(per_host_delay_s=delay), *urls)
    assert all(r.ok for r in results), [r.error for r in results]
    hits = servers.tracker.hits_for(tag)
    by_host = {n: sorted(h.at for h in hits if h.address == f"127.0.0.{n}") for n in (2, 3)}
    for times in by_host.values():
        assert len(times) == 2
        assert times[1] - times[0] >= delay - 0.01
    # side by side: one delay spans all four; one queue for both hosts would need three
    every = sorted(h.at for h in hits)
    assert every[-1] - every[0] < 2 * delay


def test_the_global_concurrency_limit_holds(servers: Servers, make_settings: SettingsMaker) -> None:
    tag = _token()
    urls = [servers.url(n, f"/sleep/{tag}?s=0.25&i={i}") for n in (1, 2, 3) for i in range(2)]
    results = fetch_all(make_settings(fetch_concurrency=2, per_host_concurrency=2), *urls)
    assert all(r.ok for r in results)
    assert servers.tracker.peak[tag] == 2


def test_the_per_host_concurrency_limit_holds(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = _token()
    urls = [servers.url(3, f"/sleep/{tag}?s=0.2&i={i}") for i in range(3)]
    results = fetch_all(make_settings(fetch_concurrency=8, per_host_concurrency=1), *urls)
    assert all(r.ok for r in results)
    assert servers.tracker.peak[tag] == 1


# ---- hostile servers: the right kind, inside the deadline, in bounded memory ---------------


def test_a_slow_drip_cannot_stretch_the_deadline(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    settings = make_settings(fetch_deadline_s=1.0, read_timeout_s=3.0)
    result, elapsed = _one(settings, servers.url(2, "/drip?interval=0.1"))
    assert result.error_kind == "timeout" and not result.ok
    # the drip would go on for 20 s; the 1 s deadline (plus teardown slack) ends it
    assert elapsed >= settings.fetch_deadline_s - 0.5 and elapsed < 2.5
    # what arrived before the deadline is archived, marked as cut short by time
    from evidence.archive import read_record

    assert result.warc_file is not None and result.warc_offset is not None
    response, payload = read_record(
        result.warc_file, result.warc_offset, directory=settings.warc_dir
    )
    assert response.warc_headers["WARC-Truncated"] == "time"
    assert payload


def test_an_endless_body_stops_at_the_cap_in_bounded_memory(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    cap = 1_000_000
    settings = make_settings(max_body_bytes=cap, fetch_deadline_s=10.0)
    started = time.monotonic()
    result, peak = _peak_memory(settings, servers.url(2, "/endless"))
    assert result.error_kind == "too_large" and result.status == 200
    assert result.byte_count <= cap
    assert peak < 6 * cap
    assert time.monotonic() - started < 10.0


def test_a_gzip_bomb_is_refused_in_bounded_memory(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    cap = 1_000_000
    settings = make_settings(max_decompressed_bytes=cap, fetch_deadline_s=10.0)
    started = time.monotonic()
    result, peak = _peak_memory(settings, servers.url(2, "/bomb"))
    assert result.error_kind == "too_large"
    assert "decompresses" in (result.error or "")
    assert peak < 6 * cap  # the bomb inflates to 64 MB
    assert time.monotonic() - started < 10.0


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    result, _ = _one(make_settings(max_body_bytes=100), servers.url(2, "/page/declared"))
    assert result.error_kind == "too_large" and result.byte_count == 0


def test_a_lying_content_length_is_a_protocol_error(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    result, elapsed = _one(make_settings(), servers.url(2, "/lying-length"))
    assert result.error_kind == "protocol"
    assert elapsed < 5.0


@pytest.mark.parametrize("path", ["/binary", "/pdf"])
def test_binary_content_is_not_a_page(
    path: str, servers: Servers, make_settings: SettingsMaker
) -> None:
    result, _ = _one(make_settings(), servers.url(2, path))
    assert result.error_kind == "not_html" and result.status == 200 and not result.ok
    assert result.text is None and result.sha256 is not None


def test_accept_widens_the_usable_types(servers: Servers, make_settings: SettingsMaker) -> None:
    refused, _ = _one(make_settings(), servers.url(2, "/json"))
    assert refused.error_kind == "not_html"
    taken, _ = _one(make_settings(), servers.url(2, "/json"), accept="application/json")
    assert taken.ok and taken.text == '{"answer": 42}'


def test_content_sniffing() -> None:
    assert looks_binary(b"\x89PNG\r\n\x1a\n....")
    assert looks_binary(b"<html>\x00\x01</html>")
    assert not looks_binary("<html>é</html>".encode())
    assert not looks_binary("<html></html>".encode("utf-16"))
    assert content_problem("image/png", b"x", None) is not None
    assert content_problem("image/png", b"\x89PNG", "image/*") is None
    assert content_problem(None, b"<html></html>", None) is None


# ---- status codes and retries -------------------------------------------------------------


def test_5xx_is_retried_then_reported(servers: Servers, make_settings: SettingsMaker) -> None:
    tag = _token()
    settings = make_settings(max_retries=2)
    result, elapsed = _one(settings, servers.url(2, f"/flaky/{tag}?fail=9&code=503"))
    assert result.error_kind == "http_status" and result.status == 503
    assert len(servers.tracker.hits_for(tag)) == 3
    assert elapsed < settings.fetch_deadline_s


@pytest.mark.parametrize("code", [500, 404, 403, 410])
def test_other_errors_are_not_retried(
    code: int, servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = _token()
    result, _ = _one(
        make_settings(max_retries=3), servers.url(2, f"/flaky/{tag}?fail=9&code={code}")
    )
    assert result.error_kind == "http_status" and result.status == code
    assert len(servers.tracker.hits_for(tag)) == 1


def test_429_waits_for_retry_after_then_succeeds(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = _token()
    url = servers.url(2, f"/flaky/{tag}?fail=1&code=429&retry_after=1")
    result, elapsed = _one(make_settings(), url)
    assert result.ok and result.status == 200
    first, second = (h.at for h in servers.tracker.hits_for(tag))
    assert second - first >= 0.99
    assert elapsed < 3.0


def test_a_retry_after_beyond_the_cap_gives_up_at_once(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = _token()
    url = servers.url(2, f"/flaky/{tag}?fail=1&code=429&retry_after=120")
    result, elapsed = _one(make_settings(retry_after_cap_s=5.0), url)
    assert result.error_kind == "http_status" and result.status == 429
    assert len(servers.tracker.hits_for(tag)) == 1 and elapsed < 2.0


def test_a_retry_that_would_pass_the_deadline_is_not_attempted(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    tag = _token()
    url = servers.url(2, f"/flaky/{tag}?fail=1&code=503&retry_after=3")
    result, elapsed = _one(make_settings(fetch_deadline_s=2.0), url)
    assert result.status == 503 and result.error_kind == "http_status"
    assert elapsed < 1.5  # waiting 3 s would pass the 2 s deadline


def test_connection_refused_is_a_connect_error(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    import socket

    with socket.socket() as probe:  # a port on 127.0.0.3 where nothing listens
        probe.bind(("127.0.0.3", 0))
        port = probe.getsockname()[1]
    settings = make_settings(respect_robots=False, max_retries=1)
    result, elapsed = _one(settings, f"http://127.0.0.3:{port}/page")
    assert result.error_kind == "connect" and result.status is None
    assert elapsed < settings.fetch_deadline_s


def test_an_unknown_host_is_a_dns_error(make_settings: SettingsMaker) -> None:
    result, _ = _one(make_settings(), "http://no-such-host.invalid/page")
    assert result.error_kind == "dns"


@pytest.mark.parametrize(
    "url", ["ftp://example.org/x", "not a url", "http:///nohost", "http://u:p@example.org/"]
)
def test_invalid_urls_are_refused(url: str, make_settings: SettingsMaker) -> None:
    result, _ = _one(make_settings(), url)
    assert result.error_kind == "invalid_url" and not result.ok


# ---- redirects ----------------------------------------------------------------------------


def test_redirects_are_followed_by_hand(servers: Servers, make_settings: SettingsMaker) -> None:
    result, _ = _one(make_settings(), servers.url(2, "/chain/3"))
    assert result.ok and result.final_url == servers.url(2, "/page/after-chain")
    assert result.redirects == tuple(servers.url(2, f"/chain/{n}") for n in (3, 2, 1, 0))


def test_too_many_redirects(servers: Servers, make_settings: SettingsMaker) -> None:
    result, _ = _one(make_settings(max_redirects=2), servers.url(2, "/chain/3"))
    assert result.error_kind == "too_many_redirects"
    assert len(result.redirects) == 3  # chain/3, /2 and /1 each redirected


def test_a_redirect_loop_is_detected(servers: Servers, make_settings: SettingsMaker) -> None:
    result, elapsed = _one(make_settings(), servers.url(2, "/loop/a"))
    assert result.error_kind == "redirect_loop"
    assert result.redirects == (servers.url(2, "/loop/a"), servers.url(2, "/loop/b"))
    assert elapsed < 2.0


# ---- conditional GET ----------------------------------------------------------------------


def test_a_conditional_get_answered_304_is_not_modified(
    servers: Servers, make_settings: SettingsMaker
) -> None:
    url = servers.url(2, "/etag")
    first, _ = _one(make_settings(), url)
    assert first.ok and first.headers["etag"] == '"v1"'
    validators = {"If-None-Match": first.headers["etag"]}
    again, _ = _one(make_settings(), url, conditional=validators)
    assert again.ok and again.not_modified and again.status == 304 and again.body == b""


def test_every_outcome_uses_the_vocabulary(servers: Servers, make_settings: SettingsMaker) -> None:
    paths = ["/status/404", "/binary", "/loop/a", "/lying-length", "/page/fine"]
    results = fetch_all(make_settings(), *(servers.url(2, p) for p in paths))
    assert [r.error_kind for r in results] == [
        "http_status",
        "not_html",
        "redirect_loop",
        "protocol",
        None,
    ]
    assert all(r.error_kind is None or r.error_kind in ERROR_KINDS for r in results)
    assert all(r.error for r in results if not r.ok)


def test_archive_false_writes_nothing(servers: Servers, make_settings: SettingsMaker) -> None:
    settings = make_settings()
    result, _ = _one(settings, servers.url(2, "/page/unarchived"), archive=False)
    assert result.ok and result.warc_file is None
