"""RSS 2.0, Atom 1.0, sitemaps (plain, index, Google News) and robots.txt, as text. Pure.

Each takes entries and a ``url_for(path)`` that makes them absolute, so the same functions
serve the demo corpus and a synthetic one on any port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from demo.corpus.model import Entry

UrlFor = Callable[[str], str]
FEED_LIMIT = 50  # items per feed, as most outlets cap theirs
SITEMAP_PAGE_SIZE = 1000  # URLs per child sitemap of an index (the protocol allows 50,000)
NEWS_SITEMAP_LIMIT = 1000  # the Google News sitemap maximum


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def latest(entries: Iterable[Entry], limit: int = FEED_LIMIT) -> list[Entry]:
    """The newest ``limit`` feed entries, newest first."""
    listed = [e for e in entries if e.in_feed]
    listed.sort(key=lambda e: (e.published, e.path), reverse=True)
    return listed[:limit]


def render_rss(
    *,
    title: str,
    home: str,
    self_url: str,
    description: str,
    language: str,
    entries: Sequence[Entry],
    url_for: UrlFor,
) -> str:
    items = []
    for e in entries:
        link = escape(url_for(e.path))
        author = f"<dc:creator>{escape(e.author)}</dc:creator>" if e.author else ""
        items.append(
            f"<item><title>{escape(e.title)}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid>'
            f"<pubDate>{format_datetime(e.published.astimezone(UTC), usegmt=True)}</pubDate>"
            f"{author}<description>{escape(e.summary)}</description></item>"
        )
    built = max((e.updated for e in entries), default=datetime(2000, 1, 1, tzinfo=UTC))
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>{escape(home)}</link>"
        f"<description>{escape(description)}</description><language>{language}</language>"
        f"<lastBuildDate>{format_datetime(built.astimezone(UTC), usegmt=True)}</lastBuildDate>"
        f'<atom:link href="{escape(self_url)}" rel="self" type="application/rss+xml"/>'
        + "".join(items)
        + "</channel></rss>\n"
    )


def render_atom(
    *,
    title: str,
    home: str,
    self_url: str,
    entries: Sequence[Entry],
    url_for: UrlFor,
    author: str,
) -> str:
    items = []
    for e in entries:
        link = escape(url_for(e.path))
        items.append(
            f"<entry><title>{escape(e.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{link}"/><id>{link}</id>'
            f"<published>{_w3c(e.published)}</published><updated>{_w3c(e.updated)}</updated>"
            f"<author><name>{escape(e.author or author)}</name></author>"
            f"<summary>{escape(e.summary)}</summary></entry>"
        )
    updated = max((e.updated for e in entries), default=datetime(2000, 1, 1, tzinfo=UTC))
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>{escape(home)}</id>"
        f'<link rel="alternate" type="text/html" href="{escape(home)}"/>'
        f'<link rel="self" type="application/atom+xml" href="{escape(self_url)}"/>'
        f"<updated>{_w3c(updated)}</updated><author><name>{escape(author)}</name></author>"
        + "".join(items)
        + "</feed>\n"
    )


def render_urlset(entries: Iterable[Entry], url_for: UrlFor) -> str:
    urls = "".join(
        f"<url><loc>{escape(url_for(e.path))}</loc><lastmod>{_w3c(e.updated)}</lastmod></url>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
    )


def render_index(children: Iterable[tuple[str, datetime]]) -> str:
    maps = "".join(
        f"<sitemap><loc>{escape(loc)}</loc><lastmod>{_w3c(mod)}</lastmod></sitemap>"
        for loc, mod in children
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}'
        "</sitemapindex>\n"
    )


def render_news_sitemap(
    entries: Sequence[Entry], url_for: UrlFor, *, publication: str, language: str
) -> str:
    """A Google News sitemap: the newest articles with their publication and title."""
    urls = "".join(
        f"<url><loc>{escape(url_for(e.path))}</loc><news:news><news:publication>"
        f"<news:name>{escape(publication)}</news:name><news:language>{language}"
        f"</news:language></news:publication><news:publication_date>{_w3c(e.published)}"
        f"</news:publication_date><news:title>{escape(e.title)}</news:title></news:news></url>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>\n'
    )


def render_robots(disallow: Iterable[str], sitemap_url: str) -> str:
    rules = "".join(f"Disallow: {path}\n" for path in disallow) or "Disallow:\n"
    return f"User-agent: *\n{rules}\nSitemap: {sitemap_url}\n"


def chunk(entries: Sequence[Entry], size: int = SITEMAP_PAGE_SIZE) -> list[Sequence[Entry]]:
    """Sitemap pages of at most ``size`` URLs (at least one, possibly empty)."""
    return [entries[i : i + size] for i in range(0, len(entries), size)] or [entries]
