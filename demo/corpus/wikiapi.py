"""A MediaWiki ``api.php`` that answers searches over a site's wiki pages, in the API's format.

Supported, as ``action=query`` with ``format=json`` (``formatversion`` 1 or 2):

- ``list=search&srsearch=…`` with ``srlimit`` (default 10, max 500), ``sroffset`` and
  ``srwhat=text|title``: ``{"batchcomplete": …, "continue": {"sroffset": …},
  "query": {"searchinfo": {"totalhits": n}, "search": [{ns, title, pageid, size, wordcount,
  snippet, timestamp}]}}`` — snippets carry ``<span class="searchmatch">`` like the real one;
- ``generator=search&gsrsearch=…&prop=info&inprop=url``: ``query.pages`` keyed by page id
  with ``fullurl`` and ``canonicalurl``.

Matching: a page matches when it holds every query word (case-folded, a plural ``s``
dropped, stop words ignored), as CirrusSearch's default AND does; when no page holds them
all, pages holding the most words are returned instead, the way Wikipedia's search falls
back to a looser query rather than showing nothing. Errors come back as
``{"error": {"code", "info"}}`` with a ``MediaWiki-API-Error`` header. Pure apart from lxml.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import lxml.html

DEFAULT_LIMIT = 10
MAX_LIMIT = 500
SNIPPET_CHARS = 160
TITLE_WEIGHT = 5  # a word in the title counts as five in the text
# like CirrusSearch, infoboxes, the table of contents and references are not article text
_AUXILIARY = (
    "//script|//style|//*[contains(@class,'reflist')]|//*[contains(@class,'infobox')]"
    "|//*[@id='toc']"
)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "were with".split()
)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def terms(text: str) -> list[str]:
    """Search terms of a text: lower-cased words, stop words out, a plural ``s`` dropped."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


def page_text(document: str) -> str:
    """The article text of a wiki page: its content block without scripts and chrome."""
    root = lxml.html.fromstring(document)
    for bad in root.xpath(_AUXILIARY):
        bad.drop_tree()
    content = root.xpath("//*[contains(@class,'mw-parser-output')]") or [root]
    # itertext, not text_content: block elements must not run their words together
    return " ".join(" ".join(content[0].itertext()).split())


@dataclass(frozen=True)
class WikiDoc:
    pageid: int
    title: str
    path: str
    text: str
    timestamp: datetime

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Hit:
    doc: WikiDoc
    score: int


class WikiIndex:
    """Term counts of every page, built once per corpus version."""

    def __init__(self, docs: Iterable[WikiDoc]) -> None:
        self.docs = list(docs)
        self._text = [Counter(terms(d.text)) for d in self.docs]
        self._title = [Counter(terms(d.title)) for d in self.docs]

    def search(self, query: str, *, what: str = "text") -> list[Hit]:
        wanted = list(dict.fromkeys(terms(query)))
        if not wanted:
            return []
        scored: list[tuple[int, int, int]] = []  # (words matched, score, doc index)
        for i, (text, title) in enumerate(zip(self._text, self._title, strict=True)):
            counts = title if what == "title" else text
            matched = [t for t in wanted if counts[t] or title[t]]
            if matched:
                score = sum(TITLE_WEIGHT * title[t] + min(text[t], 20) for t in matched)
                scored.append((len(matched), score, i))
        if not scored:
            return []
        best = max(s[0] for s in scored)
        threshold = len(wanted) if best == len(wanted) else best
        kept = [s for s in scored if s[0] >= threshold]
        kept.sort(key=lambda s: (-s[1], self.docs[s[2]].title))
        return [Hit(self.docs[i], score) for _, score, i in kept]


def snippet(text: str, query: str) -> str:
    """About ``SNIPPET_CHARS`` of text around the first match, matches wrapped in spans."""
    wanted = set(terms(query))
    words = list(re.finditer(r"\w+", text))
    first = next((m for m in words if _stem(m.group().lower()) in wanted), None)
    start = max(0, (first.start() if first else 0) - SNIPPET_CHARS // 3)
    start = text.rfind(" ", 0, start) + 1 if start else 0
    window = text[start : start + SNIPPET_CHARS]
    out, last = [], 0
    for m in re.finditer(r"\w+", window):
        if _stem(m.group().lower()) in wanted:
            out.append(html.escape(window[last : m.start()]))
            out.append(f'<span class="searchmatch">{html.escape(m.group())}</span>')
            last = m.end()
    out.append(html.escape(window[last:]))
    return "".join(out)


class ApiError(Exception):
    def __init__(self, code: str, info: str) -> None:
        self.code = code
        self.info = info
        super().__init__(info)


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw == "max":
        return high
    try:
        value = int(raw)
    except ValueError as exc:
        info = f'Invalid value "{raw}" for integer parameter "{name}".'
        raise ApiError("badinteger", info) from exc
    return max(low, min(value, high))


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list_search(params: Mapping[str, str], index: WikiIndex, v2: bool) -> dict[str, Any]:
    query = params.get("srsearch", "")
    if not query.strip():
        raise ApiError("missingparam", 'The "srsearch" parameter must be set.')
    limit = _int(params, "srlimit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int(params, "sroffset", 0, 0, 10_000)
    hits = index.search(query, what=params.get("srwhat", "text"))
    page = hits[offset : offset + limit]
    result: dict[str, Any] = {"batchcomplete": True if v2 else ""}
    if offset + limit < len(hits):
        result["continue"] = {"sroffset": offset + limit, "continue": "-||"}
    result["query"] = {
        "searchinfo": {"totalhits": len(hits)},
        "search": [
            {
                "ns": 0,
                "title": h.doc.title,
                "pageid": h.doc.pageid,
                "size": len(h.doc.text.encode()),
                "wordcount": h.doc.words,
                "snippet": snippet(h.doc.text, query),
                "timestamp": _ts(h.doc.timestamp),
            }
            for h in page
        ],
    }
    return result


def _generator_search(
    params: Mapping[str, str], index: WikiIndex, url_for: Callable[[str], str], v2: bool
) -> dict[str, Any]:
    query = params.get("gsrsearch", "")
    if not query.strip():
        raise ApiError("missingparam", 'The "gsrsearch" parameter must be set.')
    limit = _int(params, "gsrlimit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int(params, "gsroffset", 0, 0, 10_000)
    hits = index.search(query, what=params.get("gsrwhat", "text"))
    with_url = "url" in params.get("inprop", "").split("|")
    pages: list[dict[str, Any]] = []
    for rank, hit in enumerate(hits[offset : offset + limit], start=offset + 1):
        page: dict[str, Any] = {"pageid": hit.doc.pageid, "ns": 0, "title": hit.doc.title}
        page["index"] = rank
        if with_url:
            url = url_for(hit.doc.path)
            page.update(fullurl=url, editurl=f"{url}?action=edit", canonicalurl=url)
        pages.append(page)
    result: dict[str, Any] = {"batchcomplete": True if v2 else ""}
    if offset + limit < len(hits):
        result["continue"] = {"gsroffset": offset + limit, "continue": "gsroffset||"}
    result["query"] = {"pages": pages if v2 else {str(p["pageid"]): p for p in pages}}
    return result


def answer(
    params: Mapping[str, str], index: WikiIndex, url_for: Callable[[str], str]
) -> tuple[dict[str, Any], str | None]:
    """The JSON body for an api.php request, and the error code (for the header) if any."""
    try:
        if params.get("format", "json") != "json":
            raise ApiError("badvalue", 'Unrecognized value for parameter "format".')
        if params.get("action") != "query":
            raise ApiError(
                "badvalue", f'Unrecognized value for parameter "action": {params.get("action")}.'
            )
        v2 = params.get("formatversion") in {"2", "latest"}
        if params.get("list") == "search":
            return _list_search(params, index, v2), None
        if params.get("generator") == "search":
            return _generator_search(params, index, url_for, v2), None
        raise ApiError("badvalue", "Only list=search and generator=search are supported here.")
    except ApiError as exc:
        return {"error": {"code": exc.code, "info": exc.info, "*": "See /w/api.php."}}, exc.code
