"""Extraction: one saved or fetched page in, an `Extraction` out. Pure: no I/O, no clock.

``extract`` never raises on what a web server can send: malformed or empty HTML, a PDF or
an image sent as a page, JSON, binary noise, elements nested twenty thousand deep. Input
that is not a page yields an empty `Extraction`; plain text is split into paragraphs; HTML
goes through BeautifulSoup with the lxml parser — one parse, one walk — and the modules below:

- `sources.extract.tree` — the one walk: every element with its parent, subtree and text
- `sources.extract.jsonld` — schema.org JSON-LD objects and ClaimReview records
- `sources.extract.metadata` — title, canonical URL, site name, authors, dates, language
- `sources.extract.dates` — dates in the URL or written out in a date line
- `sources.extract.boilerplate` — the main text's blocks without the page's chrome
- `sources.extract.passages` — passages with stable ids and offsets into the main text
- `sources.extract.links` — outbound links of the main text
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import replace

import bs4
import lxml.etree
import lxml.html
from bs4 import BeautifulSoup

from sources.decode import decode_html
from sources.extract.blocks import BLOCK_TAGS, Block, collapse
from sources.extract.boilerplate import JUNK_TAGS, keep_block, main_content
from sources.extract.config import DEFAULT_CONFIG, ExtractConfig
from sources.extract.jsonld import claim_reviews, jsonld_nodes
from sources.extract.links import link_base, outbound_links
from sources.extract.metadata import read_metadata
from sources.extract.passages import split_passages
from sources.extract.tree import index_tree
from sources.results import Extraction

logger = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xml", "text/xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
# Leading bytes of formats that are never pages, whatever the server calls them.
BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b")
# Share of control or replacement characters above which decoded text is binary noise.
MAX_NOISE_SHARE = 0.05
SNIFF_CHARS = 4096
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_STRIP = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_LOOKS_HTML = re.compile(
    r"<(?:!doctype|html|head|body|p|div|article|main|section|span|a|br|h[1-6]|title|meta|table"
    r"|ul|ol|li|script|style|link|!--)[\s>/]",
    re.I,
)
_TITLE_OPEN = re.compile(r"<title\b[^>]*>", re.I)
_TITLE_CLOSE = re.compile(r"</title\s*>", re.I)
_PLAIN_GAP = re.compile(r"\n\s*\n")
_BS4_WARNINGS: tuple[type[Warning], ...] = (
    bs4.MarkupResemblesLocatorWarning,
    bs4.XMLParsedAsHTMLWarning,
)


def extract(
    page: str | bytes,
    url: str | None = None,
    content_type: str | None = None,
    *,
    config: ExtractConfig = DEFAULT_CONFIG,
) -> Extraction:
    """Title, byline, dates, main text, passages, links and ClaimReviews of one page.

    ``page`` is the HTML (bytes are decoded like a fetch: HTTP charset, BOM, meta charset,
    detection); ``url`` is where it came from (relative links resolve against it);
    ``content_type`` is the HTTP header, if known.

    >>> extract("<title>Hi</title><article><p>North Korea offered talks.</p></article>").title
    'Hi'
    """
    text = page_text(page, content_type, config)
    kind = page_kind(page, text, content_type)
    if kind == "none":
        return empty_extraction(url)
    if kind == "text":
        return from_blocks(url, plain_blocks(text), config)
    try:
        return from_html(text, url, config)
    except (RecursionError, ValueError, lxml.etree.LxmlError) as exc:
        logger.warning("extraction fell back to flat text for %s: %r", url or "a page", exc)
        return from_blocks(url, plain_blocks(flat_text(text)), config)


def page_text(page: str | bytes, content_type: str | None, config: ExtractConfig) -> str:
    """The page as clean text: decoded, without NULs, control characters or lone surrogates."""
    text = decode_html(page, content_type)[0] if isinstance(page, bytes) else page
    text = text[: config.max_input_chars]
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become '?'
    return _STRIP.sub("", text)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def page_kind(page: str | bytes, text: str, content_type: str | None) -> str:
    """'html', 'text', or 'none' for input that is not a page (PDF, image, JSON, noise)."""
    mime = _mime(content_type)
    head = page[:SNIFF_CHARS]
    if isinstance(head, bytes) and (head.startswith(BINARY_MAGIC) or b"\x00" in head):
        if not head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 pages have NULs
            return "none"
    if isinstance(head, str) and (head.startswith("%PDF") or "\x00" in head):
        return "none"
    if mime == "application/json" or mime.endswith("+json") or _is_json(text):
        return "none"
    sample = text[:SNIFF_CHARS]
    if sample and len(_CONTROL.findall(sample)) > MAX_NOISE_SHARE * len(sample):
        return "none"
    if mime in TEXT_TYPES:  # as a browser does: declared plain text is shown as text
        return "text"
    if mime in HTML_TYPES or _LOOKS_HTML.search(text[: SNIFF_CHARS * 4]):
        return "html"
    if not mime or mime.startswith("text/"):
        return "text"
    return "none"


def _is_json(text: str) -> bool:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(stripped)
    except (ValueError, RecursionError):
        return False
    return True


def empty_extraction(url: str | None) -> Extraction:
    return Extraction(
        url=url,
        title=None,
        canonical_url=None,
        site_name=None,
        authors=(),
        published=None,
        modified=None,
        date_source="none",
        language=None,
        text="",
        passages=(),
        links=(),
        claim_reviews=(),
    )


def parse(text: str) -> BeautifulSoup:
    """BeautifulSoup over lxml, without bs4's advice warnings (they are about our input)."""
    with warnings.catch_warnings():
        for category in _BS4_WARNINGS:
            warnings.simplefilter("ignore", category)
        # Attribute values stay strings ("a b" for class): splitting every class list
        # while parsing costs a tenth of the parse, and few of them are ever read.
        return BeautifulSoup(text, "lxml", multi_valued_attributes=None)


def repair_markup(text: str) -> str:
    """Close a ``<title>`` that is never closed: as RCDATA it would swallow the whole page
    (browsers show nothing either, but the text is there and worth reading)."""
    opening = _TITLE_OPEN.search(text, 0, SNIFF_CHARS * 4)
    if opening is None or _TITLE_CLOSE.search(text, opening.end()):
        return text
    end = text.find("<", opening.end())
    if end < 0:
        return text
    return f"{text[:end]}</title>{text[end:]}"


def from_html(text: str, url: str | None, config: ExtractConfig) -> Extraction:
    tree = index_tree(parse(repair_markup(text)))  # the one parse and the one full walk
    nodes = jsonld_nodes(tree)
    meta = read_metadata(tree, nodes, url)
    content = main_content(tree, config)
    main_text = "\n\n".join(block.text for block in content.blocks)
    base = link_base(tree, url, meta.canonical_url)
    return Extraction(
        url=url,
        title=meta.title,
        canonical_url=meta.canonical_url,
        site_name=meta.site_name,
        authors=meta.authors,
        published=meta.published,
        modified=meta.modified,
        date_source=meta.date_source,
        language=meta.language,
        text=main_text,
        passages=split_passages(main_text, config.max_passage_chars),
        links=outbound_links(content.link_blocks, base, (url, meta.canonical_url)),
        claim_reviews=claim_reviews(nodes),
    )


def plain_blocks(text: str) -> list[Block]:
    """Paragraphs of plain text: runs of lines between blank lines."""
    return [Block(clean, "p") for part in _PLAIN_GAP.split(text) if (clean := collapse(part))]


def from_blocks(url: str | None, blocks: list[Block], config: ExtractConfig) -> Extraction:
    main_text = "\n\n".join(b.text for b in blocks if keep_block(b, config))
    passages = split_passages(main_text, config.max_passage_chars)
    return replace(empty_extraction(url), text=main_text, passages=passages)


def flat_text(markup: str) -> str:
    """The visible text of ``markup`` from lxml's C walker, paragraphs at block elements.

    The last resort when the BeautifulSoup path fails (it never recurses on our side, but a
    parser upgrade might); tags are stripped by a regex if lxml refuses the input too."""
    try:
        root = lxml.html.document_fromstring(markup)
    except (ValueError, lxml.etree.LxmlError):
        return re.sub(r"<[^>]*>", " ", markup)
    parts: list[str] = []
    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in BLOCK_TAGS:
            parts.append("\n\n")
        if event == "start" and tag not in JUNK_TAGS and element.text:
            parts.append(element.text)
        elif event == "end" and element.tail:
            parts.append(element.tail)
    return "".join(parts)
