"""URL normalisation: one page, one key, before fetching and when recording documents.

Fragments, tracking parameters and default ports are dropped; the scheme and host are
lower-cased; query parameters are sorted. Pure.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from evidence.errors import BadInput

TRACKING_PARAMS = frozenset(
    {
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_id",
        "utm_name",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ref_src",
        "_ga",
        "yclid",
        "ocid",
        "cmpid",
        "smid",
        "ncid",
    }
)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str, base: str | None = None) -> str:
    """The canonical form of an http(s) URL; raises BadInput for anything else."""

    raw = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise BadInput(f"The URL {url!r} is not an absolute http(s) URL.")
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as exc:
        raise BadInput(f"The URL {url!r} has an invalid port.") from exc
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        raise BadInput(f"The URL {url!r} carries credentials; they are not fetched.")
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in TRACKING_PARAMS
        )
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def site_of(url: str) -> str:
    """The registrable-ish site of a URL (host without a leading www.), for diversity caps."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
