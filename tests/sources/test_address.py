"""The address check: refused with the allowlist empty, passing with it set, pinned."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable

import httpx
import pytest

from evidence.settings import Settings
from sources.address import (
    BlockedAddress,
    PinnedTransport,
    UnresolvableHost,
    check_address,
    numeric_host,
    parse_networks,
    pinned,
    refusal_reason,
    resolve_checked,
)

from .conftest import Servers, fetch_all

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("::ffff:8.8.8.8", "IPv4-mapped"),
    ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("169.254.169.254", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("fc00::1", "private"),
    ("2002:7f00:1::", "embedding 127.0.0.1"),  # 6to4 wrapping loopback
    ("64:ff9b::a00:1", "embedding 10.0.0.1"),  # NAT64 wrapping a private address
    ("192.0.2.1", "private"),  # documentation range
    ("198.18.0.1", "private"),  # benchmarking range
]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_non_public_addresses_are_refused_with_the_allowlist_empty(address: str, why: str) -> None:
    ip = ipaddress.ip_address(address)
    reason = refusal_reason(ip)
    assert reason is not None and why in reason
    with pytest.raises(BlockedAddress) as caught:
        check_address(ip, (), url=f"http://{address}/", host=address)
    assert caught.value.error_kind == "blocked_address"


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert refusal_reason(ip) is None
    check_address(ip, ())


def test_the_allowlist_lets_through_exactly_its_networks() -> None:
    allow = parse_networks(["127.0.0.0/8", "10.5.0.0/16"])
    check_address(ipaddress.ip_address("127.0.0.2"), allow)
    check_address(ipaddress.ip_address("10.5.9.9"), allow)
    with pytest.raises(BlockedAddress):
        check_address(ipaddress.ip_address("10.6.0.1"), allow)
    with pytest.raises(BlockedAddress):
        check_address(ipaddress.ip_address("::1"), allow)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("0", "0.0.0.0"),
        ("[::ffff:7f00:1]", "::ffff:7f00:1"),
        ("127.0.0.1.", "127.0.0.1"),
    ],
)
def test_numeric_host_forms_read_as_the_address_they_denote(host: str, expected: str) -> None:
    assert numeric_host(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("host", ["example.org", "1password.com", "127.0.0.1.nip.io", "x"])
def test_names_are_not_numeric(host: str) -> None:
    assert numeric_host(host) is None


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f.1", "017700000001", "127.1", "0x7f.0.0.1", "0177.0.0.01"]
)
def test_numeric_forms_of_loopback_are_refused(host: str) -> None:
    with pytest.raises(BlockedAddress):
        asyncio.run(resolve_checked(host, 80, ()))


def test_localhost_resolves_and_is_refused() -> None:
    with pytest.raises(BlockedAddress) as caught:
        asyncio.run(resolve_checked("localhost", 80, ()))
    assert "loopback" in str(caught.value)


def test_a_name_that_does_not_resolve_is_a_dns_error() -> None:
    with pytest.raises(UnresolvableHost) as caught:
        asyncio.run(resolve_checked("no-such-host.invalid", 80, ()))
    assert caught.value.error_kind == "dns"


def test_with_the_allowlist_set_a_checked_name_gives_the_address_to_pin() -> None:
    assert asyncio.run(resolve_checked("0x7f.1", 80, parse_networks(["127.0.0.0/8"]))) == (
        "127.0.0.1"
    )


# ---- through the fetcher: nothing reaches a refused address --------------------------------

NUMERIC_URLS = [
    "http://{ip}:{port}/page/{tag}",
    "http://2130706433:{port}/page/{tag}",
    "http://0x7f.1:{port}/page/{tag}",
    "http://017700000001:{port}/page/{tag}",
    "http://127.1:{port}/page/{tag}",
    "http://[::ffff:127.0.0.1]:{port}/page/{tag}",
]


@pytest.mark.parametrize("template", NUMERIC_URLS)
def test_fetcher_refuses_every_loopback_form_with_the_allowlist_empty(
    template: str, servers: Servers, make_settings: Callable[..., Settings]
) -> None:
    tag = f"refused-{NUMERIC_URLS.index(template)}"
    url = template.format(ip="127.0.0.1", port=servers.port(1), tag=tag)
    (result,) = fetch_all(make_settings(allowed_networks=[]), url)
    assert (result.ok, result.error_kind, result.status) == (False, "blocked_address", None)
    assert servers.tracker.hits_for(tag) == []


@pytest.mark.parametrize("template", NUMERIC_URLS[:5])
def test_fetcher_reaches_the_intended_server_with_the_allowlist_set(
    template: str, servers: Servers, make_settings: Callable[..., Settings]
) -> None:
    tag = f"allowed-{NUMERIC_URLS.index(template)}"
    url = template.format(ip="127.0.0.1", port=servers.port(1), tag=tag)
    (result,) = fetch_all(make_settings(allowed_networks=["127.0.0.0/8"]), url)
    assert result.ok, result.error
    assert [h.address for h in servers.tracker.hits_for(tag)] == ["127.0.0.1"]


def test_a_redirect_to_a_refused_address_is_checked_again(
    servers: Servers, make_settings: Callable[..., Settings]
) -> None:
    for target in ("http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data/"):
        url = servers.url(1, f"/redirect?to={target}")
        (result,) = fetch_all(make_settings(), url)
        assert result.error_kind == "blocked_address", result.error
        assert result.redirects == (url,)


def test_a_redirect_to_another_scheme_is_refused(
    servers: Servers, make_settings: Callable[..., Settings]
) -> None:
    (result,) = fetch_all(make_settings(), servers.url(1, "/redirect?to=file:///etc/passwd"))
    assert result.error_kind == "invalid_url"


def test_the_connection_goes_to_the_pinned_address_and_keeps_the_name(servers: Servers) -> None:
    """A name that no resolver knows still reaches the server: only the pin was used."""
    port = servers.port(2)
    url = f"http://pinned.invalid:{port}/page/pinned-name"

    async def get(pin: bool) -> int:
        transport = PinnedTransport(limits=httpx.Limits(max_connections=2))
        async with httpx.AsyncClient(transport=transport) as client:
            if not pin:
                return (await client.get(url)).status_code
            with pinned("pinned.invalid", port, "127.0.0.2"):
                return (await client.get(url)).status_code

    assert asyncio.run(get(pin=True)) == 200
    (hit,) = servers.tracker.hits_for("pinned-name")
    assert (hit.address, hit.headers["Host"]) == ("127.0.0.2", f"pinned.invalid:{port}")
    with pytest.raises(httpx.ConnectError, match="no checked address"):
        asyncio.run(get(pin=False))
