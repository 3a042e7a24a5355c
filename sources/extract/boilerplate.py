"""Main text: the article's own paragraphs, without the page's chrome.

Three steps, each a small pure function:

1. **classify** elements as boilerplate: scripts, styles, forms and hidden elements;
   landmarks (``nav``, ``header``, ``footer``, ``aside``, ARIA roles); class, id and
   aria-label names such as ``cookie-banner``, ``comments``, ``related-links``,
   ``share-tools``, ``ad-slot``; sections headed "Related coverage", "Comments (3)"…
   The ancestors of ``main``/``articleBody`` are never dropped, whatever they are called.
2. **choose** the container: ``[itemprop=articleBody]``, else ``<article>``, else
   ``<main>``/``role=main`` (several live-blog entries are kept together), else — or when it
   outweighs them — the densest block of paragraph text and its strong siblings; a lone
   container then *climbs* to an ancestor that adds little, keeping only added paragraphs.
3. **filter** the container's text blocks: link lists, "Advertisement" lines, share prompts,
   cookie notices and the ``<h1>`` (the title is metadata) are dropped.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from bs4 import BeautifulSoup, Tag

from sources.extract.blocks import BLOCK_TAGS, Block, serialize
from sources.extract.config import DEFAULT_CONFIG, ExtractConfig
from sources.extract.tree import Tree, as_tree, attr

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
    skip modal popup overlay lightbox banner copyright
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
    r"related posts|explore further|most popular this week|tags|tagged|"
    r"noticias relacionadas|lo m[aá]s le[ií]do|m[aá]s noticias|comentarios|"
    r"(?:ä|ae)hnliche (?:beitr(?:ä|ae)ge|artikel|themen)|mehr zu(?:m thema)?\b.*|"
    r"mehr aus (?:der|dem|diesem) .*|weitere (?:artikel|beitr(?:ä|ae)ge|nachrichten)|"
    r"weiterf(?:ü|ue)hrende(?:r)? links?|das k(?:ö|oe)nnte sie (?:auch )?interessieren|"
    r"auch interessant|verwandte (?:artikel|beitr(?:ä|ae)ge|themen)|schlagw(?:o|ö)rter|"
    r"kommentare?|leserkommentare|"
    r"(?:à|a) d(?:é|e)couvrir|(?:à )?lire aussi|sur le m(?:ê|e)me sujet|vos r(?:é|e)actions|"
    r"articles? similaires|commentaires?|"
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
    r"(?:tags|tagged|schlagw(?:o|ö)rter|stichw(?:o|ö)rter)\s*:.*|this entry was posted .*|"
    r"(?:comments are|kommentare) (?:closed|geschlossen)|\(?noch keine bewertungen\)?|"
    r"(?:print recipe|rezept drucken|drucken|artikel teilen|teilen|anzeige)|"
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


@dataclass(frozen=True)
class Measures:
    """Visible and link characters under each element, chrome left out (by position)."""

    skipped: list[bool]
    text: list[int]
    links: list[int]

    def prose(self, index: int) -> int:
        return self.text[index] - self.links[index]


def main_content(page: BeautifulSoup | Tree, config: ExtractConfig = DEFAULT_CONFIG) -> MainContent:
    """The page's main text as blocks, boilerplate removed (see the module docstring)."""
    tree = as_tree(page)
    root = tree.body()
    roots = boilerplate_roots(tree, root, config)
    found = measure(tree, root, roots)
    core = choose_containers(tree, root, found, config)
    chosen = climb(tree, core, found, config)
    headers = article_headers(tree, roots)
    skipped = {id(tree.tags[i]) for i in roots - headers}
    candidates = serialize([tree.tags[i] for i in chosen], skipped)
    if chosen != core or headers:  # what the climb or a header adds must read as prose
        strict = {id(tree.tags[i]) for i in roots}
        own = {b.text for b in serialize([tree.tags[i] for i in core], strict)}
        candidates = [b for b in candidates if b.text in own or is_prose(b)]
    blocks = without_dangling_headings([b for b in candidates if keep_block(b, config)])
    if not blocks:  # everything looked like chrome: better the page's text than nothing
        junk = {id(tree.tags[i]) for i in _inside(tree, root) if is_junk(tree, i)}
        candidates = serialize([tree.tags[root]], junk)
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


def _inside(tree: Tree, root: int) -> range:
    """Positions of the elements below ``root``."""
    return range(root + 1, tree.end[root])


def _children(tree: Tree, index: int) -> Iterator[int]:
    child = index + 1
    while child < tree.end[index]:
        yield child
        child = tree.end[child]


def measure(tree: Tree, root: int, roots: set[int]) -> Measures:
    """Text and link characters of every element under ``root``, bottom-up in one pass;
    ``roots`` and their subtrees count for nothing and are marked skipped."""
    size = len(tree.tags)
    skipped = [False] * size
    until = -1
    for index in _inside(tree, root):
        if index < until:
            skipped[index] = True
        elif index in roots:
            skipped[index] = True
            until = tree.end[index]
    text = [0] * size
    links = [0] * size
    names, parent, own = tree.names, tree.parent, tree.own_text
    for index in range(tree.end[root] - 1, root - 1, -1):
        if skipped[index]:
            continue
        text[index] += own[index]
        if names[index] == "a":
            links[index] = text[index]
        if index > root:
            up = parent[index]
            text[up] += text[index]
            links[up] += links[index]
    return Measures(skipped, text, links)


# --- 1. classify -------------------------------------------------------------------------


def boilerplate_roots(tree: Tree, root: int, config: ExtractConfig = DEFAULT_CONFIG) -> set[int]:
    """Positions of the elements under ``root`` that are chrome (their subtrees go too)."""
    protected = protected_positions(tree, root)
    raw = measure(tree, root, set())
    # An element named or placed like chrome ("share-zone", a <header> the parser stretched
    # over the page) that holds most of the page's prose is the page's wrapper, not chrome;
    # comments stay chrome however long.
    ample = max(config.min_main_chars, raw.prose(root) * config.chrome_prose_share)
    found: set[int] = set()
    index, stop = root + 1, tree.end[root]
    while index < stop:
        tag = tree.tags[index]
        if index not in protected and (
            is_junk(tree, index)
            or (is_boilerplate(tag) and (raw.prose(index) < ample or _is_comments(tag)))
        ):
            found.add(index)
            index = tree.end[index]  # nothing below a dropped element needs a verdict
        else:
            index += 1
    return found | headed_boilerplate(tree, root, protected)


def article_headers(tree: Tree, roots: set[int]) -> set[int]:
    """The dropped ``<header>`` elements that head an ``<article>``: the page's header is
    chrome, but an article's holds its standfirst (its kicker and byline are not prose)."""
    return {
        index
        for index in tree.by_name.get("header", ())
        if index in roots and any(tree.names[up] == "article" for up in tree.ancestors(index))
    }


def protected_positions(tree: Tree, root: int) -> set[int]:
    """``root``, the main-content hints and all their ancestors: never dropped."""
    protected = {root}
    hinted = [*tree.by_name.get("main", ()), *_attributed(tree, root, ("role", "itemprop"))]
    for index in hinted:
        if root < index < tree.end[root] and is_main_hint(tree.tags[index]):
            node = index
            while node >= 0 and node not in protected:
                protected.add(node)
                node = tree.parent[node]
    return protected


def _attributed(tree: Tree, root: int, keys: tuple[str, ...]) -> list[int]:
    """Positions under ``root`` of the elements carrying one of these attributes."""
    tags = tree.tags
    return [
        i
        for i in range(root + 1, tree.end[root])
        if tags[i].attrs and any(k in tags[i].attrs for k in keys)
    ]


def is_main_hint(tag: Tag) -> bool:
    return (
        tag.name == "main"
        or attr(tag, "role") == "main"
        or bool(set(attr(tag, "itemprop").split()) & MAIN_HINT_PROPS)
    )


def is_junk(tree: Tree, index: int) -> bool:
    """Never text: scripts, styles, forms, embedded media, hidden elements, AMP chrome."""
    tag = tree.tags[index]
    name = tree.names[index]
    if name in JUNK_TAGS or (name.startswith("amp-") and name not in AMP_TEXT_TAGS):
        return True
    if name == "form":  # a site that wraps the whole page in one form keeps it
        return _count_named(tree, "p", index) < FORM_PROSE_PARAGRAPHS
    attrs = tag.attrs
    if not attrs:
        return False
    return (
        "hidden" in attrs
        or ("aria-hidden" in attrs and attr(tag, "aria-hidden") == "true")
        or ("style" in attrs and bool(_HIDDEN_STYLE.search(attr(tag, "style"))))
    )


def _count_named(tree: Tree, name: str, index: int) -> int:
    """How many ``name`` elements lie under the element at ``index``."""
    found = tree.by_name.get(name, [])
    return bisect_left(found, tree.end[index]) - bisect_right(found, index)


def is_boilerplate(tag: Tag) -> bool:
    """A landmark, a boilerplate ARIA role or schema type, or a boilerplate name."""
    if tag.name in LANDMARK_TAGS:
        return True
    attrs = tag.attrs
    if not attrs:
        return False
    if "role" in attrs and attr(tag, "role") in BOILERPLATE_ROLES:
        return True
    if "itemtype" in attrs and BOILERPLATE_ITEMTYPES.search(attr(tag, "itemtype")):
        return True
    if "itemprop" in attrs and attr(tag, "itemprop") == "comment":
        return True
    return _named_chrome(*(_joined(attrs.get(key)) for key in NAME_ATTRIBUTES))


NAME_ATTRIBUTES = ("class", "id", "aria-label", "data-component", "data-module")
_COMMENTS = re.compile(r"comment|disqus|respond|repl(?:y|ies)|kommentar|comentario", re.I)


def _is_comments(tag: Tag) -> bool:
    return bool(_COMMENTS.search(" ".join(_joined(tag.attrs.get(k)) for k in NAME_ATTRIBUTES)))


def _joined(value: object) -> str:
    if isinstance(value, list):
        return " ".join(value)
    return value if isinstance(value, str) else ""


def _identity(name: str) -> str:
    """What a class name says the element *is*: a BEM modifier (``section--has-ads``,
    ``field--label-hidden``) or a bare modifier class (``-menu``) is a state, not a kind."""
    return "" if name.startswith("-") else name.split("--")[0]


@lru_cache(maxsize=1 << 16)
def _named_chrome(classes: str, *others: str) -> bool:
    """Whether these names (class list, id, aria-label…) call the element chrome; cached
    because a page repeats the same few class strings on hundreds of elements."""
    names = [
        identity
        for name in (*classes.split(), *others)
        if (identity := _identity(name)) and not identity.lower().startswith(STATE_PREFIXES)
    ]
    return any(map(is_negative_name, names)) and not any(map(is_positive_name, names))


@lru_cache(maxsize=1 << 16)
def _tokens(name: str) -> tuple[frozenset[str], str]:
    words = [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub(r"\1 \2", name).lower()) if w]
    return frozenset(words), "".join(words)


@lru_cache(maxsize=1 << 16)
def is_negative_name(name: str) -> bool:
    words, joined = _tokens(name)
    return bool(words & NEGATIVE_TOKENS) or joined in NEGATIVE_JOINED


@lru_cache(maxsize=1 << 16)
def is_positive_name(name: str) -> bool:
    words, _ = _tokens(name)
    return bool(words & POSITIVE_TOKENS) and not is_negative_name(name)


def headed_boilerplate(tree: Tree, root: int, protected: set[int]) -> set[int]:
    """Sections headed "Related coverage", "Comments (3)", "Lo más leído"…; with the heading
    first in a section the section goes, otherwise the heading and the list after it."""
    found: set[int] = set()
    headings = sorted(i for name in HEADING_KINDS for i in tree.by_name.get(name, ()))
    for index in headings:
        if not root < index < tree.end[root]:
            continue
        heading = tree.tags[index]
        if not _BOILERPLATE_HEADING.fullmatch(" ".join(heading.get_text(" ").split())):
            continue
        up = tree.parent[index]
        if (
            up == index - 1  # the heading is the section's first element
            and tree.names[up] in {"section", "div", "aside", "nav"}
            and up not in protected
        ):
            found.add(up)
            continue
        found.add(index)
        following = tree.end[index]
        if (
            following < len(tree.tags)
            and tree.parent[following] == up
            and tree.names[following] in {"ul", "ol"}
        ):
            found.add(following)
    return found


# --- 2. choose ---------------------------------------------------------------------------


def choose_containers(tree: Tree, root: int, found: Measures, config: ExtractConfig) -> list[int]:
    """Positions of the element(s) holding the main text, in document order."""
    kept = [root, *(i for i in _inside(tree, root) if not found.skipped[i])]
    finders: list[Callable[[Tag], bool]] = [
        lambda t: bool(set(attr(t, "itemprop").split()) & MAIN_HINT_PROPS),
        lambda t: t.name == "article",
        lambda t: t.name == "main" or attr(t, "role") == "main",
    ]
    dense = densest(tree, kept, found, config) or [root]
    for matches in finders:
        chosen = pick_semantic(tree, [i for i in kept if matches(tree.tags[i])], found, config)
        if chosen:
            return _semantic_or_dense(tree, chosen, dense, found, config)
    return dense


MIN_PROSE_CHARS = 80


def is_prose(block: Block) -> bool:
    """A paragraph a reader would read: long, and not a link list."""
    return block.link_density < 0.3 and len(block.text) >= MIN_PROSE_CHARS


def climb(tree: Tree, chosen: list[int], found: Measures, config: ExtractConfig) -> list[int]:
    """A lone container, or the highest ancestor that adds little to it, and that little is
    prose rather than links: the standfirst or a last paragraph a CMS put next to the body."""
    if len(chosen) != 1:
        return chosen
    best = start = chosen[0]
    ceiling = found.prose(start) * (1 + config.climb_prose_share)
    for up in tree.ancestors(start):
        if found.skipped[up] or found.prose(up) > ceiling:
            break
        added_text = found.text[up] - found.text[start]
        added_links = found.links[up] - found.links[start]
        if added_links > added_text * config.max_link_density / 2:
            break
        best = up
    return [best]


def _semantic_or_dense(
    tree: Tree, chosen: list[int], dense: list[int], found: Measures, config: ExtractConfig
) -> list[int]:
    """The marked-up container, unless the densest text lies outside it and outweighs it
    (an ``<article>`` holding a teaser or the headline while the story sits next to it)."""
    inside = all(any(c <= d < tree.end[c] for c in chosen) for d in dense)
    if inside:
        return chosen
    semantic = sum(found.prose(i) for i in chosen)
    outside = sum(found.prose(d) for d in dense)
    return dense if outside > semantic * config.dense_over_semantic else chosen


def pick_semantic(
    tree: Tree, found: list[int], sizes: Measures, config: ExtractConfig
) -> list[int]:
    """The biggest candidate, or all the substantial ones when none dominates (a live blog
    whose entries are each an ``<article>``). Candidates inside candidates are ignored."""
    outer: list[int] = []
    for index in found:  # document order: an inner candidate follows its container
        if not outer or index >= tree.end[outer[-1]]:
            outer.append(index)
    if not outer:
        return []
    best = max(sizes.prose(i) for i in outer)
    if best < config.min_main_chars:
        return []
    total = sum(sizes.prose(i) for i in outer)
    if best * 2 >= total:
        return [next(i for i in outer if sizes.prose(i) == best)]
    return [i for i in outer if sizes.prose(i) * 5 >= best]


PARAGRAPH_TAGS = frozenset({"p", "pre", "blockquote", "td", "dd", "li"})
LOOSE_TEXT_TAGS = frozenset({"div", "section", "span", "font", "center", "article", "main"})
# A div holding text directly (no <p>) counts as a paragraph when its own text is this long.
MIN_LOOSE_TEXT = 25


def densest(tree: Tree, kept: list[int], sizes: Measures, config: ExtractConfig) -> list[int]:
    """Readability's idea: paragraphs vote for their parent (and half for the grandparent);
    the winner joins its siblings that scored well too. Text lying loose in a ``div`` votes
    for that ``div`` itself (and half for its parent)."""
    scores: dict[int, float] = {}
    names, parent = tree.names, tree.parent

    def vote(index: int, score: float) -> None:
        if index >= 0:
            scores[index] = scores.get(index, 0.0) + score

    for index in kept:
        name = names[index]
        if name in PARAGRAPH_TAGS and _is_leaf_block(tree, index):
            prose = sizes.prose(index)
            if prose >= MIN_LOOSE_TEXT and parent[index] >= 0:
                vote(parent[index], prose)
                vote(parent[parent[index]], prose / 2)
        elif name in LOOSE_TEXT_TAGS and (own := tree.own_text[index]) >= MIN_LOOSE_TEXT:
            vote(index, own)
            vote(parent[index], own / 2)
    lowest, beyond = (kept[0], kept[-1] + 1) if kept else (0, 0)
    ranked = [
        (score, index)
        for index, score in scores.items()
        if lowest <= index < beyond and not sizes.skipped[index]
    ]
    if not ranked:
        return []
    best_score, best = max(ranked, key=lambda pair: pair[0])
    return _with_siblings(tree, best, best_score, scores, config)


def _is_leaf_block(tree: Tree, index: int) -> bool:
    """A paragraph, or a cell or list item holding no paragraphs (layout tables are not)."""
    return tree.names[index] == "p" or not any(
        tree.names[child] in BLOCK_TAGS for child in _children(tree, index)
    )


def _with_siblings(
    tree: Tree, best: int, best_score: float, scores: dict[int, float], config: ExtractConfig
) -> list[int]:
    up = tree.parent[best]
    if up < 0:
        return [best]
    threshold = best_score * config.sibling_score_share
    return [
        child
        for child in _children(tree, up)
        if child == best or scores.get(child, 0.0) >= threshold
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
