"""One walk over a parsed page, shared by every later step.

BeautifulSoup's ``find_all``, ``find`` and ``descendants`` cost a Python call per node, and the
steps of extraction each used to walk the whole tree several times (profiled on the
development set, those walks cost as much as the parse). `index_tree` walks it once and keeps,
for every element in document order: the element, its parent's position, where its subtree
ends (a subtree is the contiguous run ``tags[i:end[i]]``) and how many visible characters it
holds directly. Elements are found by name through ``by_name``. The walk is iterative:
twenty thousand nested elements are no deeper for it than two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString, RubyParenthesisString, RubyTextString

# The string classes of visible text (`sources.extract.blocks.is_text`, as exact types).
TEXT_TYPES = frozenset({NavigableString, RubyTextString, RubyParenthesisString})


@dataclass(frozen=True)
class Tree:
    """A parsed page and its index; position 0 is the ``BeautifulSoup`` object itself."""

    soup: BeautifulSoup
    tags: list[Tag]
    names: list[str]
    parent: list[int]
    end: list[int]
    own_text: list[int]
    position: dict[int, int]  # id(tag) -> position
    by_name: dict[str, list[int]]

    def named(self, *names: str) -> list[Tag]:
        """Elements with one of these tag names, in document order."""
        if len(names) == 1:
            return [self.tags[i] for i in self.by_name.get(names[0], ())]
        found = sorted(i for name in names for i in self.by_name.get(name, ()))
        return [self.tags[i] for i in found]

    def first(self, name: str) -> Tag | None:
        found = self.by_name.get(name)
        return self.tags[found[0]] if found else None

    def body(self) -> int:
        """Position of ``<body>``, or 0 (the whole document) when there is none."""
        found = self.by_name.get("body")
        return found[0] if found else 0

    def ancestors(self, index: int) -> list[int]:
        """Positions of the element's ancestors, nearest first."""
        found = []
        index = self.parent[index]
        while index >= 0:
            found.append(index)
            index = self.parent[index]
        return found


def index_tree(soup: BeautifulSoup) -> Tree:
    """Walk ``soup`` once (see the module docstring)."""
    tags: list[Tag] = [soup]
    names = ["[document]"]
    parent = [-1]
    own_text = [0]
    position = {id(soup): 0}
    by_name: dict[str, list[int]] = {}
    for node in soup.descendants:  # the hot loop of the index: exact types, no helpers
        kind = type(node)
        if kind is Tag:
            tag = cast(Tag, node)
            index = len(tags)
            position[id(tag)] = index
            parent.append(position.get(id(tag.parent), 0))
            tags.append(tag)
            names.append(tag.name)
            own_text.append(0)
            if tag.name in by_name:
                by_name[tag.name].append(index)
            else:
                by_name[tag.name] = [index]
        elif kind in TEXT_TYPES:
            own_text[position.get(id(node.parent), 0)] += len(cast(str, node).strip())
    end = list(range(1, len(tags) + 1))
    for index in range(len(tags) - 1, 0, -1):
        up = parent[index]
        if end[index] > end[up]:
            end[up] = end[index]
    return Tree(soup, tags, names, parent, end, own_text, position, by_name)


def as_tree(page: BeautifulSoup | Tree) -> Tree:
    """A `Tree` for callers (tests, tools) that hold only the soup."""
    return page if isinstance(page, Tree) else index_tree(page)


def attr(tag: Tag, name: str) -> str:
    """An attribute as one lower-case string ('' when absent; lists are joined)."""
    value = tag.attrs.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(value)
    return value.strip().lower() if isinstance(value, str) else ""
