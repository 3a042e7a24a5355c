"""schema.org ClaimReview JSON-LD for a published verdict.

Google's fact-check markup requires ``claimReviewed``, ``reviewRating`` (with
``alternateName``; ``ratingValue``, ``bestRating`` and ``worstRating`` for a numeric scale)
and ``url``, and recommends ``author``, ``datePublished`` and ``itemReviewed`` (a ``Claim``
with its ``author``, ``datePublished`` and ``appearance``). We give all of them that we know.
The rating numbers come from ``verdicts.scale``; ``url`` is the claim's page under
``settings.publisher_url``.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from evidence import claims
from evidence.errors import NotFound
from evidence.models import Claim, Verdict
from evidence.settings import Settings, get_settings
from verdicts import scale
from verdicts.decisions import current_verdict

CLAIM_PATH = "/claims/{claim_id}"
_ORGANISATION = re.compile(
    r"\b(ministry|department|government|party|agency|council|committee|office|university|"
    r"institute|association|news|times|post|inc|ltd|llc|corp|company|foundation|bank|"
    r"commission|parliament|congress|senate|union|organi[sz]ation)\b",
    re.IGNORECASE,
)


class NoPublishedVerdict(NotFound):
    def __init__(self, claim_id: int) -> None:
        super().__init__("published verdict for claim", claim_id)
        self.args = (f"Claim {claim_id} has no published verdict to export.",)

    def __str__(self) -> str:
        return str(self.args[0])


def claimant_type(name: str) -> str:
    """Person, unless the name reads like an organisation ("Ministry of Health")."""
    return "Organization" if _ORGANISATION.search(name) else "Person"


def claim_url(claim_id: int, settings: Settings) -> str:
    return settings.publisher_url.rstrip("/") + CLAIM_PATH.format(claim_id=claim_id)


def _item_reviewed(claim: Claim) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": "Claim"}
    if claim.claimant:
        item["author"] = {"@type": claimant_type(claim.claimant), "name": claim.claimant}
    if claim.claim_date:
        item["datePublished"] = claim.claim_date.isoformat()
    if claim.origin_url:
        item["appearance"] = [{"@type": "CreativeWork", "url": claim.origin_url}]
        item["firstAppearance"] = {"@type": "CreativeWork", "url": claim.origin_url}
    return item


def build(claim: Claim, verdict: Verdict, settings: Settings) -> dict[str, Any]:
    """The JSON-LD document for ``verdict`` on ``claim`` (pure)."""
    rating = scale.scale_from(settings).get(verdict.rating)
    published = verdict.published_at or verdict.created_at
    assert claim.id is not None
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": claim_url(claim.id, settings),
        "claimReviewed": claim.text,
        "datePublished": published.date().isoformat(),
        "author": {
            "@type": "Organization",
            "name": settings.publisher_name,
            "url": settings.publisher_url,
        },
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": rating.value,
            "bestRating": rating.best,
            "worstRating": rating.worst,
            "alternateName": rating.label,
        },
        "itemReviewed": _item_reviewed(claim),
    }


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
