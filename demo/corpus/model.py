"""The shapes of a served corpus: sites, their pages, and where the pages come from.

A page's HTML may hold ``{{url:SITE:/path}}`` placeholders. The server replaces them with
live URLs when it answers, because the port (and so every absolute URL) is only known once
it has bound its sockets. A claim's origin URL may likewise be ``corpus://SITE/path``.

Pages come from a ``PageSource``: the demo corpus keeps its ~30 pages in a dict; a synthetic
benchmark corpus computes each page from its seed on request, so a 20,000-page corpus costs
no memory in the process that measures memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

PLACEHOLDER = re.compile(r"\{\{url:([a-z0-9_-]+):(/[^}]*)\}\}")
CORPUS_SCHEME = "corpus://"


@dataclass(frozen=True)
class Entry:
    """What feeds, sitemaps and the wiki search know about a page (no body)."""

    path: str
    title: str
    summary: str
    published: datetime
    modified: datetime | None = None
    author: str | None = None
    in_feed: bool = True
    in_sitemap: bool = True

    @property
    def updated(self) -> datetime:
        return self.modified or self.published


@dataclass(frozen=True)
class Page:
    entry: Entry
    html: str


class PageSource(Protocol):
    """Where a site's pages come from: a lookup by path and a listing of entries."""

    def get(self, path: str) -> Page | None: ...

    def entries(self) -> Iterable[Entry]: ...


class DictPages:
    """Pages held in memory, keyed by path (the demo corpus)."""

    def __init__(self, pages: Iterable[Page]) -> None:
        self._pages = {page.entry.path: page for page in pages}

    def get(self, path: str) -> Page | None:
        return self._pages.get(path)

    def entries(self) -> Iterator[Entry]:
        return (page.entry for page in self._pages.values())

    def __len__(self) -> int:
        return len(self._pages)


@dataclass
class Site:
    """One fictional outlet, served on its own loopback address."""

    key: str
    name: str
    address: str
    pages: PageSource
    kind: str = "news"
    description: str = ""
    language: str = "en"
    feed_path: str = "/feed.xml"
    feed_format: Literal["rss", "atom"] = "rss"
    sitemap_style: Literal["plain", "index"] = "plain"
    disallow: tuple[str, ...] = ()
    wiki_api: bool = False
    gdelt_api: bool = False  # answers a GDELT DOC 2.0 search over the other sites' news
    domain: str = ""  # the outlet's public host name, as a news search reports it
    country: str = ""


@dataclass
class Corpus:
    """Sites plus the claims whose evidence they hold."""

    sites: list[Site]
    claims: list[dict[str, str]] = field(default_factory=list)

    def site(self, key: str) -> Site:
        for site in self.sites:
            if site.key == key:
                return site
        raise KeyError(key)


def resolve_placeholders(html: str, url_for: Callable[[str, str], str]) -> str:
    """Replace every ``{{url:SITE:/path}}`` with ``url_for(SITE, /path)``."""
    return PLACEHOLDER.sub(lambda m: url_for(m.group(1), m.group(2)), html)


def resolve_corpus_url(value: str, url_for: Callable[[str, str], str]) -> str:
    """``corpus://SITE/path`` -> a live URL; anything else is returned unchanged."""
    if not value.startswith(CORPUS_SCHEME):
        return value
    site, _, path = value[len(CORPUS_SCHEME) :].partition("/")
    return url_for(site, "/" + path)
