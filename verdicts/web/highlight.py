"""Matched terms highlighted in untrusted passage text, safely.

The passage is split into spans first; every span is escaped, and only then are the
matching ones wrapped in ``<mark>``. Nothing of the input is ever emitted unescaped, so a
passage holding ``<script>`` shows it as text.

Terms are matched word by word, the way ranking produced them: casefolded, accents
stripped, and by light stem (``offered`` highlights for the term ``offer``); a multi-word
term matches the same words in a row, whatever the spacing or markup between them.

Only *distinctive* terms are worth a mark (``distinctive_terms``): marking every "North",
"US" and "2018" in a page about North Korea in 2018 marks everything and so nothing. Stop
words, short words, bare years and words common in news copy are dropped; a phrase stays
when one of its words is distinctive ("North Korea" stays, "North" alone goes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from evidence.scoring.text import STOPWORDS, fold, stem

_WORD = re.compile(r"\w+(?:['’]\w+)*")


Word = tuple[str, int, int]  # folded word, start, end

MIN_WORD_CHARS = 4  # "US", "UN", "war": too short to tell one passage from another
_YEAR = re.compile(r"(1[6-9]|20)\d\d")
# words that appear in most news passages about any claim, so marking them helps nobody
COMMON_WORDS = frozenset(
    """
north south east west central united new old year years month months week weeks day days
today yesterday time times people government country countries state states nation national
president minister official officials report reports reported news told statement week's
percent per cent million billion first last next made make makes according during
""".split()
)


def _words(text: str) -> list[Word]:
    return [(fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def _word_spans(words: list[Word], terms: set[str]) -> list[tuple[int, int]]:
    return [(start, end) for word, start, end in words if word in terms or stem(word) in terms]


def _phrase_spans(words: list[Word], phrase: tuple[str, ...]) -> list[tuple[int, int]]:
    n = len(phrase)
    return [
        (words[i][1], words[i + n - 1][2])
        for i in range(len(words) - n + 1)
        if tuple(w for w, _, _ in words[i : i + n]) == phrase
    ]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _distinctive_word(word: str) -> bool:
    if word in STOPWORDS or word in COMMON_WORDS or _YEAR.fullmatch(word):
        return False
    return len(word) >= MIN_WORD_CHARS or (word.isdigit() and len(word) >= 2)


def distinctive_terms(terms: Iterable[str]) -> list[str]:
    """The terms worth highlighting, in their order: a word that is not a stop word, not
    short, not a bare year and not common news vocabulary, or a phrase holding one."""
    kept: list[str] = []
    for term in terms:
        words = [fold(w) for w in _WORD.findall(term or "")]
        if words and any(_distinctive_word(w) for w in words) and term not in kept:
            kept.append(term)
    return kept


def match_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of ``text`` that match any of ``terms``."""
    words = _words(text)
    split = [tuple(fold(w) for w in _WORD.findall(term)) for term in terms if term]
    singles = {t[0] for t in split if len(t) == 1}
    singles |= {stem(w) for w in singles}
    spans = _word_spans(words, singles)
    for phrase in {t for t in split if len(t) > 1}:
        spans.extend(_phrase_spans(words, phrase))
    return _merge(spans)


def highlight(text: str, terms: Iterable[str]) -> Markup:
    """``text`` as safe HTML with each matched term wrapped in ``<mark>``."""
    out: list[str] = []
    cursor = 0
    for start, end in match_spans(text, terms):
        out.append(escape(text[cursor:start]))
        out.append(Markup("<mark>{}</mark>").format(text[start:end]))  # format() escapes
        cursor = end
    out.append(escape(text[cursor:]))
    return Markup("").join(out)
