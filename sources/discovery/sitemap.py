"""`sitemap`: a site's sitemap.xml — URL sets, sitemap indexes and Google news sitemaps.

Entries are ranked with BM25 against each planned query by their words — the ``news:title``
of a news sitemap when there is one, and always the words of the URL path (news URLs carry
their headline as a slug) — and the rankings fused (`Adapter.rank_listing`). Sitemap
indexes are followed breadth-first, newest child first, at most SITEMAP_MAX_DEPTH deep and
SITEMAP_MAX_CHILDREN files in all; each file is read up to SITEMAP_MAX_URLS entries, and
SITEMAP_MAX_ENTRIES in all. XML is parsed with lxml without
entity expansion, DTD loading or network access, so a hostile sitemap cannot expand entities
or reach another host; gzip-compressed sitemaps are inflated up to the decompression cap.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lxml import etree

from evidence.errors import AdapterError
from sources.discovery.base import (
    Adapter,
    BadAnswer,
    Candidate,
    DiscoveryRequest,
    SourceUnreachable,
)
from sources.discovery.config import (
    ACCEPT_XML,
    SITEMAP_MAX_CHILDREN,
    SITEMAP_MAX_DEPTH,
    SITEMAP_MAX_ENTRIES,
    SITEMAP_MAX_URLS,
)
from sources.results import Fetcher

log = logging.getLogger(__name__)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: str | None = None
    title: str | None = None  # news:title
    published: str | None = None  # news:publication_date


@dataclass(frozen=True)
class ParsedSitemap:
    entries: tuple[SitemapEntry, ...] = ()
    children: tuple[SitemapEntry, ...] = ()  # of a sitemap index


class SitemapAdapter(Adapter):
    kind = "sitemap"
    max_depth = SITEMAP_MAX_DEPTH
    max_children = SITEMAP_MAX_CHILDREN
    max_entries = SITEMAP_MAX_ENTRIES

    async def discover(self, request: DiscoveryRequest, fetcher: Fetcher) -> list[Candidate]:
        entries = await self._collect(fetcher)
        # parsing and matching 100,000 entries takes seconds: off the event loop, so the
        # other adapters' requests and time budgets keep running meanwhile
        return await asyncio.to_thread(self._match, entries, request)

    def _match(self, entries: list[SitemapEntry], request: DiscoveryRequest) -> list[Candidate]:
        def make(position: int, query: str, rank: int, score: float) -> Candidate:
            entry = entries[position]
            return self.candidate(
                entry.loc,
                query=query,
                rank=rank,
                title=entry.title,
                lastmod=entry.lastmod,
                published=entry.published,
                score=score,
                sitemap=self.base_url,
                text=f"{entry.title or ''} {url_words(entry.loc)}".strip(),
            )

        listing = [(e.title or "", url_words(e.loc)) for e in entries]
        return self.rank_listing(request, listing, make)

    async def _collect(self, fetcher: Fetcher) -> list[SitemapEntry]:
        """Entries of the sitemap and, breadth-first, of the sitemaps it indexes. A child
        that fails is logged and skipped; the top-level sitemap failing fails the adapter."""
        queue: list[tuple[str, int]] = [(self.base_url, 0)]
        entries: list[SitemapEntry] = []
        files = 0
        while queue and files <= self.max_children and len(entries) < self.max_entries:
            url, depth = queue.pop(0)
            files += 1
            try:
                parsed = await self._read(fetcher, url)
            except AdapterError as exc:
                if depth == 0:
                    raise
                log.warning("sitemap %s skipped: %s", url, exc)
                continue
            entries.extend(parsed.entries[: self.max_entries - len(entries)])
            if depth < self.max_depth:
                newest = sorted(parsed.children, key=lambda c: c.lastmod or "", reverse=True)
                queue.extend((child.loc, depth + 1) for child in newest)
        return entries

    async def _read(self, fetcher: Fetcher, url: str) -> ParsedSitemap:
        result = await fetcher.get(url, accept=ACCEPT_XML, archive=False)
        # the page fetcher refuses binary bodies, but a sitemap.xml.gz is one we asked for
        gzipped = result.error_kind == "not_html" and result.body.startswith(_GZIP_MAGIC)
        if not result.ok and not gzipped:
            reason = result.error or f"HTTP status {result.status}"
            raise SourceUnreachable(self.kind, f"the sitemap could not be fetched: {reason}")
        body = inflate(self.kind, result.body, self.settings.max_decompressed_bytes)
        return await asyncio.to_thread(parse_sitemap, self.kind, body)


def inflate(adapter: str, body: bytes, limit: int) -> bytes:
    """A gzip-compressed sitemap file (``sitemap.xml.gz``) inflated, at most ``limit``."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, limit)
    except zlib.error as exc:
        raise BadAnswer(adapter, "the gzip-compressed sitemap is corrupt.") from exc
    if inflater.unconsumed_tail:
        raise BadAnswer(adapter, f"the sitemap inflates past {limit} bytes.")
    if not inflater.eof:
        raise BadAnswer(adapter, "the gzip-compressed sitemap is corrupt or cut short.")
    return out


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_sitemap(adapter: str, body: bytes, *, max_urls: int = SITEMAP_MAX_URLS) -> ParsedSitemap:
    """A ``<urlset>`` (entries) or a ``<sitemapindex>`` (children). Pure."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise BadAnswer(adapter, f"the sitemap is not well-formed XML ({exc.msg}).") from exc
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise BadAnswer(adapter, f"the document is a <{kind}>, not a sitemap.")
    items = []
    for element in root:
        if not isinstance(element.tag, str):
            continue  # an entity reference left unexpanded
        entry = _entry(element)
        if entry is not None:
            items.append(entry)
        if len(items) >= max_urls:
            break
    if kind == "sitemapindex":
        return ParsedSitemap(children=tuple(items))
    return ParsedSitemap(entries=tuple(items))


def _entry(element: etree._Element) -> SitemapEntry | None:
    fields: dict[str, str] = {}
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        name = etree.QName(node).localname
        if name in ("loc", "lastmod", "title", "publication_date") and name not in fields:
            fields[name] = (node.text or "").strip()
    loc = fields.get("loc")
    if not loc:
        return None
    return SitemapEntry(
        loc=loc,
        lastmod=fields.get("lastmod") or None,
        title=fields.get("title") or None,
        published=fields.get("publication_date") or None,
    )


def url_words(url: str) -> str:
    """The words of a URL's path: /2018/03/north-korea-offers-talks.html -> 2018 03 north
    korea offers talks."""
    path = unquote(urlsplit(url).path)
    for suffix in (".html", ".htm", ".php", ".aspx", ".shtml"):
        path = path.removesuffix(suffix)
    return " ".join(path.replace("/", " ").replace("-", " ").replace("_", " ").split())
