"""Query planning: a few search queries from a claim, before any adapter runs.

Pure and deterministic (same claim, same queries), so an audit can recompute them::

    >>> plan_queries("North Korea made its first direct offer of talks to the US")
    ['North Korea made first direct offer talks US', 'North Korea US', 'North Korea made', ...]

Queries come most specific first, because search APIs are asked only the first few:

1. the core: the claim's content words in their order (entities and numbers kept first
   when the claim is long);
2. each quoted string, as an exact phrase;
3. the named entities with the claim's numbers and dates (and the claim date's year when
   the text names none);
4. the claimant with the core words, when the claimant is not in the text;
5. the key phrases, longest first;
6. for scripts without case (Korean), the core words without their particles.
"""

from __future__ import annotations

import re
from datetime import date

from evidence.scoring import text as textmod
from sources.discovery.config import MAX_QUERY_CHARS, MAX_QUERY_WORDS
from sources.discovery.words import (
    FOREIGN_STOPWORDS,
    content_words,
    is_stopword,
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
