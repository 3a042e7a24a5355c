"""The rating scale: the words a verdict may use and their ClaimReview numbers.

The scale comes from ``settings.rating_scale``, best first (default: true, mostly-true,
mixed, mostly-false, false, misleading, unverifiable). ClaimReview wants a number between
``worstRating`` and ``bestRating`` where higher means "more true", so the mapping is by
position: with N ratings the first is N (``bestRating``) and the last is 1 (``worstRating``).
With the default scale ``true`` is 7 and ``unverifiable`` is 1; ``alternateName`` carries
the word itself, which is what fact-check readers (and Google's Fact Check Explorer) show.

``unverifiable`` is the one rating that needs no cited evidence: it says the evidence was
not enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from evidence.errors import BadInput
from evidence.settings import Settings, get_settings

NO_EVIDENCE_RATINGS = frozenset({"unverifiable"})
"""Ratings a reviewer may give without citing evidence (there is none that settles it)."""


@dataclass(frozen=True)
class Rating:
    """One rating word with its ClaimReview numbers."""

    name: str
    value: int  # ClaimReview ratingValue
    best: int  # bestRating
    worst: int  # worstRating

    @property
    def label(self) -> str:
        """Human-readable text for ClaimReview ``alternateName``: "Mostly true"."""
        return self.name.replace("-", " ").replace("_", " ").capitalize()

    @property
    def needs_evidence(self) -> bool:
        return self.name not in NO_EVIDENCE_RATINGS


@dataclass(frozen=True)
class RatingScale:
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.names:
            raise BadInput("The rating scale is empty; set FACTCHECK_RATING_SCALE.")
        if len(set(self.names)) != len(self.names):
            raise BadInput("The rating scale names a rating twice.")

    def get(self, name: str) -> Rating:
        """The rating called ``name`` (case and surrounding space ignored), or BadInput."""
        key = (name or "").strip().lower()
        if key not in self.names:
            raise BadInput(f"Unknown rating {name!r}; use one of: {', '.join(self.names)}.")
        n = len(self.names)
        return Rating(name=key, value=n - self.names.index(key), best=n, worst=1)

    def ratings(self) -> list[Rating]:
        return [self.get(name) for name in self.names]


def scale_from(settings: Settings | None = None) -> RatingScale:
    """The configured scale (ratings lower-cased, blanks dropped)."""
    settings = settings or get_settings()
    return RatingScale(tuple(r.strip().lower() for r in settings.rating_scale if r.strip()))


def get_rating(name: str, settings: Settings | None = None) -> Rating:
    return scale_from(settings).get(name)
