"""The rating scale: the words a verdict may use and their ClaimReview numbers.

The words come from ``settings.rating_scale`` (default: true, mostly-true, mixed,
mostly-false, false, misleading, unverifiable). Their numbers come from
``settings.rating_values``, a *truth line*: ``true=5,mostly-true=4,mixed=3,mostly-false=2,
false=1`` by default. ClaimReview consumers read ``ratingValue`` between ``worstRating`` and
``bestRating`` as "how true", so only ratings that say how true a claim is get a number;
the highest number is ``bestRating``, the lowest ``worstRating``.

A rating left off the line (``misleading``: true words, false impression; ``unverifiable``:
the evidence does not settle it) has no place on a truth scale. It is exported with
``alternateName`` only, without ``ratingValue``, ``bestRating`` or ``worstRating``: Google's
fact-check markup requires ``alternateName`` and only recommends the numbers ("the textual
value is currently the only value shown"). Giving such a rating a number would place it
above "false" or below it, which is the mistake the old position-based numbering made.

``unverifiable`` is the one rating that needs no cited evidence: it says the evidence was
not enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evidence.errors import BadInput
from evidence.settings import Settings, get_settings

NO_EVIDENCE_RATINGS = frozenset({"unverifiable"})
"""Ratings a reviewer may give without citing evidence (there is none that settles it)."""


@dataclass(frozen=True)
class Rating:
    """One rating word with its ClaimReview numbers (None for a rating off the truth line)."""

    name: str
    value: int | None  # ClaimReview ratingValue
    best: int | None  # bestRating
    worst: int | None  # worstRating

    @property
    def label(self) -> str:
        """Human-readable text for ClaimReview ``alternateName``: "Mostly true"."""
        return self.name.replace("-", " ").replace("_", " ").capitalize()

    @property
    def on_truth_line(self) -> bool:
        return self.value is not None

    @property
    def needs_evidence(self) -> bool:
        return self.name not in NO_EVIDENCE_RATINGS


def parse_values(text: str) -> dict[str, int]:
    """``"true=5,false=1"`` -> {"true": 5, "false": 1}; BadInput in one sentence."""
    values: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, number = part.partition("=")
        name = name.strip().lower()
        if not sep or not name or not number.strip().lstrip("-").isdigit():
            raise BadInput(f"FACTCHECK_RATING_VALUES: {part!r} is not RATING=NUMBER.")
        if name in values:
            raise BadInput(f"FACTCHECK_RATING_VALUES gives {name!r} twice.")
        values[name] = int(number)
    return values


@dataclass(frozen=True)
class RatingScale:
    names: tuple[str, ...]
    values: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.names:
            raise BadInput("The rating scale is empty; set FACTCHECK_RATING_SCALE.")
        if len(set(self.names)) != len(self.names):
            raise BadInput("The rating scale names a rating twice.")
        for name, number in self.values.items():
            if name not in self.names:
                raise BadInput(
                    f"FACTCHECK_RATING_VALUES places {name!r}, which is not on the rating "
                    f"scale ({', '.join(self.names)})."
                )
            if number < 1:
                raise BadInput(f"FACTCHECK_RATING_VALUES: {name!r} must be 1 or more.")
        if len(set(self.values.values())) != len(self.values):
            raise BadInput("FACTCHECK_RATING_VALUES gives two ratings the same number.")

    def get(self, name: str) -> Rating:
        """The rating called ``name`` (case and surrounding space ignored), or BadInput."""
        key = (name or "").strip().lower()
        if key not in self.names:
            raise BadInput(f"Unknown rating {name!r}; use one of: {', '.join(self.names)}.")
        value = self.values.get(key)
        if value is None:
            return Rating(name=key, value=None, best=None, worst=None)
        return Rating(
            name=key, value=value, best=max(self.values.values()), worst=min(self.values.values())
        )

    def ratings(self) -> list[Rating]:
        return [self.get(name) for name in self.names]


def scale_from(settings: Settings | None = None) -> RatingScale:
    """The configured scale (ratings lower-cased, blanks dropped) and truth line."""
    settings = settings or get_settings()
    names = tuple(r.strip().lower() for r in settings.rating_scale if r.strip())
    values = parse_values(settings.rating_values)
    if settings.rating_values == Settings.model_fields["rating_values"].default:
        # the default line is for the default words: a custom scale keeps what it shares
        values = {name: number for name, number in values.items() if name in names}
    return RatingScale(names, values)


def get_rating(name: str, settings: Settings | None = None) -> Rating:
    return scale_from(settings).get(name)
