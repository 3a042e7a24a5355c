"""Embedded schema.org JSON-LD: tolerant parsing, flattening, and ClaimReview records.

Publishers get JSON-LD wrong in every way: a list at the top, an ``@graph``, objects nested
under ``mainEntity``, HTML comments or CDATA around the JSON, trailing commas, two objects
pasted into one script. Each script is parsed on its own and a broken one is skipped, so one
bad block never hides a good one. Pure; walks are iterative and capped (hostile input).
"""

from __future__ import annotations

import html
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from bs4 import BeautifulSoup

from sources.extract.tree import Tree, as_tree
from sources.results import ClaimReviewInfo

JsonObject = dict[str, Any]

JSONLD_MIME = "application/ld+json"
# How many objects one page may contribute: bounds time on generated or hostile pages.
MAX_NODES = 5_000
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenews",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "scholarlyarticle",
        "techarticle",
        "report",
        "claimreview",
        "pressrelease",
    }
)

_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def jsonld_scripts(page: BeautifulSoup | Tree) -> Iterator[str]:
    """The text of every ``<script type="application/ld+json">``."""
    for script in as_tree(page).named("script"):
        if _is_jsonld(script.get("type")):
            yield script.get_text()


def _is_jsonld(type_attr: object) -> bool:
    return isinstance(type_attr, str) and type_attr.split(";")[0].strip().lower() == JSONLD_MIME


def parse_documents(raw: str) -> list[Any]:
    """The JSON values in one script's text; [] when nothing in it can be repaired."""
    text = _WRAPPERS.sub("", raw.strip()).strip()
    if not text:
        return []
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        values = _decode_all(candidate)
        if values:
            return values
    return []


def _decode_all(text: str) -> list[Any]:
    """Every JSON value pasted one after another in ``text`` (``{…}{…}`` happens)."""
    decoder = json.JSONDecoder(strict=False)
    values: list[Any] = []
    position = 0
    while position < len(text):
        try:
            value, position = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            return values
        values.append(value)
        while position < len(text) and text[position] in " \t\r\n;,":
            position += 1
    return values


def flatten(values: Iterable[Any]) -> list[JsonObject]:
    """Every JSON object inside ``values``, breadth first (top-level objects come first)."""
    found: list[JsonObject] = []
    queue: deque[Any] = deque(values)
    while queue and len(found) < MAX_NODES:
        value = queue.popleft()
        if isinstance(value, dict):
            found.append(value)
            queue.extend(v for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            queue.extend(v for v in value if isinstance(v, dict | list))
    return found


def jsonld_nodes(soup: BeautifulSoup | Tree) -> list[JsonObject]:
    """All objects of all JSON-LD scripts in the page, in document order, top level first."""
    nodes: list[JsonObject] = []
    for raw in jsonld_scripts(soup):
        nodes.extend(flatten(parse_documents(raw)))
        if len(nodes) >= MAX_NODES:
            break
    return nodes[:MAX_NODES]


def types_of(node: JsonObject) -> set[str]:
    """``@type`` as lower-case local names: 'schema:NewsArticle' and a full IRI agree."""
    raw = node.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return {re.split(r"[/:#]", n)[-1].lower() for n in names if isinstance(n, str) and n}


def of_type(nodes: Iterable[JsonObject], *names: str) -> list[JsonObject]:
    wanted = {n.lower() for n in names}
    return [n for n in nodes if types_of(n) & wanted]


def article_node(nodes: list[JsonObject]) -> JsonObject | None:
    """The node describing the page's article: an article type, else a ClaimReview (a
    fact-check page's review is dated by day only), else anything with a headline."""
    for wanted in (ARTICLE_TYPES - {"claimreview"}, {"claimreview"}):
        for node in nodes:
            if types_of(node) & wanted:
                return node
    for node in nodes:
        if "headline" in node or "datePublished" in node:
            return node
    return None


def text_of(value: Any) -> str | None:
    """A plain string from a JSON-LD value: a string, a number, ``{name|@value}`` or a list."""
    if isinstance(value, list):
        return next((t for t in map(text_of, value) if t), None)
    if isinstance(value, dict):
        return text_of(value.get("name") or value.get("@value") or value.get("text"))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, str):
        cleaned = " ".join(html.unescape(value).split())
        return cleaned or None
    return None


def names_of(value: Any) -> list[str]:
    """Person or organisation names from an ``author``-like value (string, object, list)."""
    items = value if isinstance(value, list) else [value]
    names = [text_of(item) for item in items if not isinstance(item, list)]
    return [n for n in names if n and not n.startswith(("http://", "https://"))]


def claim_review(node: JsonObject) -> ClaimReviewInfo:
    """One ClaimReview object as the record the rest of the app uses."""
    rating = _first_object(node.get("reviewRating"))
    item = _first_object(node.get("itemReviewed"))
    authors = names_of(node.get("author"))
    item_authors = names_of(item.get("author")) if item else []
    return ClaimReviewInfo(
        claim_reviewed=text_of(node.get("claimReviewed")),
        rating=_rating_text(rating),
        rating_value=text_of(rating.get("ratingValue")) if rating else None,
        author=authors[0] if authors else None,
        url=text_of(node.get("url")),
        date_published=text_of(node.get("datePublished")),
        item_reviewed_author=item_authors[0] if item_authors else None,
    )


def _first_object(value: Any) -> JsonObject | None:
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, dict)), None)
    return value if isinstance(value, dict) else None


def _rating_text(rating: JsonObject | None) -> str | None:
    """The verdict as the page words it; a bare number is shown against its best value."""
    if not rating:
        return None
    name = text_of(rating.get("alternateName")) or text_of(rating.get("name"))
    if name:
        return name
    value, best = text_of(rating.get("ratingValue")), text_of(rating.get("bestRating"))
    if value and best:
        return f"{value}/{best}"
    return value


def claim_reviews(nodes: list[JsonObject]) -> tuple[ClaimReviewInfo, ...]:
    return tuple(claim_review(n) for n in of_type(nodes, "ClaimReview"))
