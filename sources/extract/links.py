"""Outbound links of the main text, absolute, with their anchor text (discovery follows them).

Only links inside the kept main-text blocks count: a page's navigation, related-story rails
and share buttons say nothing about the claim. Relative links resolve against the page's
``<base href>``, else the URL it was fetched from, else its canonical URL (a saved file
has no other); a relative link with none of those is dropped, as are ``javascript:``,
``mailto:``, ``tel:``, ``data:`` and fragment-only links and links back to the page itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sources.extract.blocks import Block, collapse
from sources.extract.metadata import absolute_http
from sources.extract.tree import Tree
from sources.results import Link


def link_base(tree: Tree, url: str | None, canonical: str | None) -> str | None:
    """What relative links resolve against (HTML's rule, with the canonical as last resort)."""
    page = url if absolute_http(url, None) else canonical
    hrefs = [b.get("href") for b in tree.named("base") if b.has_attr("href")]
    href = hrefs[0] if hrefs else None
    if isinstance(href, str) and href.strip():
        joined = absolute_http(href, page)
        if joined:
            return joined
    return page


def outbound_links(
    blocks: Iterable[Block], base: str | None, own_urls: Iterable[str | None] = ()
) -> tuple[Link, ...]:
    """Unique http(s) links in the blocks, first anchor text wins; ``own_urls`` (the page's
    URL and canonical URL) are not outbound."""
    found: dict[str, str] = {}
    own = {absolute_http(u, None) for u in own_urls if u}
    for block in blocks:
        for anchor in block.anchors:
            href = anchor.href.strip()
            if not href or href.startswith("#"):
                continue
            target = absolute_http(href, base)
            if target and target not in own and target not in found:
                found[target] = collapse(anchor.text)
    return tuple(Link(url, text) for url, text in found.items())
