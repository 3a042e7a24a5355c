"""Page metadata: title, canonical URL, site name, authors, dates and language.

Each field is read from the sources publishers fill most reliably, best first: schema.org
JSON-LD, then OpenGraph, then other ``<meta>`` conventions (Dublin Core, Parse.ly,
Sailthru…), then the visible page (``<time>``, bylines, ``<h1>``). Dates become timezone-aware
UTC datetimes; a date without a zone is taken as UTC, and text without a year is refused
rather than completed from today's date (extraction never reads the clock).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag
from dateutil import parser as dateparser

from evidence.errors import BadInput
from sources.extract.dates import shown_date, url_date
from sources.extract.jsonld import JsonObject, article_node, names_of, text_of
from sources.extract.tree import Tree, as_tree, attr
from sources.urls import normalize_url

MetaIndex = dict[str, list[str]]

PUBLISHED_OPENGRAPH = ("article:published_time", "og:published_time", "article:published")
PUBLISHED_META = (
    "datepublished",
    "date",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.issued",
    "dcterms.created",
    "dcterms.date",
    "parsely-pub-date",
    "sailthru.date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "pub_date",
    "article.published",
    "article_date_original",
    "originalpublicationdate",
    "citation_publication_date",
    "og:pubdate",
)
MODIFIED_OPENGRAPH = ("article:modified_time", "og:updated_time", "article:modified")
MODIFIED_META = (
    "datemodified",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
    "article.updated",
    "lastmod",
    "revised",
)
AUTHOR_META = (
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "citation_author",
    "byl",
)
SITE_META = ("og:site_name", "application-name", "al:android:app_name", "twitter:app:name:iphone")
LANGUAGE_META = ("content-language", "language", "dc.language", "dcterms.language")
# Where a visible byline sits, best first: (attribute, token it must contain).
BYLINE_MARKERS = (
    ("itemprop", "author"),
    ("rel", "author"),
    ("class", "byline"),
    ("class", "by-line"),
    ("class", "article-byline"),
    ("class", "author-name"),
    ("class", "author"),
)
TIMEZONES = {
    name: hours * 3600
    for name, hours in {
        "UTC": 0, "GMT": 0, "Z": 0, "KST": 9, "JST": 9, "CST": -6, "CDT": -5, "EST": -5,
        "EDT": -4, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "BST": 1, "CET": 1, "CEST": 2,
    }.items()
}  # fmt: skip
# Date parts a string leaves out come from here, never from today's date.
_DATE_DEFAULT = datetime(2000, 1, 1)
_OTHER_DATE_DEFAULT = datetime(2000, 2, 2)
MAX_DATE_CHARS = 80
_HAS_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2[01]\d\d)(?!\d)|^(1[89]|2[01])\d{6}")
_YEAR_RANGE = range(1800, 2200)
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|por|par|von|di|door|written by|reporting by)\s*:?\s+", re.I)
_BYLINE_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\by\b|\bund\b|\bet\b| 및 |·)\s*", re.I)
_NOT_A_NAME = re.compile(
    r"\d|@|https?:|\b(?:press|news|service|agency|staff|correspondent|reporter|editor|writer|"
    r"bureau|updated|published|contributors?|desk|wire|team|times|post)\b",
    re.I,
)
_KOREAN_TITLE = re.compile(r"\s*(?:기자|특파원|선임기자)$")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·»]\s+")
_BREADCRUMB = re.compile(r"\s+[>›»/]\s+")
# A <title> with this many breadcrumb separators ends with the page's own name.
MIN_BREADCRUMB_PARTS = 3
MAX_AUTHOR_CHARS = 80
# How far up from a byline element to look for an enclosing comments section.
MAX_BYLINE_DEPTH = 40


@dataclass(frozen=True)
class PageMeta:
    title: str | None
    canonical_url: str | None
    site_name: str | None
    authors: tuple[str, ...]
    published: datetime | None
    modified: datetime | None
    date_source: str
    language: str | None


def read_metadata(page: BeautifulSoup | Tree, nodes: list[JsonObject], url: str | None) -> PageMeta:
    """Everything about the page that is not its text. ``nodes``: its JSON-LD objects."""
    soup = as_tree(page)
    meta = meta_index(soup)
    article = article_node(nodes)
    site = site_name(meta, article)
    published, published_source = published_date(soup, meta, article, url)
    modified, modified_source = modified_date(soup, meta, article)
    return PageMeta(
        title=page_title(soup, meta, article, site),
        canonical_url=canonical_url(soup, meta, article, url),
        site_name=site,
        authors=authors(soup, meta, article, site),
        published=published,
        modified=modified,
        date_source=published_source if published else modified_source,
        language=language(soup, meta, article),
    )


def meta_index(soup: Tree) -> MetaIndex:
    """``<meta>`` contents by lower-cased name, property, itemprop or http-equiv."""
    index: MetaIndex = {}
    for tag in soup.named("meta"):
        content = tag.get("content")
        if not isinstance(content, str) or not content.strip():
            continue
        for name in ("property", "name", "itemprop", "http-equiv"):
            key = tag.get(name)
            if isinstance(key, str) and key.strip():
                index.setdefault(key.strip().lower(), []).append(content.strip())
    return index


def first_meta(meta: MetaIndex, keys: Iterable[str]) -> str | None:
    for key in keys:
        for value in meta.get(key, []):
            if value:
                return value
    return None


def clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None


def page_title(
    soup: Tree, meta: MetaIndex, article: JsonObject | None, site: str | None
) -> str | None:
    """The headline. JSON-LD's ``headline`` or ``name`` when the visible title confirms it
    (some sites put a summary there), else the ``<h1>`` when the title confirms it, else
    OpenGraph/Twitter, ``<title>`` without the site name, any ``<h1>``."""
    shown = [
        t
        for t in (first_meta(meta, ("og:title", "twitter:title")), _document_title(soup, None))
        if t
    ]
    heading = clean_text(_first_text(soup, "h1"))
    structured = [text_of(article.get(k)) for k in ("headline", "name")] if article else []
    for candidate in [*structured, heading]:
        if candidate and any(candidate.casefold() in t.casefold() for t in shown):
            return clean_text(candidate)
    for candidate in (
        first_meta(meta, ("og:title", "twitter:title", "dc.title")),
        _document_title(soup, site),
        *structured,
        heading,
    ):
        if title := clean_text(candidate):
            return _without_site(title, site)
    return None


def _without_site(title: str, site: str | None) -> str:
    crumbs = _BREADCRUMB.split(title)
    if len(crumbs) >= MIN_BREADCRUMB_PARTS:
        return crumbs[-1]
    if not site:
        return title
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p.casefold() != site.casefold()]
    return " - ".join(parts) if parts else title


def _document_title(soup: Tree, site: str | None) -> str | None:
    title = soup.first("title")
    if not isinstance(title, Tag):
        return None
    text = clean_text(title.get_text())
    return _without_site(text, site) if text else None


def _first_text(soup: Tree, name: str) -> str | None:
    found = soup.first(name)
    return clean_text(found.get_text(" ")) if isinstance(found, Tag) else None


def absolute_http(href: str | None, base: str | None) -> str | None:
    """``href`` made absolute and normalised, or None unless it is an http(s) URL."""
    if not href or not href.strip():
        return None
    try:
        return normalize_url(urljoin(base or "", href.strip()))
    except (BadInput, ValueError):
        return None


def canonical_url(
    soup: Tree, meta: MetaIndex, article: JsonObject | None, url: str | None
) -> str | None:
    """``<link rel=canonical>``, else ``og:url``, else the JSON-LD ``url``; absolute."""
    url = url if absolute_http(url, None) else None  # a garbage page URL resolves nothing
    for link in soup.named("link"):
        rel = link.get("rel")
        rels = rel.split() if isinstance(rel, str) else rel or []
        if "canonical" in [r.lower() for r in rels]:
            href = link.get("href")
            if found := absolute_http(href if isinstance(href, str) else None, url):
                return found
    if found := absolute_http(first_meta(meta, ("og:url", "twitter:url")), url):
        return found
    if article:
        entity = article.get("mainEntityOfPage")
        entity_id = entity.get("@id") if isinstance(entity, dict) else entity
        for value in (article.get("url"), entity_id):
            if found := absolute_http(text_of(value), url):
                return found
    return None


def site_name(meta: MetaIndex, article: JsonObject | None) -> str | None:
    if found := clean_text(first_meta(meta, SITE_META)):
        return found
    publisher = article.get("publisher") if article else None
    return clean_text(text_of(publisher)) if publisher else None


def authors(
    soup: Tree, meta: MetaIndex, article: JsonObject | None, site: str | None
) -> tuple[str, ...]:
    """Author names from the first source that has any: JSON-LD, meta tags, the byline."""
    sources: list[Callable[[], list[str]]] = [
        lambda: names_of(article.get("author")) if article else [],
        lambda: [v for key in AUTHOR_META for v in meta.get(key, [])],
        lambda: _byline_texts(soup),
    ]
    for source in sources:
        names = _clean_names(source(), site)
        if names:
            return names
    return ()


def _byline_elements(soup: Tree) -> list[Tag]:
    """Elements marked as bylines, best marker first, in one pass over the index."""
    found: list[list[Tag]] = [[] for _ in BYLINE_MARKERS]
    for element in soup.tags:
        attrs = element.attrs
        if not attrs:
            continue
        hints = f"{attrs.get('itemprop', '')}{attrs.get('rel', '')}{attrs.get('class', '')}"
        if "author" not in hints.lower() and "by" not in hints.lower():
            continue
        for rank, (key, token) in enumerate(BYLINE_MARKERS):
            if token in attr(element, key).split():
                found[rank].append(element)
                break
    return [element for bucket in found for element in bucket if not _in_comments(element)]


def _byline_texts(soup: Tree) -> list[str]:
    for element in _byline_elements(soup):
        name = element.find(None, {"itemprop": "name"})
        source = name if isinstance(name, Tag) else element
        content = source.get("content")
        if text := clean_text(content if isinstance(content, str) else None):
            return [text]
        if text := clean_text(source.get_text(" ")):
            return [text]
    return []


def _in_comments(element: Tag) -> bool:
    """A commenter's name is not the article's byline."""
    for depth, parent in enumerate(element.parents):
        if depth >= MAX_BYLINE_DEPTH:
            return False
        names = f"{attr(parent, 'class')} {attr(parent, 'id')}"
        if "comment" in names:
            return True
    return False


def _clean_names(values: list[str], site: str | None) -> tuple[str, ...]:
    names: list[str] = []
    for value in values:
        if value.startswith(("http://", "https://")):
            continue
        for part in _BYLINE_SPLIT.split(_BYLINE_PREFIX.sub("", value)):
            name = _KOREAN_TITLE.sub("", part.strip(" .,:;-–—"))
            if _is_name(name, site) and name.casefold() not in {n.casefold() for n in names}:
                names.append(name)
    return tuple(names)


def _is_name(name: str, site: str | None) -> bool:
    if not name or len(name) > MAX_AUTHOR_CHARS or len(name.split()) > 5:
        return False
    if site and name.casefold() == site.casefold():
        return False
    return not _NOT_A_NAME.search(name)


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from the many formats pages use, or None when in doubt."""
    text = clean_text(value)
    if not text or len(text) > MAX_DATE_CHARS:
        return None
    if text.isdigit() and len(text) in (10, 13):  # Unix seconds or milliseconds
        return _from_epoch(int(text[:10]))
    if not _HAS_YEAR.search(text):
        return None
    parsed = _complete_date(text, fuzzy=False) or _complete_date(text, fuzzy=True)
    if parsed is None or parsed.year not in _YEAR_RANGE:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _complete_date(text: str, *, fuzzy: bool) -> datetime | None:
    """The date only if ``text`` names its day and month: parsed against two different
    defaults, a part the text leaves out shows up as a disagreement."""
    first = _dateutil(text, _DATE_DEFAULT, fuzzy=fuzzy)
    second = _dateutil(text, _OTHER_DATE_DEFAULT, fuzzy=fuzzy)
    if first is None or second is None or (first.month, first.day) != (second.month, second.day):
        return None
    return first


def _dateutil(text: str, default: datetime, *, fuzzy: bool) -> datetime | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown zone names: dateutil warns, we go naive
        try:
            parsed: datetime = dateparser.parse(
                text, default=default, tzinfos=TIMEZONES, fuzzy=fuzzy
            )
            return parsed
        except (ValueError, OverflowError, TypeError):
            return None


def _from_epoch(seconds: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _first_date(values: Iterable[str | None]) -> datetime | None:
    for value in values:
        if parsed := parse_date(value):
            return parsed
    return None


def published_date(
    soup: Tree, meta: MetaIndex, article: JsonObject | None, url: str | None = None
) -> tuple[datetime | None, str]:
    """When the page was first published, and which kind of source said so."""
    found, source = _dated(
        [
            ("json-ld", lambda: [text_of(article.get(k)) for k in ("datePublished", "dateCreated")]
             if article else []),
            ("opengraph", lambda: [first_meta(meta, PUBLISHED_OPENGRAPH)]),
            ("meta", lambda: [first_meta(meta, PUBLISHED_META), _parsely_page(meta)]),
            ("time", lambda: _time_values(soup, published=True)),
        ]
    )  # fmt: skip
    if found:
        return found, source
    if found := url_date(url):
        return found, "url"
    if found := shown_date(soup):
        return found, "text"
    return None, "none"


def modified_date(
    soup: Tree, meta: MetaIndex, article: JsonObject | None
) -> tuple[datetime | None, str]:
    return _dated(
        [
            ("json-ld", lambda: [text_of(article.get("dateModified"))] if article else []),
            ("opengraph", lambda: [first_meta(meta, MODIFIED_OPENGRAPH)]),
            ("meta", lambda: [first_meta(meta, MODIFIED_META)]),
            ("time", lambda: _time_values(soup, published=False)),
        ]
    )


def _dated(
    sources: list[tuple[str, Callable[[], list[str | None]]]],
) -> tuple[datetime | None, str]:
    for name, values in sources:
        if found := _first_date(values()):
            return found, name
    return None, "none"


def _parsely_page(meta: MetaIndex) -> str | None:
    """The legacy ``parsely-page`` tag holds JSON with a ``pub_date``."""
    raw = first_meta(meta, ("parsely-page",))
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    value = data.get("pub_date") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _time_values(soup: Tree, *, published: bool) -> list[str | None]:
    """``<time>`` datetimes: the ones marked as publication (or update) time first."""
    marked: list[str | None] = []
    plain: list[str | None] = []
    for element in soup.named("time"):
        value = element.get("datetime")
        text = value if isinstance(value, str) and value.strip() else element.get_text(" ")
        kind = _time_kind(element)
        if kind == ("published" if published else "modified"):
            marked.append(text)
        elif kind is None and published:
            plain.append(text)
    return marked + plain


def _time_kind(element: Tag) -> str | None:
    hints = " ".join(
        str(v) if isinstance(v, str) else " ".join(v)
        for k in ("itemprop", "class", "pubdate", "data-type")
        if (v := element.get(k)) is not None
    ).lower()
    if element.has_attr("pubdate") or re.search(r"datepublished|publish|posted|created", hints):
        return "published"
    if re.search(r"datemodified|modif|updat|revis", hints):
        return "modified"
    return None


def language(soup: Tree, meta: MetaIndex, article: JsonObject | None) -> str | None:
    """A BCP 47 tag ('en', 'ko', 'es-ES') from ``<html lang>``, ``og:locale`` or meta tags."""
    html = soup.first("html")
    candidates = [
        html.get("lang") or html.get("xml:lang") if isinstance(html, Tag) else None,
        first_meta(meta, ("og:locale",)),
        first_meta(meta, LANGUAGE_META),
        text_of(article.get("inLanguage")) if article else None,
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and (tag := normalize_language(candidate)):
            return tag
    return None


def normalize_language(value: str) -> str | None:
    """'en_US' -> 'en-US', 'KO' -> 'ko', 'es-es, en' -> 'es-ES'; None for junk."""
    first = value.split(",")[0].strip().replace("_", "-")
    parts = [p for p in first.split("-") if p]
    if not parts or not re.fullmatch(r"[A-Za-z]{2,3}", parts[0]):
        return None
    out = [parts[0].lower()]
    for part in parts[1:]:
        if re.fullmatch(r"[A-Za-z]{2}|\d{3}", part):
            out.append(part.upper())
        elif re.fullmatch(r"[A-Za-z]{4}", part):
            out.append(part.title())
        else:
            break
    return "-".join(out)
