"""ClaimReview JSON-LD and the rating scale."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import Session

from evidence.db import session_scope
from evidence.errors import BadInput, NotFound
from evidence.settings import Settings, get_settings
from sources.extract import extract
from tests.conftest import DB
from tests.verdicts.factories import make_user, queued_claim
from verdicts import claimreview, decisions, scale

# Google's fact-check markup: required, then the recommended ones we can fill
REQUIRED = {"claimReviewed", "reviewRating", "url"}
RECOMMENDED = {"author", "datePublished", "itemReviewed"}


def _published(db: DB, rating: str = "mostly-false", **claim_kw: object) -> int:
    with session_scope(db.engine) as s:
        reviewer = make_user(s).name
        claim, _, rows = queued_claim(s, **claim_kw)
        assert claim.id is not None
        decisions.decide(
            s,
            claim.id,
            reviewer=reviewer,
            rating=rating,
            rationale="the budget says otherwise",
            evidence_ids=[r.id for r in rows if r.id],
            expected_version=None,
            actor=f"user:{reviewer}",
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
        "ratingValue": 2,
        "bestRating": 5,
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
    assert doc["reviewRating"]["ratingValue"] == doc["reviewRating"]["bestRating"] == 5


def test_no_published_verdict_is_not_found_in_one_sentence(db: DB) -> None:
    with session_scope(db.engine) as s:
        claim, _, _ = queued_claim(s)
        assert claim.id is not None
        with pytest.raises(NotFound) as caught:
            claimreview.claimreview_jsonld(s, claim.id)
        with pytest.raises(NotFound, match="No claim with id 424242"):
            claimreview.claimreview_jsonld(s, 424242)
    assert str(caught.value) == f"Claim {claim.id} has no published verdict to export."


def test_scale_puts_ratings_on_a_truth_line() -> None:
    default = scale.scale_from(Settings())
    values = [(r.name, r.value, r.label) for r in default.ratings()]
    assert values[:5] == [
        ("true", 5, "True"),
        ("mostly-true", 4, "Mostly true"),
        ("mixed", 3, "Mixed"),
        ("mostly-false", 2, "Mostly false"),
        ("false", 1, "False"),
    ]
    # off the truth line: no number at all, so "false" is the worst a consumer can read
    assert values[5:] == [
        ("misleading", None, "Misleading"),
        ("unverifiable", None, "Unverifiable"),
    ]
    false = default.get("false")
    assert false.value == false.worst == 1 and default.get("true").value == false.best == 5
    assert default.get(" Mixed ").value == 3
    assert not default.get("unverifiable").needs_evidence and default.get("false").needs_evidence
    with pytest.raises(BadInput, match="Unknown rating 'pants'"):
        default.get("pants")


def test_rating_positions_are_configurable() -> None:
    moved = scale.scale_from(Settings(rating_values="true=10,mixed=6,false=2,misleading=4"))
    assert [(r.name, r.value, r.best, r.worst) for r in moved.ratings()] == [
        ("true", 10, 10, 2),
        ("mostly-true", None, None, None),
        ("mixed", 6, 10, 2),
        ("mostly-false", None, None, None),
        ("false", 2, 10, 2),
        ("misleading", 4, 10, 2),
        ("unverifiable", None, None, None),
    ]
    for bad, message in (
        ("true=5,pants=1", "not on the rating scale"),
        ("true=5,false=5", "same number"),
        ("true=five", "not RATING=NUMBER"),
        ("true=5,true=4", "twice"),
        ("true=0", "1 or more"),
    ):
        with pytest.raises(BadInput, match=message):
            scale.scale_from(Settings(rating_values=bad))


def test_a_configured_scale() -> None:
    custom = scale.scale_from(Settings(rating_scale="correct, incorrect"))
    # the default truth line names none of these words: all off the line until placed
    assert [r.value for r in custom.ratings()] == [None, None]
    placed = scale.scale_from(
        Settings(rating_scale="correct, incorrect", rating_values="correct=2,incorrect=1")
    )
    assert [(r.name, r.value, r.best, r.worst) for r in placed.ratings()] == [
        ("correct", 2, 2, 1),
        ("incorrect", 1, 2, 1),
    ]
    with pytest.raises(BadInput, match="twice"):
        scale.scale_from(Settings(rating_scale="a,a"))
    with pytest.raises(BadInput, match="empty"):
        scale.scale_from(Settings(rating_scale=" , "))


@pytest.mark.parametrize(
    "name",
    [
        "Office of the Mayor",
        "Ministry of Finance",
        "Acme Inc.",
        "Labour Party",
        "Environmental Protection Agency",
        "Department of Health",
        "BBC News",
    ],
)
def test_organisations_are_recognised(name: str) -> None:
    assert claimreview.claimant_type(name) == "Organization"


@pytest.mark.parametrize("name", ["Mayor Smith", "Jane Doe", "Emmanuel Macron"])
def test_people_are_people(name: str) -> None:
    assert claimreview.claimant_type(name) == "Person"


def test_a_claimant_type_tag_overrides_the_guess(db: DB) -> None:
    claim_id = _published(db, claimant="Green Horizon", tags=["claimant:organization"])
    other = _published(db, claimant="Post Malone", tags=["Claimant:Person"])
    with Session(db.engine) as s:
        first = claimreview.claimreview_jsonld(s, claim_id)["itemReviewed"]["author"]
        second = claimreview.claimreview_jsonld(s, other)["itemReviewed"]["author"]
    assert first == {"@type": "Organization", "name": "Green Horizon"}
    assert second == {"@type": "Person", "name": "Post Malone"}


def test_off_line_ratings_carry_their_word_only(db: DB) -> None:
    claim_id = _published(db, rating="misleading")
    with Session(db.engine) as s:
        rating = claimreview.claimreview_jsonld(s, claim_id)["reviewRating"]
    assert rating == {"@type": "Rating", "alternateName": "Misleading"}


# -- validated against ClaimReview items as fact-checkers publish them ----------------------
#
# Hand-written in the shapes Google's fact-check markup documents: today's (a Claim with an
# appearance), the 2018-era one (itemReviewed a CreativeWork, numbers as strings), one in an
# @graph with a Person claimant, and a textual-only rating.

GOOGLE_CURRENT = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://example.com/news/science/worldisflat.html",
    "claimReviewed": "The world is flat",
    "itemReviewed": {
        "@type": "Claim",
        "author": {
            "@type": "Organization",
            "name": "Square World Society",
            "sameAs": "https://example.flatworlders.com/we-know-that-the-world-is-flat",
        },
        "datePublished": "2016-06-20",
        "appearance": {
            "@type": "OpinionNewsArticle",
            "url": "https://example.flatworlders.com/we-know-that-the-world-is-flat",
            "headline": "We know that the world is flat",
            "datePublished": "2016-06-20",
        },
    },
    "author": {"@type": "Organization", "name": "Example.com science watch"},
    "reviewRating": {
        "@type": "Rating",
        "ratingValue": "1",
        "bestRating": "5",
        "worstRating": "1",
        "alternateName": "False",
    },
}
GOOGLE_2018 = {
    "@context": "http://schema.org",
    "@type": "ClaimReview",
    "datePublished": "2016-06-22",
    "url": "http://example.com/news/science/worldisflat.html",
    "itemReviewed": {
        "@type": "CreativeWork",
        "author": {
            "@type": "Organization",
            "name": "Square World Society",
            "sameAs": "http://www.flatworlders.com/we-know-that-the-world-is-flat",
        },
        "datePublished": "2016-06-20",
    },
    "claimReviewed": "The world is flat",
    "author": {"@type": "Organization", "name": "Example.com science watch"},
    "reviewRating": {
        "@type": "Rating",
        "ratingValue": "1",
        "bestRating": "5",
        "worstRating": "1",
        "alternateName": "False",
    },
}
IN_A_GRAPH = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebPage", "url": "https://checks.example/harbour"},
        {
            "@type": "ClaimReview",
            "url": "https://checks.example/harbour",
            "claimReviewed": "The harbour bridge cost 40 million euros",
            "datePublished": "2024-03-06",
            "author": {"@type": "Organization", "name": "Harbour Checks"},
            "itemReviewed": {
                "@type": "Claim",
                "author": {"@type": "Person", "name": "Jane Doe"},
                "appearance": ["https://news.example/story"],
            },
            "reviewRating": {
                "@type": "Rating",
                "ratingValue": 4,
                "bestRating": 5,
                "worstRating": 1,
                "alternateName": "Mostly true",
            },
        },
    ],
}
TEXT_ONLY = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://checks.example/vaccine-video",
    "claimReviewed": "The video shows a vaccine trial",
    "author": {"@type": "Organization", "name": "Checks Desk"},
    "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Poster"}},
    "reviewRating": {"@type": "Rating", "alternateName": "Missing context"},
}
PUBLISHED_ITEMS = [GOOGLE_CURRENT, GOOGLE_2018, IN_A_GRAPH, TEXT_ONLY]


def _review_node(doc: dict[str, object]) -> dict[str, object]:
    graph = doc.get("@graph")
    if isinstance(graph, list):
        return next(n for n in graph if isinstance(n, dict) and n.get("@type") == "ClaimReview")
    return doc


def markup_problems(doc: dict[str, object]) -> list[str]:
    """What Google's fact-check markup requires of a ClaimReview, and the numbers' sense."""
    node = _review_node(doc)
    problems = [
        f"no {key}" for key in ("claimReviewed", "url", "reviewRating") if not node.get(key)
    ]
    rating = node.get("reviewRating")
    rating = rating if isinstance(rating, dict) else {}
    if not str(rating.get("alternateName") or "").strip():
        problems.append("reviewRating has no alternateName")
    numbers = [rating.get(k) for k in ("ratingValue", "bestRating", "worstRating")]
    if any(n is not None for n in numbers):
        if any(n is None for n in numbers):
            problems.append("ratingValue needs bestRating and worstRating")
        else:
            value, best, worst = (float(str(n)) for n in numbers)
            if not worst <= value <= best or best <= worst:
                problems.append(f"ratingValue {value} is not within {worst}..{best}")
    for where, author in (("author", node.get("author")), ("claimant", _claimant(node))):
        if author is not None and (
            not isinstance(author, dict)
            or author.get("@type") not in ("Organization", "Person")
            or not author.get("name")
        ):
            problems.append(f"{where} is not a named Organization or Person")
    item = node.get("itemReviewed")
    if item is not None and (
        not isinstance(item, dict) or item.get("@type") not in ("Claim", "CreativeWork")
    ):
        problems.append("itemReviewed is not a Claim")
    return problems


def _claimant(node: dict[str, object]) -> object:
    item = node.get("itemReviewed")
    return item.get("author") if isinstance(item, dict) else None


def _page(doc: dict[str, object]) -> str:
    return (
        '<html><head><script type="application/ld+json">'
        + json.dumps(doc)
        + "</script></head><body><p>The fact-check.</p></body></html>"
    )


@pytest.mark.parametrize("item", PUBLISHED_ITEMS, ids=["google", "google-2018", "graph", "text"])
def test_the_markup_check_accepts_published_items(item: dict[str, object]) -> None:
    assert markup_problems(item) == []


def test_the_markup_check_refuses_broken_items() -> None:
    broken = {
        **GOOGLE_CURRENT,
        "reviewRating": {"@type": "Rating", "ratingValue": 9, "bestRating": 5, "worstRating": 1},
    }
    assert markup_problems(broken) == [
        "reviewRating has no alternateName",
        "ratingValue 9.0 is not within 1.0..5.0",
    ]


def test_every_export_reads_like_a_published_item(db: DB) -> None:
    """Each rating of the scale, exported, passes the check the published items pass, and
    the extractor that reads fact-checkers' pages reads ours to the same rating word."""
    exported = {}
    for rating in scale.scale_from(Settings()).names:
        claim_id = _published(db, rating=rating, claimant="Ministry of Transport")
        with Session(db.engine) as s:
            exported[rating] = claimreview.claimreview_jsonld(s, claim_id)
    for rating, doc in exported.items():
        assert markup_problems(doc) == [], rating
        (read,) = extract(_page(doc), url=doc["url"]).claim_reviews
        assert read.rating == doc["reviewRating"]["alternateName"]
        assert read.claim_reviewed == doc["claimReviewed"]
    for item in PUBLISHED_ITEMS:  # the same reader on the published shapes
        (read,) = extract(_page(item), url="https://checks.example/").claim_reviews
        assert read.rating == _review_node(item)["reviewRating"]["alternateName"]  # type: ignore[index]
    on_line = {r: d["reviewRating"].get("ratingValue") for r, d in exported.items()}
    assert on_line["true"] > on_line["mostly-true"] > on_line["mixed"] > on_line["false"]
    assert on_line["false"] == exported["false"]["reviewRating"]["worstRating"]
    assert on_line["misleading"] is None and on_line["unverifiable"] is None
    assert exported["true"]["itemReviewed"]["author"]["@type"] == "Organization"
