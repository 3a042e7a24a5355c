"""A GDELT DOC 2.0 article search (``/api/v2/doc/doc``) over a corpus's news pages. Pure.

Answers ``mode=artlist&format=json`` as the real API does::

    {"articles": [{"url", "url_mobile", "title", "seendate": "20180309T120000Z",
                   "socialimage", "domain", "language": "English", "sourcecountry"}]}

and ``{}`` when nothing matches. Query semantics follow GDELT's documentation: every
keyword must appear (AND), in the title or the text, case-insensitively and without
stemming; ``"quoted phrases"`` match those words in that order; ``(a OR b)`` matches either;
``-word`` and ``-"a phrase"`` exclude; ``domain:``, ``sourcecountry:`` and ``sourcelang:``
filter. ``startdatetime``/``enddatetime`` (``YYYYMMDDHHMMSS``) bound the seen date;
``maxrecords`` defaults to 75 and is capped at 250; ``sort`` is relevance (a BM25 score)
unless ``datedesc`` or ``dateasc``.

A query GDELT refuses gets its plain-text sentence with status 200 and an HTML content
type, as the real service answers: a keyword under 3 characters or a quoted phrase under 5
("The specified phrase is too short."), an empty or over-long query ("Your query was too
short or too long."), a bare OR, parentheses around anything but an OR. Unlike the real
service, any date is searchable (the real one only reaches back three months without
``timespan``), because the corpus is an archive of past news.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import lxml.html

DOC_PATH = "/api/v2/doc/doc"
DEFAULT_RECORDS = 75
MAX_RECORDS = 250
MAX_QUERY_CHARS = 250
MIN_KEYWORD = 3
MIN_PHRASE = 5
TITLE_WEIGHT = 2  # a title word counts twice, as headline words weigh more in relevance
BM25_K1 = 1.2
BM25_B = 0.75

TOO_SHORT_PHRASE = "The specified phrase is too short."
BAD_LENGTH = "Your query was too short or too long."
BARE_OR = "Queries containing OR'd terms must be surrounded by ()."
BAD_PARENS = "Parentheses may only be used around OR'd statements."
BAD_DATE = "Invalid query start/end date."
BAD_MODE = "Invalid mode."

_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r'-?"[^"]*"|\(|\)|[^\s()"]+')
_DATE = "%Y%m%d%H%M%S"
_CHROME = (
    "//script|//style|//nav|//header|//footer|//aside|//form"
    "|//*[contains(@class,'cookie')]|//*[contains(@class,'byline')]"
)
_FILTERS = ("domain", "domainis", "sourcecountry", "sourcelang")


class QueryError(Exception):
    """A query the API refuses; the message is the sentence GDELT answers with."""


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def article_text(document: str) -> str:
    """The text of a news page without its chrome (navigation, footer, banners, byline)."""
    root = lxml.html.fromstring(document)
    for bad in root.xpath(_CHROME):
        bad.drop_tree()
    content = root.xpath("//article") or root.xpath("//main") or [root]
    return " ".join(" ".join(content[0].itertext()).split())


@dataclass(frozen=True)
class NewsDoc:
    url: str
    title: str
    text: str
    seendate: datetime
    domain: str
    sourcecountry: str = ""
    language: str = "English"


@dataclass(frozen=True)
class Term:
    """A keyword (one word) or a phrase (several, in order)."""

    words: tuple[str, ...]


@dataclass
class Query:
    required: list[list[Term]] = field(default_factory=list)  # each clause: any of its terms
    excluded: list[Term] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)


def _term(raw: str) -> Term:
    if raw.startswith('"'):
        phrase = raw.strip('"').strip()
        if len(phrase) < MIN_PHRASE:
            raise QueryError(TOO_SHORT_PHRASE)
        return Term(tuple(words(phrase)))
    found = words(raw)
    if not found or len("".join(found)) < MIN_KEYWORD:
        raise QueryError(TOO_SHORT_PHRASE)
    return Term(tuple(found))  # "al-Assad" is the phrase "al assad"


def parse_query(text: str) -> Query:
    """The query's clauses, or ``QueryError`` with GDELT's sentence."""
    text = text.strip()
    if not text or len(text) > MAX_QUERY_CHARS:
        raise QueryError(BAD_LENGTH)
    tokens = _TOKEN.findall(text)
    query = Query()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "(":
            close = tokens.index(")", i) if ")" in tokens[i:] else -1
            group = tokens[i + 1 : close] if close > 0 else []
            alternatives = group[::2]
            if len(group) < 3 or any(op.upper() != "OR" for op in group[1::2]):
                raise QueryError(BAD_PARENS)
            query.required.append([_term(a) for a in alternatives])
            i = close + 1
            continue
        if token == ")":
            raise QueryError(BAD_PARENS)
        if token.upper() == "OR":
            raise QueryError(BARE_OR)
        name, sep, value = token.partition(":")
        if sep and name.lower() in _FILTERS and value:
            query.filters[name.lower()] = value.strip('"').casefold()
        elif token.startswith("-") and len(token) > 1:
            query.excluded.append(_term(token[1:]))
        else:
            query.required.append([_term(token)])
        i += 1
    if not query.required:
        raise QueryError(BAD_LENGTH)
    return query


class NewsIndex:
    """Word lists and counts of every article, built once per corpus version."""

    def __init__(self, docs: Iterable[NewsDoc]) -> None:
        self.docs = list(docs)
        # title and text joined by a break that no phrase can span
        self._tokens = [[*words(d.title), "\x00", *words(d.text)] for d in self.docs]
        self._counts = [Counter(words(d.title) * TITLE_WEIGHT + words(d.text)) for d in self.docs]
        lengths = [sum(c.values()) for c in self._counts]
        self._avg_len = sum(lengths) / len(lengths) if lengths else 1.0
        self._lengths = lengths
        self._df: Counter[str] = Counter(w for c in self._counts for w in c)

    def _tf(self, i: int, term: Term) -> int:
        if len(term.words) == 1:
            return self._counts[i][term.words[0]]
        tokens, n = self._tokens[i], len(term.words)
        return sum(1 for s in range(len(tokens) - n + 1) if tuple(tokens[s : s + n]) == term.words)

    def _passes(self, doc: NewsDoc, filters: Mapping[str, str]) -> bool:
        return all(_filter_holds(doc, name, value) for name, value in filters.items())

    def search(
        self, query: Query, *, start: datetime | None = None, end: datetime | None = None
    ) -> list[tuple[float, NewsDoc]]:
        """Matching articles with their BM25 score, unordered."""
        candidates = [
            i
            for i, d in enumerate(self.docs)
            if (start is None or d.seendate >= start)
            and (end is None or d.seendate <= end)
            and self._passes(d, query.filters)
        ]
        tfs: dict[tuple[int, Term], int] = {}

        def tf(i: int, term: Term) -> int:
            if (i, term) not in tfs:
                tfs[(i, term)] = self._tf(i, term)
            return tfs[(i, term)]

        matched = [
            i
            for i in candidates
            if all(any(tf(i, t) for t in clause) for clause in query.required)
            and not any(tf(i, t) for t in query.excluded)
        ]
        n = len(self.docs)
        terms = {t for clause in query.required for t in clause}
        df = {
            t: self._df[t.words[0]] if len(t.words) == 1 else sum(tf(j, t) > 0 for j in range(n))
            for t in terms
        }
        hits = []
        for i in matched:
            score = sum(
                max(self._bm25(tf(i, t), df[t], self._lengths[i], n) for t in clause)
                for clause in query.required
            )
            hits.append((score, self.docs[i]))
        return hits

    def _bm25(self, tf: int, df: int, length: int, n: int) -> float:
        if not tf:
            return 0.0
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        norm = tf + BM25_K1 * (1 - BM25_B + BM25_B * length / self._avg_len)
        return idf * tf * (BM25_K1 + 1) / norm


def _filter_holds(doc: NewsDoc, name: str, value: str) -> bool:
    domain = doc.domain.casefold()
    if name == "domain":
        return domain == value or domain.endswith("." + value)
    if name == "domainis":
        return domain == value
    if name == "sourcecountry":
        return doc.sourcecountry.casefold().replace(" ", "") == value.replace(" ", "")
    return doc.language.casefold().startswith(value[:3])  # sourcelang: "eng", "english"


def _when(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw.ljust(14, "0")[:14], _DATE).replace(tzinfo=UTC)
    except ValueError as exc:
        raise QueryError(BAD_DATE) from exc


def _records(params: Mapping[str, str]) -> int:
    try:
        value = int(params.get("maxrecords", DEFAULT_RECORDS))
    except ValueError:
        return DEFAULT_RECORDS
    return max(1, min(value, MAX_RECORDS))


def _article(doc: NewsDoc) -> dict[str, str]:
    return {
        "url": doc.url,
        "url_mobile": "",
        "title": doc.title,
        "seendate": doc.seendate.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
        "socialimage": "",
        "domain": doc.domain,
        "language": doc.language,
        "sourcecountry": doc.sourcecountry,
    }


def answer(params: Mapping[str, str], index: NewsIndex) -> tuple[str, Any]:
    """``("json", body)`` for a search, ``("text", sentence)`` for a refused query."""
    try:
        if params.get("mode", "artlist").casefold() != "artlist":
            raise QueryError(BAD_MODE)
        query = parse_query(params.get("query", ""))
        hits = index.search(
            query, start=_when(params, "startdatetime"), end=_when(params, "enddatetime")
        )
    except QueryError as exc:
        return "text", str(exc)
    sort = params.get("sort", "").casefold()
    if sort in {"datedesc", "dateasc"}:
        hits.sort(key=lambda h: (h[1].seendate, h[1].url), reverse=sort == "datedesc")
    else:
        hits.sort(key=lambda h: (-h[0], h[1].url))
    articles = [_article(doc) for _, doc in hits[: _records(params)]]
    return "json", ({"articles": articles} if articles else {})
