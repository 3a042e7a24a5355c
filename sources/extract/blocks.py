"""A parsed page as text blocks (paragraphs, headings, list items) with their links.

Every walk here is iterative: a page nesting elements twenty thousand deep must not hit
Python's recursion limit. Elements whose ``id()`` is in ``skipped`` are left out with
their whole subtree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bs4 import Tag
from bs4.element import (
    NavigableString,
    PageElement,
    PreformattedString,
    Script,
    Stylesheet,
    TemplateString,
)

BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre "
    "section summary table tbody tfoot thead tr ul".split()
)
CELL_TAGS = frozenset({"td", "th"})
# Stands for <br> inside a block until the block is cut: two in a row end a paragraph.
BREAK = "\ue000"
_PARAGRAPH_BREAK = re.compile(f"{BREAK}(?:\\s*{BREAK})+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


@dataclass(frozen=True)
class Anchor:
    href: str
    text: str


@dataclass(frozen=True)
class Block:
    """One paragraph-like piece of text; ``kind`` is the tag that holds it (p, h2, li…)."""

    text: str
    kind: str
    link_chars: int = 0
    anchors: tuple[Anchor, ...] = ()

    @property
    def link_density(self) -> float:
        return self.link_chars / len(self.text) if self.text else 0.0


def is_text(node: PageElement) -> bool:
    """Visible character data: not a comment, doctype, CDATA, script or style body."""
    return isinstance(node, NavigableString) and not isinstance(
        node, PreformattedString | Script | Stylesheet | TemplateString
    )


def collapse(text: str) -> str:
    return " ".join(text.translate(_INVISIBLE).split())


@dataclass
class _Builder:
    """Accumulates inline text and cuts it into blocks at block-level boundaries."""

    blocks: list[Block] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    size: int = 0
    kinds: list[str] = field(default_factory=list)
    # (href, index of its first part, character offset where it starts)
    open_anchors: list[tuple[str, int, int]] = field(default_factory=list)
    anchors: list[tuple[int, Anchor]] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def enter(self, tag: Tag) -> None:
        if tag.name in BLOCK_TAGS:
            self.flush()
            self.kinds.append(tag.name)
        elif tag.name == "br":
            self.add(BREAK)
        elif tag.name in CELL_TAGS:
            self.add(" ")
        elif tag.name == "a":
            href = tag.get("href")
            href_text = href if isinstance(href, str) else ""
            self.open_anchors.append((href_text, len(self.parts), self.size))

    def leave(self, tag: Tag) -> None:
        if tag.name in BLOCK_TAGS:
            self.flush()
            if self.kinds:
                self.kinds.pop()
        elif tag.name == "a" and self.open_anchors:
            href, first, start = self.open_anchors.pop()
            text = collapse("".join(self.parts[first:]).replace(BREAK, " "))
            if text:
                self.anchors.append((start, Anchor(href, text)))

    def flush(self) -> None:
        raw = "".join(self.parts)
        kind = self.kinds[-1] if self.kinds else "body"
        for start, end in _pieces(raw):
            text = collapse(raw[start:end].replace(BREAK, " "))
            if text:
                mine = tuple(a for s, a in self.anchors if start <= s < end)
                links = sum(len(a.text) for a in mine)
                self.blocks.append(Block(text, kind, min(links, len(text)), mine))
        self.parts.clear()
        self.anchors.clear()
        self.size = 0
        self.open_anchors = [(href, 0, 0) for href, _, _ in self.open_anchors]


def _pieces(raw: str) -> Iterator[tuple[int, int]]:
    """Spans of ``raw`` between double line breaks (``<br><br>`` paragraphs)."""
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(raw):
        yield start, match.start()
        start = match.end()
    yield start, len(raw)


def serialize(roots: Iterable[Tag], skipped: set[int]) -> list[Block]:
    """The text blocks under ``roots`` in document order, leaving out ``skipped`` subtrees."""
    builder = _Builder()
    for root in roots:
        stack: list[tuple[PageElement, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if isinstance(node, Tag):
                if leaving:
                    builder.leave(node)
                elif id(node) not in skipped:
                    builder.enter(node)
                    stack.append((node, True))
                    stack.extend((child, False) for child in reversed(node.contents))
            elif is_text(node):
                builder.add(str(node).replace(BREAK, " "))
        builder.flush()
    return builder.blocks
