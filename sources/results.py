"""The shapes that cross `sources/`: what a fetch returns and what extraction returns.

Both are plain frozen dataclasses so that they are cheap, picklable (Prefect task results)
and free of I/O. `sources.fetch` produces ``FetchResult``; `sources.extract` produces
``Extraction``; `sources.store` records both in the evidence tables; discovery adapters
take any object with the ``Fetcher`` protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# The error-kind vocabulary of a fetch. Every failed fetch row carries exactly one of these.
ERROR_KINDS: dict[str, str] = {
    "invalid_url": "the URL is not an absolute http(s) URL",
    "blocked_address": "the host resolves to a private, loopback, reserved or metadata address",
    "dns": "the host name does not resolve",
    "connect": "the connection could not be made (refused, reset, TLS)",
    "timeout": "a connect or read timeout, or the total deadline per URL, ran out",
    "too_large": "the body or its decompressed form exceeded the cap",
    "robots": "robots.txt disallows the URL for our User-Agent",
    "http_status": "the server answered with a 4xx or 5xx status",
    "redirect_loop": "a redirect went back to a URL already visited",
    "too_many_redirects": "more redirect hops than allowed",
    "not_html": "the content type is not an HTML or text page",
    "decode": "the body could not be decoded or decompressed",
    "protocol": "the server broke HTTP (lying Content-Length, bad chunking)",
}


@dataclass(frozen=True)
class FetchResult:
    """One URL's outcome. ``ok`` is true for a 2xx HTML/text page and for a 304."""

    url: str
    ok: bool
    status: int | None = None
    final_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # selected, lower-case names
    content_type: str | None = None
    body: bytes = b""
    text: str | None = None  # decoded body (sources.decode)
    encoding: str | None = None
    sha256: str | None = None  # of the payload as received (decompressed body)
    byte_count: int = 0
    elapsed_ms: float = 0.0
    not_modified: bool = False
    error_kind: str | None = None  # a key of ERROR_KINDS
    error: str | None = None  # one plain sentence
    redirects: tuple[str, ...] = ()
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    fetched_at: datetime | None = None


class Fetcher(Protocol):
    """What discovery adapters and flows need: a safe, polite GET (sources.fetch.AsyncFetcher).

    ``conditional`` carries If-None-Match / If-Modified-Since validators (nightly re-fetch).
    """

    async def get(
        self,
        url: str,
        *,
        accept: str | None = None,
        archive: bool = True,
        conditional: Mapping[str, str] | None = None,
    ) -> FetchResult: ...


@dataclass(frozen=True)
class PassageSpan:
    """A citable passage: ``text == main_text[start:end]``; ``id`` is stable across runs."""

    id: str
    ordinal: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass(frozen=True)
class ClaimReviewInfo:
    """An existing fact-check embedded in a page as schema.org ClaimReview JSON-LD."""

    claim_reviewed: str | None
    rating: str | None  # alternateName, or ratingValue/bestRating as text
    rating_value: str | None
    author: str | None
    url: str | None
    date_published: str | None
    item_reviewed_author: str | None = None


@dataclass(frozen=True)
class Extraction:
    """Everything `sources.extract.extract` finds in one page. Pure data."""

    url: str | None
    title: str | None
    canonical_url: str | None
    site_name: str | None
    authors: tuple[str, ...]
    published: datetime | None
    modified: datetime | None
    date_source: str | None  # json-ld | opengraph | meta | time | none
    language: str | None
    text: str  # main text, boilerplate removed
    passages: tuple[PassageSpan, ...]
    links: tuple[Link, ...]
    claim_reviews: tuple[ClaimReviewInfo, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "canonical_url": self.canonical_url,
            "site_name": self.site_name,
            "authors": list(self.authors),
            "published": self.published.isoformat() if self.published else None,
            "modified": self.modified.isoformat() if self.modified else None,
            "date_source": self.date_source,
            "language": self.language,
            "text": self.text,
            "passages": [
                {"id": p.id, "ordinal": p.ordinal, "text": p.text, "start": p.start, "end": p.end}
                for p in self.passages
            ],
            "links": [{"url": link.url, "text": link.text} for link in self.links],
            "claim_reviews": [vars(c) for c in self.claim_reviews],
        }
