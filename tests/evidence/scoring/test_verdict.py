"""evidence/scoring/verdict.py: the suggested verdict from stance-labelled evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime

from evidence.scoring.rank import PassageInput, rank_passages
from evidence.scoring.ratings import nearest_rating, rating_concept
from evidence.scoring.select import FactCheckInput, Selection, match_fact_checks, select_evidence
from evidence.scoring.stance import ClaimFacts, CueStanceModel
from evidence.scoring.verdict import (
    DEFAULT_SCALE,
    LEARNED_VERDICT_FEATURES,
    VERDICT_ARTIFACTS,
    VERDICT_FEATURES,
    CueSuggester,
    VerdictModel,
    suggest_verdict,
    verdict_features,
)


def p(pid: int, text: str, site: str, published: str, title: str | None = None) -> PassageInput:
    when = datetime.fromisoformat(published).replace(tzinfo=UTC)
    return PassageInput(pid, text, f"https://{site}/{pid}", site, title, when, str(pid))


def compose(claim: ClaimFacts, pool: list[PassageInput], **kw: object) -> Selection:
    stances = CueStanceModel().classify(claim, pool)
    return select_evidence(
        claim.text,
        rank_passages(claim.text, pool, claim_date=claim.claim_date),
        top_k=8,
        max_per_site=2,
        match_threshold=0.65,
        stances={q.passage_id: s for q, s in zip(pool, stances, strict=True)},
        **kw,  # type: ignore[arg-type]
    )


KOREA = ClaimFacts(
    "North Korea made its first direct offer of talks to the United States",
    "Donald Trump",
    date(2018, 3, 9),
)
KOREA_POOL = [
    p(
        1,
        "Trump said on Friday that North Korea had made its first direct offer of talks to the "
        "United States.",
        "Capitol News",
        "2018-03-09",
    ),
    p(
        2,
        "Direct talks between North Korea and the United States were held in Geneva in 1994 and "
        "produced the Agreed Framework, signed on 21 October 1994.",
        "Fictipedia",
        "2017-06-01",
    ),
    p(
        3,
        "A White House spokeswoman clarified that the president was referring to the South "
        "Korean envoys who relayed the invitation, not to a message from North Korea.",
        "Government Briefing Room",
        "2018-03-11",
        "Statement on the North Korea invitation",
    ),
]


def test_a_first_claim_with_an_earlier_dated_instance_is_false_and_says_why() -> None:
    selection = compose(KOREA, KOREA_POOL)
    suggestion = suggest_verdict(KOREA, selection)
    assert suggestion.rating == "false"
    assert suggestion.confidence >= 0.7
    text = suggestion.explanation
    assert "Fictipedia, 2017-06-01" in text
    assert "Government Briefing Room, 2018-03-11, two days after the claim" in text
    assert "an official statement" in text
    assert "earliest appearance found: Capitol News, 2018-03-09, the day of the claim" in text
    assert {2, 3} <= set(suggestion.passage_ids)


def test_independent_confirmation_without_refutation_is_true() -> None:
    claim = ClaimFacts("The city council approved a ban on plastic bags", None, date(2021, 5, 12))
    pool = [
        p(
            1,
            "The city council voted 9-2 on Tuesday to approve a ban on single-use plastic bags.",
            "The City Times",
            "2021-05-11",
        ),
        p(
            2,
            "The ban on plastic bags that the city council approved on Tuesday takes effect in "
            "January, grocers were told.",
            "Retail Journal",
            "2021-05-13",
        ),
        p(
            3,
            "The council approved the ban on plastic bags, the city's press office said in a "
            "statement.",
            "City of Harlan",
            "2021-05-12",
            "Press release: plastic bag ban",
        ),
    ]
    suggestion = suggest_verdict(claim, compose(claim, pool))
    assert suggestion.rating == "true"
    assert "Two independent outlets and an official statement support the claim" in (
        suggestion.explanation
    )


def test_syndicated_copies_count_as_one_outlet() -> None:
    claim = ClaimFacts("The city council approved a ban on plastic bags", None, date(2021, 5, 12))
    wire = "The city council voted on Tuesday to approve a ban on single-use plastic bags."
    pool = [p(i, wire, f"paper-{i}.example", "2021-05-11") for i in range(1, 5)]
    selection = compose(claim, pool)
    assert len(selection.evidence) == 1
    suggestion = suggest_verdict(claim, selection)
    assert "One outlet supports the claim" in suggestion.explanation
    assert suggestion.rating in ("true", "mostly-true")


def test_thin_evidence_is_unverifiable() -> None:
    claim = ClaimFacts("4 million people moved to Northbridge last year", None, date(2024, 2, 1))
    pool = [p(1, "Northbridge is a coastal city with a busy port.", "Travel", "2023-01-01")]
    suggestion = suggest_verdict(claim, compose(claim, pool))
    assert suggestion.rating == "unverifiable"
    assert "Too little evidence" in suggestion.explanation


def test_a_figure_off_by_a_factor_is_false() -> None:
    claim = ClaimFacts(
        "Brightwater spends $2 billion a year on homelessness", None, date(2024, 1, 5)
    )
    pool = [
        p(
            1,
            "Councillor Rob Tate said Brightwater spends $2 billion a year on homelessness.",
            "Harbour Herald",
            "2024-01-05",
        ),
        p(
            2,
            "The adopted budget shows Brightwater spends $212 million a year on homelessness "
            "services.",
            "Budget Watch",
            "2024-01-08",
        ),
    ]
    suggestion = suggest_verdict(claim, compose(claim, pool))
    assert suggestion.rating in ("false", "mostly-false")
    assert "9x off" in suggestion.explanation


def test_a_matching_fact_check_weighs_heavily_and_maps_onto_any_scale() -> None:
    claim = ClaimFacts("Vaccines cause autism in children", None, date(2020, 1, 1))
    check = FactCheckInput(
        "https://fc.example/vax",
        "Vaccines cause autism in children",
        "Pants on Fire",
        "Fact Desk",
        review_date=date(2019, 6, 1),
    )
    pool = [p(1, "Vaccines cause autism in children, a viral post says.", "Blog", "2019-12-30")]
    selection = compose(claim, pool, fact_checks=[check])
    scale = ("Correct", "Partly correct", "Incorrect", "Unproven")
    suggestion = CueSuggester().suggest(claim, selection, scale=scale)
    assert suggestion.rating == "Incorrect"
    assert suggestion.confidence >= 0.9
    assert "Fact Desk (2019-06-01) rates it 'Pants on Fire'" in suggestion.explanation
    direct = suggest_verdict(
        claim,
        compose(claim, pool),
        fact_checks=match_fact_checks(claim.text, [check], threshold=0.65),
    )
    assert direct.rating == "false"


def test_ratings_map_to_concepts_and_to_the_nearest_name_of_a_scale() -> None:
    assert rating_concept("Pants on Fire") == "false"
    assert rating_concept("Mostly False") == "mostly-false"
    assert rating_concept("Half True") == "mixed"
    assert rating_concept("Not true") == "false"
    assert rating_concept("Unproven") == "unverifiable"
    assert rating_concept("Splendid") is None
    assert nearest_rating("mostly-false", DEFAULT_SCALE) == "mostly-false"
    assert nearest_rating("mostly-false", ("true", "false")) == "false"
    assert nearest_rating("misleading", ("true", "mixed", "false")) == "mixed"
    assert nearest_rating("true", ("A", "B", "C")) == "A"
    assert nearest_rating("false", ("A", "B", "C")) == "C"


def test_the_suggestion_serialises() -> None:
    suggestion = suggest_verdict(KOREA, compose(KOREA, KOREA_POOL))
    data = suggestion.as_json()
    assert data["rating"] == suggestion.rating and data["model"] == "cues"
    assert data["passage_ids"] == list(suggestion.passage_ids)


def _always(concept: str, labels: tuple[str, ...] = ("true", "mixed", "false")) -> VerdictModel:
    """A verdict model whose intercept alone picks ``concept``."""
    zero = tuple(0.0 for _ in VERDICT_FEATURES)
    return VerdictModel(
        labels,
        VERDICT_FEATURES,
        zero,
        tuple(1.0 for _ in VERDICT_FEATURES),
        tuple(zero for _ in labels),
        tuple(3.0 if c == concept else 0.0 for c in labels),
    )


def test_the_learned_model_weighs_the_evidence_and_the_explanation_names_it() -> None:
    selection = compose(KOREA, KOREA_POOL)
    suggestion = CueSuggester(model=_always("mixed")).suggest(KOREA, selection)
    assert suggestion.rating == "mixed"
    assert 0 < suggestion.confidence <= 0.95
    assert "Government Briefing Room, 2018-03-11, two days after the claim" in (
        suggestion.explanation
    )


def test_thin_evidence_stays_unverifiable_whatever_the_model_says() -> None:
    claim = ClaimFacts("4 million people moved to Northbridge last year", None, date(2024, 2, 1))
    pool = [p(1, "Northbridge is a coastal city with a busy port.", "Travel", "2023-01-01")]
    suggestion = CueSuggester(model=_always("true")).suggest(claim, compose(claim, pool))
    assert suggestion.rating == "unverifiable"


def test_a_matching_fact_check_overrides_the_learned_model() -> None:
    claim = ClaimFacts("Vaccines cause autism in children", None, date(2020, 1, 1))
    check = FactCheckInput(
        "https://fc.example/vax", claim.text, "Pants on Fire", "Fact Desk", date(2019, 6, 1)
    )
    pool = [p(1, "Vaccines cause autism in children, a viral post says.", "Blog", "2019-12-30")]
    selection = compose(claim, pool, fact_checks=[check])
    assert CueSuggester(model=_always("true")).suggest(claim, selection).rating == "false"


def test_verdict_features_count_independent_outlets_and_official_sources() -> None:
    found = verdict_features(KOREA, compose(KOREA, KOREA_POOL))
    assert set(found) == set(VERDICT_FEATURES)
    assert found["refute_sites"] == 2 and found["official_refutes"] == 1
    assert found["refute_cue:earlier_instance"] == 1 and found["kind_superlative"] == 1
    assert found["has_origin"] == 1 and found["refutes_after_claim"] == 1
    assert found["rule:false"] == 1 and found["rule:true"] == 0


def test_the_shipped_verdict_model_reads_the_features_computed_today() -> None:
    model = CueSuggester().model
    assert model is not None
    # every feature but the labelled set's artifacts ("the claim was repeated")
    assert model.features == LEARNED_VERDICT_FEATURES
    assert not VERDICT_ARTIFACTS & set(model.features)
    assert set(model.labels) <= set(DEFAULT_SCALE)
