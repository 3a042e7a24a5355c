"""Query planning: what to search for, per family and per adapter, before any adapter runs.

Pure and deterministic (same claim, same queries), so an audit can recompute them. A
fact-checker does not search for the claim's sentence; they search for where it came from,
for the story it belongs to and for whoever said it is wrong. So ``plan(claim)`` builds a
``QueryPlan`` of short queries in three families::

    >>> p = plan("North Korea made its first direct offer of talks to the US",
    ...          claimant="Donald Trump")
    >>> [(q.family, q.text) for q in p.queries]
    [('origin', '"Donald Trump" "first direct offer"'),
     ('topic', '"North Korea" US direct offer'),
     ('topic', '"North Korea" US talks'),
     ('refutation', '"North Korea" US (denied OR clarified OR correction OR false OR ...)')]

- **origin**: the claimant and the claim's key phrase (who said it, in their words);
- **topic**: 2–4 of the most specific terms — the entities, the numbers and dates, the key
  predicate — never the whole sentence, because news search ANDs every word;
- **refutation**: the entities with correction and denial words ("denied", "clarified",
  "correction", "not the first", "false").

``QueryPlan.for_adapter(kind)`` renders the plan in each source's own language: GDELT's
(keywords of 3+ characters, quoted phrases, one ``(a OR b)`` group, at most 4 terms),
CirrusSearch's for MediaWiki (phrases, ``intitle:``; no ``OR``, which CirrusSearch does not
treat as boolean), plain text for the fact-check search, and bare terms for the adapters that
rank a listing themselves with BM25 (rss, sitemap, dir). The news date window reaches past the
claim date (corrections come days or weeks later): ``search_dates``.

``plan_queries`` is the earlier planner (a few long keyword strings), kept for the callers
that want plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from evidence.scoring import text as textmod
from sources.discovery.config import (
    CORRECTION_TERMS,
    GDELT_MIN_KEYWORD,
    MAX_FAMILY_TERMS,
    MAX_QUERY_CHARS,
    MAX_QUERY_WORDS,
    NEWS_WINDOW_AFTER_DAYS,
    NEWS_WINDOW_BEFORE_DAYS,
)
from sources.discovery.words import (
    FOREIGN_STOPWORDS,
    content_words,
    is_stopword,
    match_keys,
    strip_particle,
    surface_words,
)

_MONTH_NAMES = frozenset(
    (
        "january february march april may june july august september october november december "
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
    ).split()
)
_SENTENCE_END = re.compile(r"[.!?\"“”«»]\s*$")


def plan_queries(
    text: str,
    *,
    claimant: str | None = None,
    claim_date: date | None = None,
    max_queries: int = 5,
) -> list[str]:
    """Up to ``max_queries`` distinct search queries for the claim ``text``, best first."""
    core = core_words(text)
    if not core or max_queries <= 0:
        return []
    candidates = [" ".join(core)]
    candidates += [f'"{q}"' for q in textmod.quoted(text)]
    candidates.append(_facts_query(text, claim_date))
    if claimant and textmod.fold(claimant) not in textmod.fold(text):
        room = max(MAX_QUERY_WORDS - len(claimant.split()), 1)
        candidates.append(f"{claimant} {' '.join(core[:room])}")
    candidates += _phrases(text)
    candidates.append(" ".join(strip_particle(w) for w in core))
    return _distinct(candidates, max_queries)


def core_words(text: str) -> list[str]:
    """The claim's content words in order, at most MAX_QUERY_WORDS. In a long claim half the
    budget goes to entity words, two words to numbers (amounts before years), and the rest
    to the earliest other words, so the query keeps who, how much and what."""
    words = _unique(content_words(text))
    if len(words) <= MAX_QUERY_WORDS:
        return words
    position = {textmod.fold(w): i for i, w in enumerate(words)}
    entity_words = [w for e in salient_entities(text) for w in _entity_words(e)]
    chosen = [position[f] for f in _unique_folded(entity_words) if f in position]
    chosen = chosen[: MAX_QUERY_WORDS // 2]
    numbers = [i for i, w in enumerate(words) if w[0].isdigit() and i not in chosen]
    in_dates = _date_numbers(text)
    numbers.sort(key=lambda i: (bool(textmod.years(words[i])) or words[i] in in_dates, i))
    chosen += numbers[:2]
    chosen += [i for i in range(len(words)) if i not in chosen]
    return [words[i] for i in sorted(chosen[:MAX_QUERY_WORDS])]


def salient_entities(text: str) -> list[str]:
    """Named entities worth searching for: `evidence.scoring.text.entities` without leading
    articles, month names, foreign function words ("El") and capitalised common words that
    only open a sentence ("Vaccines cause autism")."""
    out: list[str] = []
    for entity in textmod.entities(text):
        words = entity.split()
        while words and textmod.fold(words[0]) in textmod.STOPWORDS and not _acronym(words[0]):
            words.pop(0)
        if not words:
            continue
        name = " ".join(words)
        if len(words) == 1 and not _salient_word(name, text):
            continue
        if name not in out:
            out.append(name)
    return out


def _salient_word(word: str, text: str) -> bool:
    if _acronym(word):
        return True
    folded = textmod.fold(word)
    if folded in FOREIGN_STOPWORDS or folded in _MONTH_NAMES or is_stopword(word):
        return False
    return any(
        not _SENTENCE_END.search(text[: m.start()]) and m.start() > 0
        for m in re.finditer(rf"\b{re.escape(word)}\b", text)
    )


def _acronym(word: str) -> bool:
    """US, NATO, WHO: all capitals, so a name even when it spells a stop word."""
    return word.isupper() and len(word) > 1


def _facts_query(text: str, claim_date: date | None) -> str:
    """Entities with the numbers and dates they come with; empty when there are none."""
    entities = salient_entities(text)
    in_dates = _date_numbers(text)
    facts = [n.raw for n in textmod.numbers(text) if n.raw[0].isdigit() and n.raw not in in_dates]
    facts += textmod.dates(text)
    if claim_date is not None and not textmod.years(text):
        facts.append(str(claim_date.year))
    if not entities or (not facts and len(entities) < 2):
        return ""
    facts = facts[: MAX_QUERY_WORDS // 2]
    room = MAX_QUERY_WORDS - sum(len(f.split()) for f in facts)
    names = _unique([w for e in entities for w in _entity_words(e)])[: max(room, 1)]
    return " ".join(names + facts)


def _date_numbers(text: str) -> set[str]:
    return {w for found in textmod.dates(text) for w in surface_words(found) if w[0].isdigit()}


def _entity_words(entity: str) -> list[str]:
    """'President of the United States' -> President, United, States."""
    return [w for w in entity.split() if not is_stopword(w)]


def _unique_folded(words: list[str]) -> list[str]:
    return [textmod.fold(w) for w in _unique(words)]


def _phrases(text: str) -> list[str]:
    """`evidence.scoring.text.key_phrases`, split again at foreign function words."""
    out: list[str] = []
    for phrase in textmod.key_phrases(text, max_phrases=8):
        run: list[str] = []
        for word in phrase.split() + [""]:
            if word and not is_stopword(word):
                run.append(word)
                continue
            if len(run) >= 2:
                out.append(" ".join(run))
            run = []
    return sorted(dict.fromkeys(out), key=lambda p: -len(p.split()))


def _unique(words: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for word in words:
        if textmod.fold(word) not in seen:
            seen.add(textmod.fold(word))
            out.append(word)
    return out


def _clip(query: str) -> str:
    words = " ".join(query.split()).split(" ")
    if not query.startswith('"'):
        words = words[:MAX_QUERY_WORDS]
    clipped = " ".join(words)
    if len(clipped) > MAX_QUERY_CHARS:
        clipped = clipped[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]
        if clipped.startswith('"'):
            clipped = clipped.rstrip('"') + '"'
    return clipped


def _distinct(candidates: list[str], limit: int) -> list[str]:
    """Clipped, non-empty queries; a query whose words (as matched) equal an earlier one's
    adds nothing and is dropped."""
    seen: set[frozenset[str]] = set()
    out: list[str] = []
    for candidate in candidates:
        query = _clip(candidate.strip())
        key = frozenset(textmod.stem(textmod.fold(w)) for w in surface_words(query))
        if not query or not key or key in seen:
            continue
        seen.add(key)
        out.append(query)
        if len(out) == limit:
            break
    return out


# -- query families -------------------------------------------------------------------------

ORIGIN, TOPIC, REFUTATION, FOLLOWUP = "origin", "topic", "refutation", "followup"
GIVEN = "given"  # a query handed in as a plain string (no plan)
FAMILIES = (ORIGIN, TOPIC, REFUTATION, FOLLOWUP, GIVEN)
LOCAL_KINDS = frozenset({"rss", "sitemap", "dir"})  # adapters that rank a listing themselves
_PLAIN_FAMILIES = {"factcheck-api": (ORIGIN, TOPIC, GIVEN)}  # claim search: no refutation words
# verbs that say something was said or done, not what: weak search terms
_WEAK_WORDS = frozenset(
    "made make makes making said says told announced claimed claims stated reported according "
    "has have had new did does since ever even still just every found showed shows study "
    "studies report officials experts scientists researchers".split()
)


@dataclass(frozen=True)
class PlannedQuery:
    """One query of a family: its terms (a term with a space is a phrase), most specific
    first, and an optional OR group of which any one term must match."""

    family: str
    terms: tuple[str, ...]
    any_of: tuple[str, ...] = ()
    # the claim's predicate, for languages without OR: a refutation query on a wiki asks for
    # the subject's article and this word instead of the correction words
    predicate: str | None = None

    @property
    def text(self) -> str:
        """The query in plain search syntax (quoted phrases, one ``(a OR b)`` group)."""
        parts = [_quote(t) for t in self.terms]
        if self.any_of:
            parts.append("(" + " OR ".join(_quote(t) for t in self.any_of) + ")")
        return " ".join(parts)


@dataclass(frozen=True)
class AdapterQuery:
    """A planned query as one adapter sends it: ``query`` in its language, ``terms`` (match
    keys) for adapters that score a listing themselves."""

    family: str
    query: str
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryPlan:
    """The claim's query families; pure and deterministic. ``round`` 2 is the follow-up."""

    claim: str
    queries: tuple[PlannedQuery, ...]
    claim_date: date | None = None
    round: int = 1

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(q.text for q in self.queries)

    @property
    def terms(self) -> tuple[str, ...]:
        """Every query's terms and OR words as match keys, once each, in plan order."""
        words = " ".join(" ".join([*q.terms, *q.any_of]) for q in self.queries)
        return tuple(dict.fromkeys(match_keys(words)))

    def for_adapter(self, kind: str) -> tuple[AdapterQuery, ...]:
        """The plan in ``kind``'s query language, in plan order, each rendering once."""
        out: list[AdapterQuery] = []
        for query in self.queries:
            rendered = render(query, kind)
            if rendered is not None and all(r.query != rendered.query for r in out):
                out.append(rendered)
        return tuple(out)

    def window(self) -> tuple[date, date] | None:
        return search_dates(self.claim_date)

    def as_json(self) -> dict[str, Any]:
        """The plan for the run's search window."""
        span = self.window()
        return {
            "round": self.round,
            "queries": [{"family": q.family, "query": q.text} for q in self.queries],
            "dates": {"from": span[0].isoformat(), "to": span[1].isoformat()} if span else None,
        }


def search_dates(claim_date: date | None) -> tuple[date, date] | None:
    """The news window: NEWS_WINDOW_BEFORE_DAYS before the claim to NEWS_WINDOW_AFTER_DAYS
    after it (a correction comes later, an earlier "first" years before)."""
    if claim_date is None:
        return None
    return (
        claim_date - timedelta(days=NEWS_WINDOW_BEFORE_DAYS),
        claim_date + timedelta(days=NEWS_WINDOW_AFTER_DAYS),
    )


def plan(text: str, *, claimant: str | None = None, claim_date: date | None = None) -> QueryPlan:
    """The origin, topic and refutation queries of the claim ``text`` (see module doc)."""
    terms = claim_terms(text)
    names, facts, predicates = terms["entities"], terms["facts"], terms["predicates"]
    queries: list[PlannedQuery] = []
    origin = _origin_terms(text, claimant, names)
    if origin:
        queries.append(PlannedQuery(ORIGIN, origin))
    head = names[:2]
    long_topics: list[PlannedQuery] = []
    if head:
        # short first, for AND-semantics news search: each named subject alone (the engine's
        # relevance ranking and the date window do the rest), then the subject with its key
        # word; the longer topic queries come after the refutation query
        # news writes "Lowell" for "Pete Lowell" and "Corran" for "Athletic Corran" after
        # the first mention: the short forms find the follow-ups and corrections
        short = list(dict.fromkeys(_short_name(name) for name in head))
        if len(short) > 1:
            queries.append(PlannedQuery(TOPIC, tuple(short)))
        queries += [PlannedQuery(TOPIC, (name,)) for name in short if len(name) >= 4]
        if predicates:
            queries.append(PlannedQuery(TOPIC, (short[0], predicates[0])))
        long_topics.append(PlannedQuery(TOPIC, _cap(head + predicates[:2])))
        long_topics.append(PlannedQuery(TOPIC, _cap(head + (facts[:2] or predicates[2:4]))))
    else:
        # no name to anchor on: pairs of the most specific words, since an AND search for
        # three of them often matches nothing ("reclassified" is not in "Pluto demoted")
        top = predicates[:4]
        pairs = [(a, b) for i, a in enumerate(top) for b in top[i + 1 :]]
        pairs.sort(key=lambda pair: top.index(pair[1]))
        queries += [PlannedQuery(TOPIC, pair) for pair in pairs]
        long_topics.append(PlannedQuery(TOPIC, _cap(predicates[:3] + facts[:1])))
        long_topics.append(PlannedQuery(TOPIC, _cap(predicates[:2] + predicates[3:5])))
    subject = head or predicates[:2]
    if len(subject) < 2 and predicates and predicates[0] not in subject:
        subject = [*subject, predicates[0]]
    if subject:
        # a wiki is asked for the named subject's article and this word (see cirrus_query)
        verb = next((w for w in predicates if w not in subject), None) if head else None
        queries.append(PlannedQuery(REFUTATION, tuple(subject), _corrections(text), verb))
    queries += long_topics
    if facts and predicates:  # the mixed topic: who, how much and what, last (least asked)
        queries.append(PlannedQuery(TOPIC, _cap(head[:1] + facts[:1] + predicates[:2])))
    return QueryPlan(text, _distinct_queries(queries), claim_date)


_PLACE_QUALIFIERS = frozenset(
    "north south east west northern southern eastern western new united saudi hong sri el "
    "los las san santa costa puerto sierra cape central upper lower great".split()
)


def _short_name(entity: str) -> str:
    """How a text names an entity after its first mention: the part before "of" ("Great
    Wall" for "Great Wall of China"), else its last word ("Lowell" for "Pete Lowell");
    one-word names and acronyms stay as they are."""
    words = entity.split()
    if len(words) < 2:
        return entity
    folded = [textmod.fold(w) for w in words]
    if "of" in folded[1:]:
        return " ".join(words[: folded.index("of")])
    if folded[0] in _PLACE_QUALIFIERS:  # "Korea" is not "North Korea"
        return entity
    last = words[-1]
    return last if len(last) >= 3 else entity


def claim_terms(text: str) -> dict[str, list[str]]:
    """The claim's searchable terms: ``entities`` (names, as phrases), ``facts`` (amounts,
    then full dates, then years) and ``predicates`` (the other content words, longest first,
    without superlatives and verbs of saying)."""
    names = salient_entities(text)[:3]
    in_dates = _date_numbers(text)
    amounts = [
        n.raw
        for n in textmod.numbers(text)
        if n.raw[0].isdigit() and n.raw not in in_dates and not textmod.years(n.raw)
    ]
    facts = _unique(amounts + textmod.dates(text) + [str(y) for y in textmod.years(text)])
    facts = [f for f in facts if not any(f in d for d in textmod.dates(text) if f != d)]
    taken = {textmod.fold(w) for e in names for w in e.split()}
    taken |= {textmod.fold(w) for f in facts for w in f.split()}
    words = [strip_particle(w) for w in content_words(text)]
    predicates = [
        w
        for w in _unique(words)
        if textmod.fold(w) not in taken
        and not w[0].isdigit()
        and textmod.fold(w) not in textmod.SUPERLATIVES
        and textmod.fold(w) not in _WEAK_WORDS
        and textmod.fold(w) not in _MONTH_NAMES
    ]
    order = {w: i for i, w in enumerate(predicates)}
    predicates.sort(key=lambda w: (-min(len(w), 8), order[w]))
    return {"entities": names, "facts": facts, "predicates": predicates}


def _origin_terms(text: str, claimant: str | None, names: list[str]) -> tuple[str, ...]:
    phrase = _key_phrase(text, names)
    who = claimant.strip() if claimant and claimant.strip() else (names[0] if names else "")
    if not phrase or not who:
        return ()
    return (who, phrase)


def _key_phrase(text: str, names: list[str]) -> str | None:
    """A quoted string, else the claim's phrase with most words outside its names (a
    superlative kept: "first direct offer"), at most MAX_FAMILY_TERMS words."""
    for quote in textmod.quoted(text):
        words = surface_words(quote)
        if len(words) >= 2:
            return " ".join(words[: MAX_FAMILY_TERMS + 2])
    name_words = {textmod.fold(w) for n in names for w in n.split()}
    best: tuple[int, str] | None = None
    for phrase in _phrases(text):
        words = phrase.split()[:MAX_FAMILY_TERMS]
        named = sum(textmod.fold(w) in name_words for w in words)
        own = sum(textmod.fold(w) not in name_words | _WEAK_WORDS for w in words)
        if own >= 2 and (best is None or own - named > best[0]):
            best = (own - named, " ".join(words))
    return best[1] if best else None


def _corrections(text: str) -> tuple[str, ...]:
    """CORRECTION_TERMS, with "not the only"/"not the last" for claims that say so."""
    extra = [f"not the {w}" for w in ("only", "last") if w in textmod.tokens(text)]
    return tuple(dict.fromkeys([*CORRECTION_TERMS, *extra]))


def _cap(terms: list[str]) -> tuple[str, ...]:
    return tuple(_unique(terms)[:MAX_FAMILY_TERMS])


def _distinct_queries(queries: list[PlannedQuery]) -> tuple[PlannedQuery, ...]:
    """Queries with terms, each set of terms once (the first family keeps it)."""
    seen: set[tuple[frozenset[str], frozenset[str]]] = set()
    out = []
    for query in queries:
        key = (frozenset(match_keys(" ".join(query.terms))), frozenset(query.any_of))
        if query.terms and key[0] and key not in seen:
            seen.add(key)
            out.append(query)
    return tuple(out)


def _quote(term: str) -> str:
    return f'"{term}"' if " " in term else term


# -- renderings -----------------------------------------------------------------------------


def render(query: PlannedQuery, kind: str) -> AdapterQuery | None:
    """``query`` in ``kind``'s language; None when that source cannot use it."""
    if kind == "gdelt":
        text = gdelt_query(query)
    elif kind == "mediawiki":
        text = cirrus_query(query)
    elif kind in _PLAIN_FAMILIES:
        if query.family not in _PLAIN_FAMILIES[kind]:
            return None
        text = " ".join(query.terms)
    else:
        text = query.text
    keys = tuple(dict.fromkeys(match_keys(" ".join([*query.terms, *query.any_of]))))
    if not text or (kind in LOCAL_KINDS and not keys):
        return None
    return AdapterQuery(query.family, text, keys)


def gdelt_query(query: PlannedQuery) -> str:
    """GDELT DOC 2.0 syntax: every term is ANDed, so at most MAX_FAMILY_TERMS of them;
    keywords shorter than 3 characters are refused (dropped here), phrases are quoted and
    the OR group is parenthesised. A refutation query without a subject term is not sent."""
    kept = [t for t in (_gdelt_term(t) for t in query.terms) if t][:MAX_FAMILY_TERMS]
    group = [t for t in (_gdelt_term(t) for t in query.any_of) if t]
    if not kept:
        return ""
    if len(group) > 1:
        kept.append("(" + " OR ".join(group) + ")")
    elif group:
        kept.append(group[0])
    return " ".join(kept)


def _gdelt_term(term: str) -> str:
    words = [re.sub(r"[^\w-]", "", w) for w in term.split()]
    words = [w for w in words if w]
    if len(words) > 1:
        return '"' + " ".join(words) + '"'
    return words[0] if words and len(words[0]) >= GDELT_MIN_KEYWORD else ""


def to_gdelt_query(query: str) -> str:
    """A plain query string as GDELT accepts it: quoted phrases kept, short keywords and
    punctuation dropped (GDELT answers "keyword too short" rather than ignoring them)."""
    kept = []
    for part in re.findall(r'"[^"]+"|[^\s"]+', query):
        if part.startswith('"'):
            kept.append(part)
            continue
        word = re.sub(r"[^\w-]", "", part)
        if len(word) >= GDELT_MIN_KEYWORD:
            kept.append(word)
    return " ".join(kept)


def cirrus_query(query: PlannedQuery) -> str:
    """CirrusSearch syntax for MediaWiki. A wiki holds the record rather than denials, so the
    refutation family asks for the articles *about* the claim's first entity
    (``intitle:"North Korea" talks``: its history lists earlier instances); CirrusSearch
    has no boolean OR, so the correction words are not sent."""
    terms = [_quote(t) for t in query.terms[:MAX_FAMILY_TERMS]]
    if query.family == REFUTATION:
        if not query.terms or query.predicate is None:
            return ""  # no name to look up
        return " ".join([f"intitle:{terms[0]}", *([query.predicate] if query.predicate else [])])
    return " ".join(terms)


def given(queries: tuple[str, ...] | list[str], kind: str) -> tuple[AdapterQuery, ...]:
    """Plain query strings (no plan) as ``kind`` sends them, family ``given``."""
    out = []
    for text in queries:
        sent = to_gdelt_query(text) if kind == "gdelt" else text
        if sent:
            out.append(AdapterQuery(GIVEN, sent, tuple(dict.fromkeys(match_keys(text)))))
    return tuple(out)


def with_round(query_plan: QueryPlan, queries: tuple[PlannedQuery, ...], round_: int) -> QueryPlan:
    """The same claim and dates with other queries (the follow-up round)."""
    return replace(query_plan, queries=queries, round=round_)
