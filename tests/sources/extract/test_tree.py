"""The one walk over a parsed page: positions, subtrees, visible characters, lookups."""

from __future__ import annotations

import sys

from sources.extract import extract, parse
from sources.extract.tree import attr, index_tree


def test_every_element_in_document_order_with_its_subtree() -> None:
    tree = index_tree(
        parse(
            "<html><body><div id='a'><p>One <b>two</b></p><p>Three</p></div>"
            "<p>Four</p></body></html>"
        )
    )
    names = tree.names
    div = names.index("div")
    first_p, second_p, last_p = tree.by_name["p"]
    assert names[tree.parent[first_p]] == "div" and tree.parent[last_p] == tree.body()
    assert [names[i] for i in range(div, tree.end[div])] == ["div", "p", "b", "p"]
    assert tree.end[div] == last_p and tree.end[tree.body()] == len(tree.tags)
    assert (tree.own_text[first_p], tree.own_text[second_p]) == (len("One"), len("Three"))
    assert [t.get_text() for t in tree.named("p", "b")] == ["One two", "two", "Three", "Four"]
    assert tree.ancestors(tree.by_name["b"][0])[:2] == [first_p, div]


def test_scripts_comments_and_styles_are_not_visible_characters() -> None:
    tree = index_tree(
        parse(
            "<body><div><!-- a comment --><script>var x = 1;</script>"
            "<style>p{}</style>Hi</div></body>"
        )
    )
    assert tree.own_text[tree.by_name["div"][0]] == 2


def test_class_lists_are_read_as_one_lower_case_string() -> None:
    tree = index_tree(parse("<p class='Lead  Story' id=' X '>t</p>"))
    tag = tree.named("p")[0]
    assert (attr(tag, "class"), attr(tag, "id"), attr(tag, "missing")) == ("lead  story", "x", "")


def test_twenty_thousand_levels_are_walked_without_recursion() -> None:
    depth = 20_000
    page = (
        "<html><body>" + "<div>" * depth + "<p>Deep text that still counts.</p>" + "</div>" * depth
    )
    tree = index_tree(parse(page))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        found = extract(page)
    finally:
        sys.setrecursionlimit(limit)
    assert tree.end[tree.body()] == len(tree.tags)
    assert "Deep text that still counts." in found.text
