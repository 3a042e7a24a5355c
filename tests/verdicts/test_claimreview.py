"""ClaimReview JSON-LD and the rating scale."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from evidence.db import session_scope
from evidence.errors import BadInput, NotFound
from evidence.settings import Settings, get_settings
from tests.conftest import DB
from tests.verdicts.factories import make_user, queued_claim
from verdicts import claimreview, decisions, scale

# Google's fact-check markup: required, then the recommended ones we can fill
REQUIRED = {"claimReviewed", "reviewRating", "url"}
RECOMMENDED = {"author", "datePublished", "itemReviewed"}


def _published(db: DB, rating: str = "mostly-false", **claim_kw: object) -> int:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        claim, _, rows = queued_claim(s, **claim_kw)
        assert claim.id is not None
        decisions.decide(
            s,
            claim.id,
            reviewer="alice",
            rating=rating,
            rationale="the budget says otherwise",
            evidence_ids=[r.id for r in rows if r.id],
            expected_version=None,
            actor="user:alice",
        )
        return claim.id


def test_export_has_every_required_and_recommended_property(
    db: DB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTCHECK_PUBLISHER_NAME", "Harbour Checks")
    monkeypatch.setenv("FACTCHECK_PUBLISHER_URL", "https://checks.example/")
    get_settings.cache_clear()
    claim_id = _published(
        db,
        claimant="Ministry of Finance",
        claim_date="2024-03-05",
        url="https://news.example/story",
    )
    with Session(db.engine) as s:
        doc = claimreview.claimreview_jsonld(s, claim_id)
        claim_text = decisions.claim_detail(s, claim_id).claim.text
    assert REQUIRED | RECOMMENDED <= set(doc)
    assert doc["@context"] == "https://schema.org" and doc["@type"] == "ClaimReview"
    assert doc["claimReviewed"] == claim_text
    assert doc["url"] == f"https://checks.example/claims/{claim_id}"
    assert doc["author"] == {
        "@type": "Organization",
        "name": "Harbour Checks",
        "url": "https://checks.example/",
    }
    assert doc["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 4,
        "bestRating": 7,
        "worstRating": 1,
        "alternateName": "Mostly false",
    }
    assert date.fromisoformat(doc["datePublished"])
    item = doc["itemReviewed"]
    assert item["@type"] == "Claim" and item["datePublished"] == "2024-03-05"
    assert item["author"] == {"@type": "Organization", "name": "Ministry of Finance"}
    assert item["appearance"] == [{"@type": "CreativeWork", "url": "https://news.example/story"}]


def test_a_person_claimant(db: DB) -> None:
    claim_id = _published(db, rating="true", claimant="Jane Doe")
    with Session(db.engine) as s:
        doc = claimreview.claimreview_jsonld(s, claim_id)
    assert doc["itemReviewed"]["author"] == {"@type": "Person", "name": "Jane Doe"}
    assert doc["reviewRating"]["ratingValue"] == doc["reviewRating"]["bestRating"] == 7


def test_no_published_verdict_is_not_found_in_one_sentence(db: DB) -> None:
    with session_scope(db.engine) as s:
        claim, _, _ = queued_claim(s)
        assert claim.id is not None
        with pytest.raises(NotFound) as caught:
            claimreview.claimreview_jsonld(s, claim.id)
        with pytest.raises(NotFound, match="No claim with id 424242"):
            claimreview.claimreview_jsonld(s, 424242)
    assert str(caught.value) == f"Claim {claim.id} has no published verdict to export."


def test_scale_maps_best_first_to_numbers() -> None:
    default = scale.scale_from(Settings())
    values = [(r.name, r.value, r.label) for r in default.ratings()]
    assert values[0] == ("true", 7, "True")
    assert values[-1] == ("unverifiable", 1, "Unverifiable")
    assert [v for _, v, _ in values] == [7, 6, 5, 4, 3, 2, 1]
    assert default.get(" Mixed ").value == 5
    assert not default.get("unverifiable").needs_evidence and default.get("false").needs_evidence
    with pytest.raises(BadInput, match="Unknown rating 'pants'"):
        default.get("pants")


def test_a_configured_scale() -> None:
    custom = scale.scale_from(Settings(rating_scale="correct, incorrect"))
    assert [(r.name, r.value, r.best, r.worst) for r in custom.ratings()] == [
        ("correct", 2, 2, 1),
        ("incorrect", 1, 2, 1),
    ]
    with pytest.raises(BadInput, match="twice"):
        scale.scale_from(Settings(rating_scale="a,a"))
    with pytest.raises(BadInput, match="empty"):
        scale.scale_from(Settings(rating_scale=" , "))
    assert claimreview.claimant_type("Office of the Mayor") == "Organization"
    assert claimreview.claimant_type("Mayor Smith") == "Person"
