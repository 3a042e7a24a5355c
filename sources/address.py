"""The address check (SSRF guard): which hosts the fetcher may connect to, and pinning.

A URL's host is resolved once; every address it resolves to is checked; the connection then
goes to the checked address and nowhere else. Pinning is what makes the check hold: were
httpx to resolve the name again, a DNS answer that changed in between (DNS rebinding) would
send the request to an address nobody checked. The pin travels in a context variable from
the code that checked the address to the network backend of the one shared transport::

    ip = await resolve_checked("example.org", 443, allowlist)
    with pinned("example.org", 443, ip):
        await client.send(request)          # connects to ``ip``, SNI and Host stay the name

Refused unless inside ``allowed_networks``: loopback, private, link-local, CGNAT
(100.64.0.0/10), multicast, reserved, unspecified, IPv4-mapped IPv6, cloud metadata
addresses, and anything else not globally routable. Numeric host forms that browsers and
libc accept (``2130706433``, ``0x7f.1``, ``017700000001``, ``127.1``) are read the way
``inet_aton`` reads them, so they are checked as the address they denote.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from evidence.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services (AWS, GCP, Azure, OpenStack; AWS IPv6; Alibaba; Oracle).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_PINS: ContextVar[dict[tuple[str, int], str]] = ContextVar("factcheck_address_pins")


class BlockedAddress(FetchError):
    """The host resolves to an address the fetcher must not reach."""

    def __init__(self, url: str, host: str, address: str, reason: str) -> None:
        self.host = host
        self.address = address
        super().__init__(
            url, "blocked_address", f"The host {host} resolves to {address}, {reason}."
        )


class UnresolvableHost(FetchError):
    def __init__(self, url: str, host: str, detail: str) -> None:
        self.host = host
        super().__init__(url, "dns", f"The host {host} does not resolve ({detail}).")


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The allowlist as networks (settings already validated the CIDR text)."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def numeric_host(host: str) -> IPAddress | None:
    """The address a numeric host denotes, read like ``inet_aton`` (and libc) read it.

    ``ipaddress`` refuses ``127.1`` or ``0x7f.0.0.1``, but the resolver accepts them, so
    a check that used ``ipaddress`` alone would wave them through as names.
    """
    name = host.strip("[]").rstrip(".")
    if not name or any(c.isspace() for c in name):
        return None
    if ":" in name:
        try:
            return ipaddress.IPv6Address(name)
        except ValueError:
            return None
    if not name.isascii() or not name[0].isdigit():
        return None
    if not all(c.isalnum() or c == "." for c in name):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except (OSError, ValueError):
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is refused (without the allowlist), or None when it is public."""
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        embedded = _embedded_ipv4(ip)
        if embedded is not None and (inner := refusal_reason(embedded)):
            return f"an IPv6 address embedding {embedded}, {inner}"
    checks = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a CGNAT address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def check_address(
    ip: IPAddress, allowlist: Sequence[IPNetwork], *, url: str = "", host: str = ""
) -> None:
    """Raise BlockedAddress unless ``ip`` is public or inside the allowlist."""
    if any(ip in net for net in allowlist):
        return
    reason = refusal_reason(ip)
    if reason is not None:
        raise BlockedAddress(url, host or str(ip), str(ip), reason)


async def resolve_checked(
    host: str, port: int, allowlist: Sequence[IPNetwork], *, url: str = ""
) -> str:
    """Resolve ``host`` once, check every address, return the one to connect to.

    A name with any refused address is refused as a whole: a public answer mixed with a
    private one is the usual shape of a rebinding attempt.
    """
    literal = numeric_host(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        addresses = await _resolve(host, port, url)
    for ip in addresses:
        check_address(ip, allowlist, url=url, host=host)
    return str(addresses[0])


async def _resolve(host: str, port: int, url: str) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(url, host, str(exc)) from exc
    seen: dict[str, IPAddress] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]
        seen.setdefault(text, ipaddress.ip_address(text))
    if not seen:
        raise UnresolvableHost(url, host, "no addresses")
    return list(seen.values())


@contextlib.contextmanager
def pinned(host: str, port: int, ip: str) -> Iterator[None]:
    """Within this block, connections to ``host:port`` go to ``ip`` (the checked address)."""
    pins = dict(_PINS.get({}))
    pins[(host.lower(), port)] = ip
    token = _PINS.set(pins)
    try:
        yield
    finally:
        _PINS.reset(token)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to pinned addresses; a connection nobody checked is refused."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        ip = _PINS.get({}).get((host.lower(), port))
        if ip is None:
            raise httpcore.ConnectError(f"no checked address for {host}:{port}")
        return await self._inner.connect_tcp(
            ip, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (so its error mapping stays), on a backend that obeys pins."""

    def __init__(self, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False, retries=0)
        # httpx does not take a network backend, so the pool is rebuilt with the same
        # settings plus ours; proxies are never used (they would bypass the pin).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(httpcore.AnyIOBackend()),
        )
