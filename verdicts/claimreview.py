"""schema.org ClaimReview JSON-LD for a published verdict.

Google's fact-check markup requires ``claimReviewed``, ``reviewRating`` (with
``alternateName``; ``ratingValue``, ``bestRating`` and ``worstRating`` for a numeric scale)
and ``url``, and recommends ``author``, ``datePublished`` and ``itemReviewed`` (a ``Claim``
with its ``author``, ``datePublished`` and ``appearance``). We give all of them that we know.

The rating numbers come from ``verdicts.scale``: a truth line (``FACTCHECK_RATING_VALUES``),
true highest; a rating off that line (misleading, unverifiable) carries ``alternateName``
only. ``url`` is the claim's page under ``settings.publisher_url``.

The claimant is an ``Organization`` when its name reads like one ("Ministry of Health",
"Acme Inc.", "Labour Party"), else a ``Person``; a claim tagged ``claimant:organization`` or
``claimant:person`` overrides the guess.

``build`` is pure (a claim, a verdict and the ``ReviewOptions``), so a bundle check can
rebuild the document offline from the bundle's own files and compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from evidence import claims
from evidence.errors import NotFound
from evidence.models import Claim, Verdict
from evidence.settings import Settings, get_settings
from verdicts import scale
from verdicts.decisions import current_verdict

CLAIM_PATH = "/claims/{claim_id}"
CLAIMANT_TAGS = {"claimant:organization": "Organization", "claimant:person": "Person"}
_ORGANISATION = re.compile(
    r"\b(ministry|department|government|administration|party|agency|bureau|authority|"
    r"council|committee|office|university|college|institute|association|federation|"
    r"coalition|league|society|foundation|fund|trust|bank|commission|parliament|congress|"
    r"senate|court|police|army|embassy|union|organi[sz]ation|campaign|group|news|times|post|"
    r"media|network|radio|tv|inc|ltd|llc|plc|gmbh|corp|corporation|company|co)\b",
    re.IGNORECASE,
)


class NoPublishedVerdict(NotFound):
    def __init__(self, claim_id: int) -> None:
        super().__init__("published verdict for claim", claim_id)
        self.args = (f"Claim {claim_id} has no published verdict to export.",)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class ReviewOptions:
    """What besides the claim and verdict shapes the document (a bundle keeps a copy)."""

    publisher_name: str
    publisher_url: str
    rating_scale: tuple[str, ...]
    rating_values: dict[str, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewOptions:
        ratings = scale.scale_from(settings)
        return cls(settings.publisher_name, settings.publisher_url, ratings.names, ratings.values)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReviewOptions:
        return cls(
            str(data["publisher_name"]),
            str(data["publisher_url"]),
            tuple(data["rating_scale"]),
            {str(k): int(v) for k, v in data["rating_values"].items()},
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "publisher_name": self.publisher_name,
            "publisher_url": self.publisher_url,
            "rating_scale": list(self.rating_scale),
            "rating_values": self.rating_values,
        }


def claimant_type(name: str, tags: list[str] | None = None) -> str:
    """Person, unless the name reads like an organisation ("Ministry of Health") or a
    ``claimant:organization`` / ``claimant:person`` tag says which."""
    for tag in tags or []:
        if tag.strip().lower() in CLAIMANT_TAGS:
            return CLAIMANT_TAGS[tag.strip().lower()]
    return "Organization" if _ORGANISATION.search(name) else "Person"


def claim_url(claim_id: int, publisher_url: str) -> str:
    return publisher_url.rstrip("/") + CLAIM_PATH.format(claim_id=claim_id)


def _item_reviewed(claim: Claim) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": "Claim"}
    if claim.claimant:
        kind = claimant_type(claim.claimant, list(claim.tags or []))
        item["author"] = {"@type": kind, "name": claim.claimant}
    if claim.claim_date:
        item["datePublished"] = claim.claim_date.isoformat()
    if claim.origin_url:
        item["appearance"] = [{"@type": "CreativeWork", "url": claim.origin_url}]
        item["firstAppearance"] = {"@type": "CreativeWork", "url": claim.origin_url}
    return item


def review_rating(rating: scale.Rating) -> dict[str, Any]:
    """The ``reviewRating`` object: numbers only for a rating on the truth line."""
    found: dict[str, Any] = {"@type": "Rating"}
    if rating.on_truth_line:
        found.update(ratingValue=rating.value, bestRating=rating.best, worstRating=rating.worst)
    found["alternateName"] = rating.label
    return found


def build(claim: Claim, verdict: Verdict, options: ReviewOptions | Settings) -> dict[str, Any]:
    """The JSON-LD document for ``verdict`` on ``claim`` (pure)."""
    if isinstance(options, Settings):
        options = ReviewOptions.from_settings(options)
    ratings = scale.RatingScale(options.rating_scale, options.rating_values)
    published = verdict.published_at or verdict.created_at
    assert claim.id is not None
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": claim_url(claim.id, options.publisher_url),
        "claimReviewed": claim.text,
        "datePublished": published.date().isoformat(),
        "author": {
            "@type": "Organization",
            "name": options.publisher_name,
            "url": options.publisher_url,
        },
        "reviewRating": review_rating(ratings.get(verdict.rating)),
        "itemReviewed": _item_reviewed(claim),
    }


def current_of(verdicts: list[Verdict]) -> Verdict | None:
    """The verdict ``current_verdict`` would pick among ``verdicts`` (pure): the published
    one published last, the higher id on a tie."""
    published = [v for v in verdicts if v.state == "published" and v.published_at is not None]
    return max(published, key=lambda v: (v.published_at, v.id or 0), default=None)


def claimreview_jsonld(
    session: Session, claim_id: int, *, settings: Settings | None = None
) -> dict[str, Any]:
    """ClaimReview JSON-LD for the claim's published verdict; NotFound if there is none."""
    settings = settings or get_settings()
    claim = claims.get_claim(session, claim_id)
    verdict = current_verdict(session, claim_id)
    if verdict is None:
        raise NoPublishedVerdict(claim_id)
    return build(claim, verdict, settings)
