"""Claim near-duplicates: one claim, said again in other words, is checked once.

``similarity(a, b)`` is pure and symmetric, in [0, 1]. It blends two views of the text:

- character trigrams of the folded text (a typo, other punctuation or spacing change few);
- content-word stems (reordered words and other inflections change none);

and then pushes the score down when the two claims disagree where it matters: different
numbers, different years, one negated and the other not, or an antonym pair ("rose" /
"fell"). Those are the hard negatives — the same entities saying the opposite — that a
plain overlap measure would call duplicates.

``best_match`` picks the best of the candidates it is handed; ``evidence.claims`` fetches
them with a bounded SQL pre-filter built from ``needles`` (not a Python scan of every
claim), so this module stays pure: no session, no settings.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TypeVar

from evidence.scoring import features as ft
from evidence.scoring import text as tx

K = TypeVar("K")

TRIGRAM_WEIGHT = 0.3  # the rest goes to the stem overlap
NUMBER_PENALTY = 0.55  # multiplier when both claims give numbers and they differ
YEAR_PENALTY = 0.7
NEGATION_PENALTY = 0.55
ANTONYM_PENALTY = 0.55
ROLE_PENALTY = 0.55
SWAP_PENALTY = 0.6
ENTITY_PENALTY = 0.8  # multiplier when entities named by one are absent from the other
MAX_NEEDLES = 6  # distinctive words looked up with LIKE
NEEDLE_PREFIX = 6  # a word's first letters: "offered"/"offers" share "offere"… "offer"
MIN_NEEDLE = 4
MAX_CANDIDATES = 60  # rows the pre-filter hands to Python for exact scoring
VIEW_CACHE = 8192  # analysed claims kept in memory (a few KB each)

# Words that carry a claim's direction although they are stop words elsewhere.
_KEEP_WORDS = frozenset(
    {"more", "most", "less", "fewer", "over", "under", "before", "after", "up", "down", "only"}
)
# Different words for one direction, mapped to one concept so paraphrases share it.
_CONCEPTS = {
    **dict.fromkeys(
        (
            "fell",
            "fall",
            "drop",
            "dropp",
            "declin",
            "decreas",
            "reduc",
            "lower",
            "cut",
            "shrink",
            "shrank",
            "down",
        ),
        "<decrease>",
    ),
    **dict.fromkeys(
        ("rose", "rise", "ris", "increas", "grew", "grow", "rais", "climb", "jump", "soar", "up"),
        "<increase>",
    ),
    **dict.fromkeys(("more", "over", "above", "exceed"), "<more>"),
    **dict.fromkeys(("less", "fewer", "under", "below"), "<less>"),
    **dict.fromkeys(("high", "higher", "highest"), "<high>"),
    **dict.fromkeys(("low", "lowest"), "<low>"),
    **dict.fromkeys(("largest", "biggest", "larger", "bigger"), "<large>"),
    **dict.fromkeys(("smallest", "smaller"), "<small>"),
    **dict.fromkeys(("percent", "%"), "<percent>"),
    "overtaken": "overtook",
}
# Opposites that flip a claim without a negation word (concepts or normalised stems).
_ANTONYMS = (
    ("<increase>", "<decrease>"),
    ("<more>", "<less>"),
    ("<high>", "<low>"),
    ("<large>", "<small>"),
    ("won", "lost"),
    ("win", "los"),
    ("before", "after"),
    ("support", "oppos"),
    ("approv", "reject"),
    ("accept", "refus"),
    ("allow", "ban"),
    ("legal", "illegal"),
    ("lift", "impos"),
    ("first", "last"),
    ("open", "clos"),
    ("hir", "laid"),
    ("hir", "fir"),
    ("sign", "veto"),
    ("best", "worst"),
)
_ANTONYM_MAP: dict[str, set[str]] = {}
for _a, _b in _ANTONYMS:
    _ANTONYM_MAP.setdefault(_a, set()).add(_b)
    _ANTONYM_MAP.setdefault(_b, set()).add(_a)
# "two" .. "twenty" read as digits, so "seven ministers" matches "7 ministers"
_WORD_DIGITS = {
    word: str(value)
    for word, value in tx.WORD_NUMBERS.items()
    if 2 <= value <= 20 and word != "dozen"
}


@dataclass(frozen=True)
class _View:
    trigrams: frozenset[str]
    stems: frozenset[str]
    words: frozenset[str]
    numbers: frozenset[float]
    years: frozenset[int]
    entities: tuple[str, ...]
    negated: bool
    passive: bool
    tokens: tuple[str, ...]
    folded: str


def terms(text: str) -> list[str]:
    """Normalised terms of a claim: content stems, direction words, number words as digits,
    synonyms of a direction as one concept."""
    out = []
    for token in tx.tokens(text):
        token = _WORD_DIGITS.get(token, token)
        if token in tx.STOPWORDS and token not in _KEEP_WORDS:
            continue
        if len(token) < 2 and not token.isdigit():
            continue
        stemmed = ft.normal_stem(token)
        out.append(_CONCEPTS.get(stemmed, _CONCEPTS.get(token, stemmed)))
    return out


@functools.lru_cache(maxsize=VIEW_CACHE)
def _view(text: str) -> _View:
    """A claim's analysis, cached: intake compares each new claim with up to
    MAX_CANDIDATES known ones, and the same known claims come back claim after claim."""
    words = tx.tokens(text)
    folded = " ".join(words)
    padded = f" {folded} "
    return _View(
        trigrams=frozenset(padded[i : i + 3] for i in range(len(padded) - 2)),
        stems=frozenset(terms(text)),
        words=frozenset(words),
        numbers=frozenset(q.value for q in ft.quantities(text)),
        years=frozenset(tx.years(text)),
        entities=ft.clean_entities(text),
        negated=ft.is_negated(words),
        passive="by" in words,
        tokens=tuple(words),
        folded=folded,
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def _fuzzy_stem_overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard where a stem one typo away from an unmatched stem counts as shared."""
    shared = a & b
    left, right = sorted(a - b), sorted(b - a)
    fuzzy = 0
    for word in left:
        match = next((o for o in right if _one_edit(word, o)), None)
        if match is not None:
            right.remove(match)
            fuzzy += 1
    union = len(a | b) - fuzzy
    return (len(shared) + fuzzy) / union if union else 0.0


def _one_edit(a: str, b: str, *, min_len: int = 4) -> bool:
    """Within one insertion, deletion, substitution or swap; only for words of 4+ letters."""
    if min(len(a), len(b)) < min_len or abs(len(a) - len(b)) > 1 or a.isdigit() or b.isdigit():
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        )
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _has_antonyms(a: _View, b: _View) -> bool:
    only_a, only_b = a.stems - b.stems, b.stems - a.stems
    return any(_ANTONYM_MAP.get(s, set()) & only_b for s in only_a)


def _roles_swapped(a: _View, b: _View) -> bool:
    """The same two entities in the opposite order around the same words, neither
    sentence passive: "India overtook China" against "China overtook India"."""
    if a.passive or b.passive:
        return False
    shared = [e for e in a.entities if e in b.entities]
    for i, first in enumerate(shared):
        for second in shared[i + 1 :]:
            between_a = _between(a.folded, first, second)
            between_b = _between(b.folded, second, first)
            if between_a is not None and between_a == between_b:
                return True
    return False


def _between(folded: str, first: str, second: str) -> str | None:
    match = re.search(rf"\b{re.escape(first)}\b(.*?)\b{re.escape(second)}\b", folded)
    return match.group(1).strip() if match else None


def _one_word_swapped(a: _View, b: _View) -> bool:
    """The same sentence but one word, and not a typo: "a ban on plastic bags" against
    "a ban on plastic straws" is another claim, whatever the overlap says."""
    ops = [op for op in SequenceMatcher(None, a.tokens, b.tokens, autojunk=False).get_opcodes()]
    changed = [op for op in ops if op[0] != "equal"]
    if len(changed) != 1:
        return False
    tag, i1, i2, j1, j2 = changed[0]
    if tag != "replace" or i2 - i1 != 1 or j2 - j1 != 1:
        return False
    left, right = a.tokens[i1], b.tokens[j1]
    same = bool(terms(left)) and terms(left) == terms(right)
    typo = _one_edit(ft.normal_stem(left), ft.normal_stem(right)) or _one_edit(
        left, right, min_len=3
    )
    return not (same or typo) and not (left in tx.STOPWORDS and right in tx.STOPWORDS)


def similarity(a: str, b: str) -> float:
    """How likely two claims are the same claim, in [0, 1]; symmetric and deterministic."""
    va, vb = _view(a), _view(b)
    return round(_base(va, vb) * _disagreement(va, vb), 4)


def _base(a: _View, b: _View) -> float:
    """Overlap before disagreement penalties: trigram and (typo-tolerant) stem Jaccard."""
    return TRIGRAM_WEIGHT * _jaccard(a.trigrams, b.trigrams) + (
        1 - TRIGRAM_WEIGHT
    ) * _fuzzy_stem_overlap(a.stems, b.stems)


def _upper_bound(a: _View, b: _View) -> float:
    """A cheap ceiling on ``similarity``: disagreement only lowers it, and at most every
    unmatched stem on the smaller side can be a typo of one on the other side."""
    shared = len(a.stems & b.stems)
    typos = min(len(a.stems - b.stems), len(b.stems - a.stems))
    union = len(a.stems | b.stems) - typos
    stems = min(1.0, (shared + typos) / union) if union else 0.0
    return TRIGRAM_WEIGHT * _jaccard(a.trigrams, b.trigrams) + (1 - TRIGRAM_WEIGHT) * stems


def _disagreement(a: _View, b: _View) -> float:
    """A multiplier in (0, 1]: each kind of disagreement found lowers it."""
    factor = 1.0
    if a.numbers and b.numbers and not _numbers_agree(a.numbers, b.numbers):
        factor *= NUMBER_PENALTY
    if a.years and b.years and a.years != b.years:
        factor *= YEAR_PENALTY
    if a.negated != b.negated:
        factor *= NEGATION_PENALTY
    if _has_antonyms(a, b):
        factor *= ANTONYM_PENALTY
    if _roles_swapped(a, b):
        factor *= ROLE_PENALTY
    if _one_word_swapped(a, b):
        factor *= SWAP_PENALTY
    if a.entities and b.entities and _missing_entities(a, b):
        factor *= ENTITY_PENALTY
    return factor


def _numbers_agree(a: frozenset[float], b: frozenset[float]) -> bool:
    return all(any(ft._close(x, y) for y in b) for x in a) and all(
        any(ft._close(x, y) for x in a) for y in b
    )


def _missing_entities(a: _View, b: _View) -> bool:
    """An entity of either claim that the other does not name (surname alone is enough)."""

    def named(entity: str, other: _View) -> bool:
        words = entity.split()
        return all(w in other.words for w in words) or words[-1] in other.words

    return any(not named(e, b) for e in a.entities) or any(not named(e, a) for e in b.entities)


# -- finding a known claim ----------------------------------------------------------------


def needles(text: str) -> list[str]:
    """The distinctive word prefixes of a claim, most distinctive first.

    With no statistics at hand, length stands in for rarity; numbers are distinctive too.
    A prefix (not the whole word) still finds "offered" from "offers" and survives a typo
    near a word's end.
    """
    found = re.findall(r"\d+(?:[.,]\d+)*|[^\W\d_]+", text.casefold())
    words = [w for w in found if w not in tx.STOPWORDS]
    picked: list[str] = []
    for word in sorted(dict.fromkeys(words), key=lambda w: (-(w[0].isdigit() * 10 + len(w)), w)):
        if len(word) < MIN_NEEDLE and not word[0].isdigit():
            continue
        needle = word if word[0].isdigit() else word[:NEEDLE_PREFIX]
        if needle not in picked:
            picked.append(needle)
        if len(picked) == MAX_NEEDLES:
            break
    return picked


def best_match(
    text: str, candidates: Iterable[tuple[K, str]], *, threshold: float
) -> tuple[K, float] | None:
    """The candidate (key, text) most similar to ``text`` at or above ``threshold``, with its
    score; None when none reaches it. Pure: the caller fetches the candidates."""
    best: tuple[K, float] | None = None
    mine = _view(text)
    for key, their_text in candidates:
        theirs = _view(their_text)
        # staged: each step is a ceiling on the next, so skipping early changes no result
        if _upper_bound(mine, theirs) < threshold:
            continue
        base = _base(mine, theirs)
        if base < threshold:
            continue
        score = round(base * _disagreement(mine, theirs), 4)
        if score >= threshold and (best is None or score > best[1]):
            best = (key, score)
    return best
