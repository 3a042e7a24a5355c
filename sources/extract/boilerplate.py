"""Main text: the article's own paragraphs, without the page's chrome.

Three steps, each a small pure function:

1. **classify** elements as boilerplate: scripts, styles, forms and hidden elements;
   landmarks (``nav``, ``header``, ``footer``, ``aside``, ARIA roles); class, id and
   aria-label names such as ``cookie-banner``, ``comments``, ``related-links``,
   ``share-tools``, ``ad-slot``; sections headed "Related coverage", "Comments (3)"…
   The ancestors of ``main``/``articleBody`` are never dropped, whatever they are called.
2. **choose** the container: ``[itemprop=articleBody]``, else ``<article>``, else
   ``<main>``/``role=main`` (several live-blog entries are kept together), else the densest
   block of paragraph text and its strong siblings.
3. **filter** the container's text blocks: link lists, "Advertisement" lines, share prompts,
   cookie notices and the ``<h1>`` (the title is metadata) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString

from sources.extract.blocks import (
    BLOCK_TAGS,
    Block,
    Stats,
    body_of,
    expand,
    is_text,
    measure,
    serialize,
    tags_of,
)
from sources.extract.config import DEFAULT_CONFIG, ExtractConfig

JUNK_TAGS = frozenset(
    "script style noscript template svg math iframe frame frameset object embed canvas button "
    "input select option textarea label title meta link base map audio video source track "
    "dialog".split()
)
# Not "head": libxml2's HTML4 parser puts HTML5 elements (article, nav) met before any <body>
# into <head>, so its metadata children are dropped one by one instead.
# AMP components that carry text worth keeping; every other amp-* element is chrome.
AMP_TEXT_TAGS = frozenset({"amp-fit-text", "amp-accordion", "amp-story"})
LANDMARK_TAGS = frozenset({"nav", "aside", "footer", "header", "menu", "figcaption"})
BOILERPLATE_ROLES = frozenset(
    "navigation banner contentinfo complementary search dialog alertdialog menu menubar "
    "toolbar tablist".split()
)
BOILERPLATE_ITEMTYPES = re.compile(
    r"(?:comment|usercomments|wpheader|wpfooter|wpsidebar|wpadblock|sitenavigationelement)$"
)
NEGATIVE_TOKENS = frozenset(
    """
    comment comments disqus respond replies cookie cookies consent gdpr cmp onetrust
    newsletter subscribe subscription signup paywall login share sharing shares social
    sharethis addthis ad ads advert adverts advertisement advertising adslot adunit dfp gpt
    sponsor sponsored promo promotion outbrain taboola related recirc recirculation
    recommended recommendations trending popular breadcrumb breadcrumbs pagination pager
    navbar nav navigation menu sidebar rail widget footer header masthead toolbar topbar
    infobox navbox reflist references reference editsection toc catlinks noprint printfooter
    hatnote byline author authors meta timestamp caption credit credits tags keywords
    hidden skip modal popup overlay lightbox banner copyright
    publicidad anuncio comparte compartir relacionadas relacionados cabecera lateral comentarios
    """.split()
)
NEGATIVE_JOINED = frozenset(
    """
    mostread mostpopular mostviewed readmore readnext alsoread morestories youmayalsolike
    sronly visuallyhidden screenreadertext srtext taglist sociallinks cookiebanner
    """.split()
)
POSITIVE_TOKENS = frozenset(
    "article articlebody body content main story entry post text prose blog noticia cuerpo".split()
)
# Class names that describe a state (has-comments, is-sticky), not what the element is.
STATE_PREFIXES = ("has-", "is-", "with-", "no-", "show-", "enable-", "js-")
FORM_PROSE_PARAGRAPHS = 3
MAIN_HINT_PROPS = frozenset({"articlebody", "text", "reviewbody"})
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BOILERPLATE_HEADING = re.compile(
    r"(?:\d+\s+)?(?:related(?:\s+(?:stories|articles|coverage|content|news|links|topics|"
    r"reading))?|read (?:more|next|also)|more (?:on|from|about|stories|news|coverage)\b.*|"
    r"most (?:read|popular|viewed|shared)|recommended(?: for you)?|you (?:may|might) also like|"
    r"trending(?: now)?|comments?|reader comments|join the (?:conversation|discussion)|"
    r"leave a (?:reply|comment)|share (?:this|the) (?:article|story|page)|"
    r"noticias relacionadas|lo m[aá]s le[ií]do|m[aá]s noticias|comentarios|"
    r"관련\s?기사|많이 본 (?:뉴스|기사)|댓글)(?:\s*\(\d+\))?\s*:?",
    re.I,
)
_BOILERPLATE_LINE = re.compile(
    r"(?:advertisement|advertising|ad|sponsored(?: content)?|"
    r"story continues below(?: advertisement)?|"
    r"continue reading(?: below)?|read more|read the full story|"
    r"share(?: this)?(?: article| story| page)?(?: on \w+)?|share via \w+|"
    r"(?:tweet|email|print|copy link|facebook|twitter|whatsapp|linkedin|reddit)(?: this)?|"
    r"sign up(?: now)?|subscribe(?: now)?|subscribe to (?:our|the) newsletter.*|"
    r"follow us on .*|click here to .*|publicidad|comparte?(?: esta noticia)?|광고|공유하기|"
    r"(?:updated |posted )?\d{1,2}[.:]\d{2}(?:\s?[ap]\.?m\.?)?(?: [A-Z]{2,4})?)"
    r"[\s.!:»›>|]*",
    re.I,
)
_COOKIE = re.compile(r"cookie|쿠키", re.I)
_CONSENT = re.compile(
    r"accept|acept|consent|agree|privacy|privacidad|pol[ií]tica|settings|preferences|동의", re.I
)
_HAS_WORD = re.compile(r"\w")
# Longer than this, a block that starts "More about…" is prose, not a section heading.
MAX_HEADING_CHARS = 80


@dataclass(frozen=True)
class MainContent:
    """The kept text blocks, and every block of the main container (link lists included:
    a fact-check's list of sources is link-dense, and it is what discovery wants)."""

    blocks: list[Block]
    link_blocks: list[Block]


def main_content(soup: BeautifulSoup, config: ExtractConfig = DEFAULT_CONFIG) -> MainContent:
    """The page's main text as blocks, boilerplate removed (see the module docstring)."""
    root = body_of(soup)
    skipped = expand(root, boilerplate_ids(root))
    stats = measure(root, skipped)
    candidates = serialize(choose_containers(root, skipped, stats, config), skipped)
    blocks = without_dangling_headings([b for b in candidates if keep_block(b, config)])
    if not blocks:  # everything looked like chrome: better the page's text than nothing
        junk = expand(root, {id(t) for t in tags_of(root) if is_junk(t)})
        candidates = serialize([root], junk)
        blocks = [b for b in candidates if keep_block(b, config)]
    return MainContent(blocks, candidates)


HEADING_KINDS = frozenset({"h2", "h3", "h4", "h5", "h6"})


def without_dangling_headings(blocks: list[Block]) -> list[Block]:
    """Drop a heading whose section lost all its text (a "Sources" list, "See also")."""
    kept: list[Block] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if block.kind in HEADING_KINDS and (following is None or following.kind in HEADING_KINDS):
            continue
        kept.append(block)
    return kept


# --- 1. classify -------------------------------------------------------------------------


def boilerplate_ids(root: Tag) -> set[int]:
    """Ids of the elements that are chrome (their subtrees go with them)."""
    protected = protected_ids(root)
    found = {
        id(tag)
        for tag in tags_of(root)
        if id(tag) not in protected and (is_junk(tag) or is_boilerplate(tag))
    }
    return found | headed_boilerplate(root, protected)


def protected_ids(root: Tag) -> set[int]:
    """``root``, the main-content hints and all their ancestors: never dropped."""
    protected = {id(root)}
    for tag in tags_of(root):
        if is_main_hint(tag):
            node: Tag | None = tag
            while node is not None and id(node) not in protected:
                protected.add(id(node))
                node = node.parent
    return protected


def is_main_hint(tag: Tag) -> bool:
    return (
        tag.name == "main"
        or _attr(tag, "role") == "main"
        or bool(set(_attr(tag, "itemprop").split()) & MAIN_HINT_PROPS)
    )


def _attr(tag: Tag, name: str) -> str:
    value = tag.get(name)
    if isinstance(value, list):
        value = " ".join(value)
    return value.strip().lower() if isinstance(value, str) else ""


def is_junk(tag: Tag) -> bool:
    """Never text: scripts, styles, forms, embedded media, hidden elements, AMP chrome."""
    name = tag.name or ""
    if name in JUNK_TAGS or (name.startswith("amp-") and name not in AMP_TEXT_TAGS):
        return True
    if name == "form":  # a site that wraps the whole page in one form keeps it
        return len(tag.find_all("p", limit=FORM_PROSE_PARAGRAPHS)) < FORM_PROSE_PARAGRAPHS
    return (
        tag.has_attr("hidden")
        or _attr(tag, "aria-hidden") == "true"
        or bool(_HIDDEN_STYLE.search(_attr(tag, "style")))
    )


def is_boilerplate(tag: Tag) -> bool:
    """A landmark, a boilerplate ARIA role or schema type, or a boilerplate name."""
    if tag.name in LANDMARK_TAGS or _attr(tag, "role") in BOILERPLATE_ROLES:
        return True
    if BOILERPLATE_ITEMTYPES.search(_attr(tag, "itemtype")) or _attr(tag, "itemprop") == "comment":
        return True
    names = element_names(tag)
    return any(map(is_negative_name, names)) and not any(map(is_positive_name, names))


def element_names(tag: Tag) -> list[str]:
    """Class names, the id and the aria-label, each split into lower-case tokens."""
    classes = tag.get("class")
    names = list(classes) if isinstance(classes, list) else []
    for attr in ("id", "aria-label", "data-component", "data-module"):
        value = tag.get(attr)
        if isinstance(value, str):
            names.append(value)
    return [n for n in names if n and not n.lower().startswith(STATE_PREFIXES)]


def _tokens(name: str) -> tuple[list[str], str]:
    words = [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub(r"\1 \2", name).lower()) if w]
    return words, "".join(words)


def is_negative_name(name: str) -> bool:
    words, joined = _tokens(name)
    return bool(set(words) & NEGATIVE_TOKENS) or joined in NEGATIVE_JOINED


def is_positive_name(name: str) -> bool:
    words, _ = _tokens(name)
    return bool(set(words) & POSITIVE_TOKENS) and not is_negative_name(name)


def headed_boilerplate(root: Tag, protected: set[int]) -> set[int]:
    """Sections headed "Related coverage", "Comments (3)", "Lo más leído"…; with the heading
    first in a section the section goes, otherwise the heading and the list after it."""
    found: set[int] = set()
    for heading in root.find_all(["h2", "h3", "h4", "h5", "h6"]):
        if not isinstance(heading, Tag):
            continue
        if not _BOILERPLATE_HEADING.fullmatch(" ".join(heading.get_text(" ").split())):
            continue
        parent = heading.parent
        first = parent.find(True, recursive=False) if isinstance(parent, Tag) else None
        if (
            isinstance(parent, Tag)
            and first is heading
            and parent.name in {"section", "div", "aside", "nav"}
            and id(parent) not in protected
        ):
            found.add(id(parent))
            continue
        found.add(id(heading))
        following = heading.find_next_sibling(True)
        if isinstance(following, Tag) and following.name in {"ul", "ol"}:
            found.add(id(following))
    return found


# --- 2. choose ---------------------------------------------------------------------------


def choose_containers(
    root: Tag, skipped: set[int], stats: dict[int, Stats], config: ExtractConfig
) -> list[Tag]:
    """The element(s) holding the main text, in document order."""
    tags = [t for t in tags_of(root) if id(t) not in skipped]
    finders: list[Callable[[Tag], bool]] = [
        lambda t: bool(set(_attr(t, "itemprop").split()) & MAIN_HINT_PROPS),
        lambda t: t.name == "article",
        lambda t: t.name == "main" or _attr(t, "role") == "main",
    ]
    for matches in finders:
        chosen = pick_semantic(root, [t for t in tags if matches(t)], stats, config)
        if chosen:
            return chosen
    return densest(tags, stats, config) or [root]


def _prose(tag: Tag, stats: dict[int, Stats]) -> int:
    found = stats.get(id(tag), Stats())
    return found.text - found.links


def pick_semantic(
    root: Tag, found: list[Tag], stats: dict[int, Stats], config: ExtractConfig
) -> list[Tag]:
    """The biggest candidate, or all the substantial ones when none dominates (a live blog
    whose entries are each an ``<article>``). Candidates inside candidates are ignored."""
    if not found:
        return []
    ids = {id(t) for t in found}
    inner = expand(root, ids) - ids
    outer = [t for t in found if id(t) not in inner]
    best = max(_prose(t, stats) for t in outer)
    if best < config.min_main_chars:
        return []
    total = sum(_prose(t, stats) for t in outer)
    if best * 2 >= total:
        return [next(t for t in outer if _prose(t, stats) == best)]
    return [t for t in outer if _prose(t, stats) * 5 >= best]


PARAGRAPH_TAGS = frozenset({"p", "pre", "blockquote", "td", "dd", "li"})
LOOSE_TEXT_TAGS = frozenset({"div", "section", "span", "font", "center", "article", "main"})
# A div holding text directly (no <p>) counts as a paragraph when its own text is this long.
MIN_LOOSE_TEXT = 25


def densest(tags: list[Tag], stats: dict[int, Stats], config: ExtractConfig) -> list[Tag]:
    """Readability's idea: paragraphs vote for their parent (and half for the grandparent);
    the winner joins its siblings that scored well too. Text lying loose in a ``div`` votes
    for that ``div`` itself (and half for its parent)."""
    scores: dict[int, float] = {}

    def vote(tag: Tag | None, score: float) -> None:
        if tag is not None:
            scores[id(tag)] = scores.get(id(tag), 0.0) + score

    for tag in tags:
        if tag.name in PARAGRAPH_TAGS and _is_leaf_block(tag):
            prose = _prose(tag, stats)
            if prose >= MIN_LOOSE_TEXT and tag.parent is not None:
                vote(tag.parent, prose)
                vote(tag.parent.parent, prose / 2)
        elif tag.name in LOOSE_TEXT_TAGS and (own := _own_text(tag)) >= MIN_LOOSE_TEXT:
            vote(tag, own)
            vote(tag.parent, own / 2)
    by_id = {id(t): t for t in tags}
    ranked = [(score, by_id[key]) for key, score in scores.items() if key in by_id]
    if not ranked:
        return []
    best_score, best = max(ranked, key=lambda pair: pair[0])
    return _with_siblings(best, best_score, scores, config)


def _is_leaf_block(tag: Tag) -> bool:
    """A paragraph, or a cell or list item holding no paragraphs (layout tables are not)."""
    return tag.name == "p" or not any(
        isinstance(child, Tag) and child.name in BLOCK_TAGS for child in tag.contents
    )


def _own_text(tag: Tag) -> int:
    return sum(
        len(s.strip()) for s in tag.contents if isinstance(s, NavigableString) and is_text(s)
    )


def _with_siblings(
    best: Tag, best_score: float, scores: dict[int, float], config: ExtractConfig
) -> list[Tag]:
    parent = best.parent
    if parent is None:
        return [best]
    threshold = best_score * config.sibling_score_share
    return [
        child
        for child in parent.find_all(True, recursive=False)
        if child is best or scores.get(id(child), 0.0) >= threshold
    ]


# --- 3. filter ---------------------------------------------------------------------------


def keep_block(block: Block, config: ExtractConfig = DEFAULT_CONFIG) -> bool:
    """False for a block that is chrome even inside the article."""
    text = block.text
    if block.kind == "h1" or not _HAS_WORD.search(text):
        return False
    if _BOILERPLATE_LINE.fullmatch(text):
        return False
    if len(text) <= MAX_HEADING_CHARS and _BOILERPLATE_HEADING.fullmatch(text):
        return False
    if block.link_density > config.max_link_density and len(text) < config.link_dense_prose_chars:
        return False
    return not is_cookie_notice(text, config)


def is_cookie_notice(text: str, config: ExtractConfig = DEFAULT_CONFIG) -> bool:
    return (
        len(text) <= config.max_banner_chars
        and bool(_COOKIE.search(text))
        and bool(_CONSENT.search(text))
    )
