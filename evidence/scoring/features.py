"""Agreement features between a claim and a passage: pure, deterministic, explainable.

Each feature answers one question a reviewer would ask of a passage, so the score can be
shown as its parts:

- ``phrase``    how many of the claim's word pairs (and quoted phrases) occur verbatim;
- ``entity``    which named entities of the claim the passage names, which it does not;
- ``number``    which quantities agree, which are absent, which *contradict* (same unit
                context — "troops", "%", "people" — but another value);
- ``date``      which years and dates agree or contradict;
- ``negation``  whether the passage's polarity differs from the claim's near the matched words.

The claim is analysed once (``profile``) and compared with many passages. Everything here is
built on ``evidence.scoring.text``; the helpers below that refine it (entities without a leading
article or month names, quantities with a unit and a scale, dates parsed to ``date``) live
here because ``evidence.scoring.text`` is shared and frozen for this work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from evidence.scoring import text as tx

# a quantity equal within this relative tolerance agrees ("2.5 million" vs "2,500,000")
NUMBER_TOLERANCE = 0.005
NEGATION_WINDOW = 6  # tokens either side of a matched claim word in which a cue counts
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6}
_CURRENCY = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy"}
_MONTH_NAMES = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday "
    "friday saturday sunday".split()
)
_QUANTITY = re.compile(
    r"(?P<cur>[$€£¥])?\s?(?P<num>(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,])\d+(?:\.\d+)?)"
    r"(?P<pct>\s?(?:%|percent\b|per cent\b))?",
    re.I,
)
_THIN_THOUSANDS = re.compile(r"(?<![\d,.])(\d{1,3})[ \u00a0\u202f](\d{3})\b")  # "40 000"
_UNIT_WORD = re.compile(r"\s*(?:-\s*)?([A-Za-z][\w-]*)")
_WORD_NUMBER = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|dozen)\b"
    r"\s+([A-Za-z][\w-]*)",
    re.I,
)


@dataclass(frozen=True)
class Quantity:
    """A number with the context that makes two of them comparable."""

    value: float
    unit: str | None  # "%", "usd", or the stem of the word after it ("troop"); None if bare
    raw: str


@dataclass(frozen=True)
class ClaimProfile:
    """What scoring needs from a claim, computed once per claim."""

    text: str
    stems: tuple[str, ...]  # unique content stems in claim order
    bigrams: frozenset[tuple[str, str]]
    quoted: tuple[str, ...]  # folded quoted phrases
    entities: tuple[str, ...]  # folded, without leading articles
    quantities: tuple[Quantity, ...]
    years: tuple[int, ...]
    dates: tuple[date, ...]
    negated: bool


@dataclass(frozen=True)
class Features:
    """One passage's agreement with one claim; ``components`` are in [0, 1]."""

    phrase: float
    entity: float
    entities_found: tuple[str, ...]
    entities_missing: tuple[str, ...]
    number_agree: float
    number_contradict: float
    date_agree: float
    date_contradict: float
    negation: float  # 1.0 when polarity differs from the claim's near the matched words
    coverage: float  # share of the claim's content stems present
    matched_stems: tuple[str, ...]

    def components(self) -> dict[str, float]:
        return {
            "phrase": self.phrase,
            "entity": self.entity,
            "number": self.number_agree,
            "number_contradiction": self.number_contradict,
            "date": self.date_agree,
            "date_contradiction": self.date_contradict,
            "negation": self.negation,
            "coverage": self.coverage,
        }


# -- refinements of evidence.scoring.text ---------------------------------------------------------


def clean_entities(text: str) -> tuple[str, ...]:
    """``text.entities`` folded, leading articles dropped ("The US" -> "us"), months removed."""
    out: list[str] = []
    for name in tx.entities(text):
        words = tx.tokens(name)
        while words and words[0] in tx.STOPWORDS:
            words.pop(0)
        if not words or all(w in _MONTH_NAMES for w in words):
            continue
        folded = " ".join(words)
        if folded not in out:
            out.append(folded)
    return tuple(out)


def quantities(text: str) -> tuple[Quantity, ...]:
    """Numbers with a scale and unit context; years and parts of dates are left out.

    "$4.5 billion" -> 4.5e9 usd; "2,500 troops" -> 2500 troop; "12%" -> 12 %.
    ``evidence.scoring.text.numbers`` reads "4.5 billion" as two numbers and counts years, which
    would make every dated passage "contradict" a claim's figures.
    """
    blanked = _THIN_THOUSANDS.sub(r"\1,\2", _blank_dates(text))
    found: list[Quantity] = []
    for match in _QUANTITY.finditer(blanked):
        raw_num = match.group("num")
        value = float(raw_num.replace(",", ""))
        if _looks_like_year(raw_num) and not match.group("cur") and not match.group("pct"):
            continue
        unit: str | None = "%" if match.group("pct") else None
        rest = blanked[match.end() :]
        word = _UNIT_WORD.match(rest)
        if word and tx.fold(word.group(1)) in _SCALES:
            value *= _SCALES[tx.fold(word.group(1))]
            rest = rest[word.end() :]
            word = _UNIT_WORD.match(rest)
        if match.group("cur"):
            unit = _CURRENCY[match.group("cur")]
        elif unit is None and word is not None:
            unit = _unit_of(word.group(1))
        found.append(Quantity(value, unit, match.group(0).strip()))
    for match in _WORD_NUMBER.finditer(blanked):
        found.append(
            Quantity(
                float(tx.WORD_NUMBERS[match.group(1).lower()]),
                _unit_of(match.group(2)),
                match.group(0),
            )
        )
    return tuple(found)


def _unit_of(word: str) -> str | None:
    folded = tx.fold(word)
    if folded in tx.STOPWORDS or folded in _MONTH_NAMES:
        return None
    if folded in ("percent", "per"):
        return "%"
    return tx.stem(folded)


def _looks_like_year(raw: str) -> bool:
    return bool(re.fullmatch(r"1[6-9]\d\d|20\d\d", raw))


def _blank_dates(text: str) -> str:
    """Dates replaced by spaces of equal length, so their day numbers are not quantities."""
    for found in tx.dates(text):
        text = text.replace(found, " " * len(found))
    return text


def parse_dates(text: str) -> tuple[date, ...]:
    """Full dates written in the text, parsed; unparseable spellings are skipped."""
    out: list[date] = []
    for raw in tx.dates(text):
        parsed = parse_date_text(raw)
        if parsed is not None and parsed not in out:
            out.append(parsed)
    return tuple(out)


def parse_date_text(raw: str) -> date | None:
    cleaned = re.sub(r"[.,]", " ", raw)
    cleaned = re.sub(r"\bsept\b", "sep", cleaned, flags=re.I)
    cleaned = " ".join(cleaned.split())
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%B %d %Y", "%d %b %Y", "%b %d %Y"):
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def normal_stem(token: str) -> str:
    """``text.stem`` after dropping a possessive, with a final "e" dropped.

    ``text.stem`` leaves "moon's" as "moon'" and maps "improves" to "improv" but "improve"
    to itself; both would make the same word miss itself across claim and passage.
    """
    token = token.removesuffix("'s").removesuffix("'")
    stemmed = tx.stem(token)
    if len(stemmed) > 4 and stemmed.endswith("e"):
        stemmed = stemmed[:-1]
    return stemmed


def content_stems(text: str) -> list[str]:
    """``text.stems`` with ``normal_stem``: content words only, numbers kept."""
    return [normal_stem(t) for t in tx.content_tokens(text)]


def is_negated(words: Iterable[str]) -> bool:
    return any(w in tx.NEGATIONS or w.endswith("n't") for w in words)


# -- the claim side -----------------------------------------------------------------------


def profile(claim: str) -> ClaimProfile:
    """Analyse a claim once; pass the profile to ``features`` for each passage."""
    claim_stems = content_stems(claim)
    stems = tuple(dict.fromkeys(claim_stems))
    return ClaimProfile(
        text=claim,
        stems=stems,
        bigrams=frozenset(_bigrams(claim_stems)),
        quoted=tuple(" ".join(tx.tokens(q)) for q in tx.quoted(claim)),
        entities=clean_entities(claim),
        quantities=quantities(claim),
        years=tuple(dict.fromkeys(tx.years(claim))),
        dates=parse_dates(claim),
        negated=is_negated(tx.tokens(claim)),
    )


def _bigrams(stems: list[str]) -> set[tuple[str, str]]:
    return set(zip(stems, stems[1:], strict=False))


# -- one feature per question -------------------------------------------------------------


def phrase_overlap(claim: ClaimProfile, passage_stems: list[str], passage_folded: str) -> float:
    """Share of the claim's adjacent content-word pairs found adjacent in the passage;
    a quoted phrase of the claim found verbatim counts as fully matching."""
    if any(q and q in passage_folded for q in claim.quoted):
        return 1.0
    if not claim.bigrams:
        return 0.0
    return len(claim.bigrams & _bigrams(passage_stems)) / len(claim.bigrams)


def entity_presence(
    claim: ClaimProfile, passage_folded_words: str
) -> tuple[float, tuple[str, ...], tuple[str, ...]]:
    """Share of claim entities named; a person's surname alone counts ("Trump")."""
    if not claim.entities:
        return 0.0, (), ()
    found, missing = [], []
    padded = f" {passage_folded_words} "
    for name in claim.entities:
        last = name.split()[-1]
        if f" {name} " in padded or (" " in name and len(last) > 3 and f" {last} " in padded):
            found.append(name)
        else:
            missing.append(name)
    return len(found) / len(claim.entities), tuple(found), tuple(missing)


def number_agreement(
    claim: ClaimProfile, passage_quantities: tuple[Quantity, ...]
) -> tuple[float, float]:
    """(agree, contradict) shares of the claim's quantities.

    A quantity agrees when the passage has the same value (within tolerance) in the same
    unit, or the same value where either side has no unit; it contradicts when the passage
    has the same unit with only other values. A bare claim number never contradicts:
    without a unit there is no telling what a different number counts.
    """
    if not claim.quantities:
        return 0.0, 0.0
    agree = contradict = 0
    for q in claim.quantities:
        same_unit = [p for p in passage_quantities if q.unit and p.unit == q.unit]
        comparable = same_unit or [
            p for p in passage_quantities if q.unit is None or p.unit is None
        ]
        if any(_close(q.value, p.value) for p in comparable):
            agree += 1
        elif same_unit:
            contradict += 1
    n = len(claim.quantities)
    return agree / n, contradict / n


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= NUMBER_TOLERANCE * max(abs(a), abs(b), 1e-9)


def date_agreement(
    claim: ClaimProfile, passage_years: list[int], passage_dates: tuple[date, ...]
) -> tuple[float, float]:
    """(agree, contradict): claim years/dates found; a full date of the claim's year but
    another day, or only other years where the claim names one, contradicts."""
    if not claim.years and not claim.dates:
        return 0.0, 0.0
    checks = agree = contradict = 0
    for year in claim.years:
        checks += 1
        if year in passage_years:
            agree += 1
        elif passage_years and not any(d.year == year for d in claim.dates):
            contradict += 1
    for day in claim.dates:
        checks += 1
        if day in passage_dates:
            agree += 1
        elif any(d.year == day.year and d != day for d in passage_dates):
            contradict += 1
    return agree / checks, contradict / checks


def negation_mismatch(claim: ClaimProfile, passage_tokens: list[str]) -> float:
    """1.0 when a negation cue sits near the matched claim words in the passage but not in
    the claim, or the other way round (the claim denies, the passage affirms)."""
    stems = set(claim.stems)
    near: list[str] = []
    hits = [i for i, tok in enumerate(passage_tokens) if normal_stem(tok) in stems]
    if not hits:
        return 0.0
    for i in hits:
        near.extend(passage_tokens[max(0, i - NEGATION_WINDOW) : i + NEGATION_WINDOW + 1])
    return 1.0 if is_negated(near) != claim.negated else 0.0


@dataclass(frozen=True)
class PassageText:
    """A passage analysed once (tokens, stems, quantities, dates); reused by every feature."""

    tokens: list[str]
    stems: list[str]
    folded_words: str
    quantities: tuple[Quantity, ...]
    years: list[int]
    dates: tuple[date, ...]


def analyse(text: str) -> PassageText:
    toks = tx.tokens(text)
    return PassageText(
        tokens=toks,
        stems=content_stems(text),
        folded_words=" ".join(toks),
        quantities=quantities(text),
        years=tx.years(text),
        dates=parse_dates(text),
    )


def features(claim: ClaimProfile, passage: PassageText) -> Features:
    """Every agreement feature of one passage against one claim."""
    present = set(passage.stems)
    matched = tuple(s for s in claim.stems if s in present)
    entity, found, missing = entity_presence(claim, passage.folded_words)
    number_agree, number_contradict = number_agreement(claim, passage.quantities)
    date_agree, date_contradict = date_agreement(claim, passage.years, passage.dates)
    return Features(
        phrase=phrase_overlap(claim, passage.stems, passage.folded_words),
        entity=entity,
        entities_found=found,
        entities_missing=missing,
        number_agree=number_agree,
        number_contradict=number_contradict,
        date_agree=date_agree,
        date_contradict=date_contradict,
        negation=negation_mismatch(claim, passage.tokens),
        coverage=len(matched) / len(claim.stems) if claim.stems else 0.0,
        matched_stems=matched,
    )
