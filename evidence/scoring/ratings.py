"""Rating words as concepts: "Pants on Fire", "FALSE" and "Falso" all mean *false*.

Fact-checkers rate on their own scales and a newsroom configures its own; stance (is the
fact-check on this page a refutation?) and the suggested verdict (which name of *our*
scale?) both need the concept behind a word. Seven concepts, best first::

    rating_concept("Pants on Fire")          # "false"
    nearest_rating("mostly-false", ("Correct", "Partly correct", "Incorrect"))  # "Incorrect"

Pure: no settings; the caller passes the scale.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from evidence.scoring import text as tx

CONCEPTS = ("true", "mostly-true", "mixed", "mostly-false", "false", "misleading", "unverifiable")
FALSEISH = frozenset({"false", "mostly-false", "misleading"})
TRUEISH = frozenset({"true", "mostly-true"})

# Folded words of a rating, checked in this order (the first hit wins: "mostly false"
# must not be read as "false", "half true" not as "true").
_SYNONYMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "unverifiable",
        (
            "unverif",
            "unproven",
            "unsupported",
            "insufficient",
            "no evidence",
            "not enough",
            "cannot be",
            "can't be",
            "unclear",
            "undetermined",
            "unknown",
            "research in progress",
            "unsubstantiated",
            "verdict pending",
        ),
    ),
    (
        "misleading",
        (
            "mislead",
            "out of context",
            "missing context",
            "lacks context",
            "cherry",
            "distort",
            "exaggerat",
            "spin",
            "satire",
            "manipulated",
        ),
    ),
    (
        "mostly-false",
        (
            "mostly false",
            "largely false",
            "mostly inaccurate",
            "mostly incorrect",
            "mostly wrong",
            "barely true",
            "two pinocchios",
            "three pinocchios",
        ),
    ),
    (
        "mostly-true",
        (
            "mostly true",
            "largely true",
            "mostly accurate",
            "mostly correct",
            "one pinocchio",
            "mostly right",
        ),
    ),
    (
        "mixed",
        ("half true", "mixed", "mixture", "partly", "partially", "part true", "somewhat", "half"),
    ),
    (
        "false",
        (
            "false",
            "pants on fire",
            "incorrect",
            "inaccurate",
            "wrong",
            "fake",
            "fabricated",
            "four pinocchios",
            "hoax",
            "baseless",
            "debunked",
            "untrue",
            "not true",
            "falso",
            "faux",
            "scam",
            "bogus",
            "myth",
        ),
    ),
    (
        "true",
        (
            "true",
            "correct",
            "accurate",
            "right",
            "confirmed",
            "verdadero",
            "vrai",
            "geppetto checkmark",
            "legit",
        ),
    ),
)
# When the scale lacks a concept: the next best concepts, nearest first.
_FALLBACK = {
    "true": ("mostly-true", "mixed"),
    "mostly-true": ("true", "mixed"),
    "mixed": ("mostly-true", "mostly-false", "misleading"),
    "mostly-false": ("false", "misleading", "mixed"),
    "false": ("mostly-false", "misleading"),
    "misleading": ("mostly-false", "mixed", "false"),
    "unverifiable": ("mixed",),
}
# Where a concept sits on a best-first scale of unknown words (0 best .. 1 worst).
_POSITION = {
    "true": 0.0,
    "mostly-true": 0.25,
    "mixed": 0.5,
    "mostly-false": 0.75,
    "false": 1.0,
    "misleading": 0.75,
    "unverifiable": 0.5,
}


def rating_concept(name: str | None) -> str | None:
    """The concept a rating word names, or None when it names none we know."""
    if not name:
        return None
    folded = " " + " ".join(tx.tokens(re.sub(r"[_-]", " ", name))) + " "
    for concept, words in _SYNONYMS:
        if any(_has(folded, w) for w in words):
            return concept
    return None


def _has(folded: str, word: str) -> bool:
    # whole words, except stems written without their ending ("mislead", "exaggerat")
    if word.endswith(("mislead", "exaggerat", "distort", "cherry", "unverif", "partly")):
        return f" {word}" in folded
    return f" {word} " in folded


def nearest_rating(concept: str, scale: Sequence[str]) -> str:
    """The name of ``scale`` (best first) that best says ``concept``.

    The scale's own word for the concept when it has one, else the nearest concept it has,
    else the name at the concept's position on the scale.
    """
    if not scale:
        raise ValueError("The rating scale is empty.")
    by_concept: dict[str, str] = {}
    for name in scale:
        found = rating_concept(name)
        if found is not None:
            by_concept.setdefault(found, name)
    for candidate in (concept, *_FALLBACK.get(concept, ())):
        if candidate in by_concept:
            return by_concept[candidate]
    index = int(_POSITION.get(concept, 0.5) * (len(scale) - 1) + 0.5)
    return scale[index]
