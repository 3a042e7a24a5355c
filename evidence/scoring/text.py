"""Pure text analysis shared by query planning (sources) and scoring (evidence).

Deliberately small and dependency-free: tokens, stop words, capitalised entity spans,
numbers, years and dates, quoted strings. Deterministic for a given input, so audits can
recompute every score and every query.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

STOPWORDS = frozenset(
    """
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves said says say also its
it's than then there's one
""".split()
)
# Words that flip or bound a claim's meaning; scoring treats them specially.
NEGATIONS = frozenset(
    {
        "no",
        "not",
        "never",
        "none",
        "nobody",
        "nothing",
        "neither",
        "nor",
        "denied",
        "denies",
        "deny",
        "false",
        "refused",
        "rejected",
    }
)
SUPERLATIVES = frozenset(
    {
        "first",
        "only",
        "never",
        "record",
        "last",
        "ever",
        "largest",
        "biggest",
        "highest",
        "lowest",
        "smallest",
        "unprecedented",
    }
)

_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_NUMBER = re.compile(
    r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?(?:%|percent|per cent))?", re.I
)
_YEAR = re.compile(r"\b(1[6-9]\d\d|20\d\d)\b")
_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{3,200})[\"“”«»]")
_MONTHS = (
    "january february march april may june july august september october november "
    "december jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_DATE = re.compile(
    r"\b(?:\d{{1,2}}\s+(?:{})\.?,?\s+\d{{4}}|(?:{})\.?\s+\d{{1,2}},?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b".format(
        "|".join(_MONTHS), "|".join(_MONTHS)
    ),
    re.I,
)
WORD_NUMBERS = {  # number words and their values, shared by features and matching
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "dozen": 12,
    "twenty": 20,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
}
_ENTITY_JOINERS = frozenset({"of", "the", "and", "de", "von", "van", "al", "bin", "del", "la"})


def fold(text: str) -> str:
    """Casefolded, accents stripped: 'Pyongyang', 'PYONGYANG' and 'Pyongyáng' agree."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    return [fold(t).replace("’", "'") for t in _TOKEN.findall(text)]


def content_tokens(text: str) -> list[str]:
    """Tokens without stop words or one-letter noise; numbers are kept."""
    return [t for t in tokens(text) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]


def stem(token: str) -> str:
    """A light suffix stripper (offers/offered/offering -> offer); enough for matching."""
    for suffix in ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            base = token[: -len(suffix)]
            return base + "y" if suffix == "ies" else base
    return token


def stems(text: str) -> list[str]:
    return [stem(t) for t in content_tokens(text)]


@dataclass(frozen=True)
class Number:
    raw: str
    value: float
    percent: bool


def numbers(text: str) -> list[Number]:
    out = []
    for match in _NUMBER.finditer(text):
        raw = match.group(0).strip()
        digits = re.sub(r"[^\d.+-]", "", raw.split()[0] if " " in raw else raw.rstrip("%"))
        try:
            value = float(digits.replace(",", ""))
        except ValueError:
            continue
        out.append(Number(raw, value, raw.endswith("%") or "cent" in raw.lower()))
    lowered = tokens(text)
    for word in lowered:
        if word in WORD_NUMBERS and word not in ("one",):
            out.append(Number(word, float(WORD_NUMBERS[word]), False))
    return out


def years(text: str) -> list[int]:
    return [int(y) for y in _YEAR.findall(text)]


def dates(text: str) -> list[str]:
    return [m.group(0) for m in _DATE.finditer(text)]


def quoted(text: str) -> list[str]:
    return [q.strip() for q in _QUOTED.findall(text)]


def entities(text: str) -> list[str]:
    """Capitalised spans that are not sentence-initial stop words: 'North Korea', 'Donald Trump',
    'United Nations', 'US'. A heuristic without a model, stable and language-agnostic enough
    for Latin scripts; scripts without case yield nothing (queries then rely on key phrases)."""
    found: list[str] = []
    words = re.findall(r"[\w’'-]+|[.!?;:,]", text)
    span: list[str] = []

    def close() -> None:
        while span and fold(span[-1]) in _ENTITY_JOINERS:
            span.pop()
        if span and not (len(span) == 1 and fold(span[0]) in STOPWORDS):
            name = " ".join(span)
            if name not in found:
                found.append(name)
        span.clear()

    for word in words:
        if word[0].isupper() or (span and fold(word) in _ENTITY_JOINERS and word.islower()):
            span.append(word)
        else:
            close()
    close()
    return found


def key_phrases(text: str, *, max_phrases: int = 5) -> list[str]:
    """Runs of content words between stop words and punctuation, longest first."""
    phrases: list[str] = []
    for chunk in re.split(r"[.,;:!?()\"“”]|\s[-–—]\s", text):
        run: list[str] = []
        for word in _TOKEN.findall(chunk):
            if fold(word) in STOPWORDS:
                if len(run) >= 2:
                    phrases.append(" ".join(run))
                run = []
            else:
                run.append(word)
        if len(run) >= 2:
            phrases.append(" ".join(run))
    unique = list(dict.fromkeys(phrases))
    order = {p: i for i, p in enumerate(unique)}
    return sorted(unique, key=lambda p: (-len(p.split()), order[p]))[:max_phrases]


def has_superlative(text: str) -> bool:
    """A claim about a first, a record, a 'never' or an 'only'."""
    return any(t in SUPERLATIVES for t in tokens(text))
