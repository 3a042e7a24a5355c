"""Word-level helpers discovery adds on top of `evidence.scoring.text` (English-first).

Function words of the commonest other Latin-script languages of fact-checking (Spanish,
Portuguese, French, German, Italian), so a Spanish claim does not yield "El" as an entity or
"que el" in a query; and the commonest Korean particles, so "북한이" (North Korea + subject
marker) matches a headline that says "북한은" or "북한". Pure and deterministic.
"""

from __future__ import annotations

import re
from functools import lru_cache

from evidence.scoring.text import STOPWORDS, fold, stem

# Only words that are not also meaningful English words ("die", "con", "den" are left out).
FOREIGN_STOPWORDS = frozenset(
    """
el la los las un una unos unas del al que en es por para con se su sus lo le les como pero
mas más ya fue son esta este esto estos estas ha han hay muy sin sobre entre cuando donde
o y e ni u le les des du de et est une dans pour pas qui sur au aux ce cette ces il elle ils
sont avec ont été à où da do dos das em um uma uns umas na nas no nos ao aos pelo pela foi
são com não é der das und ist ein eine einer eines im zu von mit dem auf für sich nicht
wurde auch il di che per non gli della delle dei sono ha nel nella alla
""".split()
)
# Longest first, so "에서" is stripped before "서" could be considered (it is not listed).
_KOREAN_PARTICLES = (
    "에서는",
    "으로는",
    "에게서",
    "이라는",
    "에서",
    "으로",
    "에게",
    "까지",
    "부터",
    "처럼",
    "보다",
    "라는",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "에",
    "의",
    "와",
    "과",
    "도",
    "로",
    "만",
)
_HANGUL = re.compile(r"^[\uac00-\ud7a3]+$")
_SLUG_JOINERS = re.compile(r"[-_/+]")
_WORD = re.compile(r"\d+(?:[.,]\d+)*%?|\w+(?:[-'’]\w+)*", re.UNICODE)


_WORD_CACHE = 65_536  # distinct words remembered; sitemap slugs repeat their vocabulary


@lru_cache(maxsize=_WORD_CACHE)
def is_stopword(word: str) -> bool:
    folded = fold(word)
    return folded in STOPWORDS or folded in FOREIGN_STOPWORDS


def surface_words(text: str) -> list[str]:
    """Words as written (case and accents kept, "3.5%" whole), in text order."""
    return _WORD.findall(text)


def content_words(text: str) -> list[str]:
    """Surface words without function words (any listed language) or one-letter noise."""
    return [w for w in surface_words(text) if not is_stopword(w) and (len(w) > 1 or w[0].isdigit())]


def strip_particle(word: str) -> str:
    """A Korean word without its trailing particle: 북한이 -> 북한; other words unchanged."""
    if not _HANGUL.match(word):
        return word
    for particle in _KOREAN_PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


@lru_cache(maxsize=_WORD_CACHE)
def match_key(word: str) -> str:
    """The form two words must share to count as the same word when matching."""
    # particles first: fold() decomposes Hangul syllables into jamo
    return stem(fold(strip_particle(word)))


def match_keys(text: str) -> list[str]:
    """Match keys of the content words of ``text``, in order; hyphens and underscores split
    words, so the URL slug ``north-korea-offers-talks`` and the title agree."""
    spaced = _SLUG_JOINERS.sub(" ", text)
    return [match_key(w) for w in content_words(spaced)]
