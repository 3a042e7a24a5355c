"""evidence/scoring/stance.py: the cue stance model on realistic wording."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from evidence.scoring.rank import PassageInput
from evidence.scoring.select import FactCheckInput, MatchedFactCheck
from evidence.scoring.stance import (
    ARTIFACT_FEATURES,
    FEATURES,
    LEARNED_FEATURES,
    ClaimFacts,
    CueStanceModel,
    Stance,
    StanceWeights,
    claim_kinds,
)

KOREA = ClaimFacts(
    "North Korea made its first direct offer of talks to the United States",
    claimant="Donald Trump",
    claim_date=date(2018, 3, 9),
)


def passage(
    pid: int | str,
    text: str,
    *,
    site: str = "news.example",
    title: str | None = None,
    published: str | None = "2018-03-10",
    page: str | None = None,
) -> PassageInput:
    when = datetime.fromisoformat(published).replace(tzinfo=UTC) if published else None
    url = f"https://{site}/{page or pid}"
    return PassageInput(pid, text, url, site, title, when, document_id=page or str(pid))


def one(claim: ClaimFacts, p: PassageInput, **kw: object) -> Stance:
    return CueStanceModel().classify(claim, [p], **kw)[0]  # type: ignore[arg-type]


def test_a_correction_naming_another_entity_refutes_though_it_shares_few_words() -> None:
    stance = one(
        KOREA,
        passage(
            1,
            "A White House spokeswoman clarified on Saturday that the president was referring "
            "to the South Korean envoys who relayed the invitation.",
            title="Statement on the North Korea invitation",
        ),
    )
    assert stance.label == "refutes"
    assert "correction language: 'was referring to'" in stance.reasons
    assert any("South Korean" in r and "North Korea" in r for r in stance.reasons)
    assert stance.model == "cues" and 0.5 < stance.confidence <= 1


def test_a_denial_refutes() -> None:
    claim = ClaimFacts("Health Minister Ravi Patel resigned on Monday", claim_date=date(2023, 5, 8))
    stance = one(
        claim,
        passage(
            7,
            "The ministry denied reports that Ravi Patel had stepped down and said he would "
            "attend cabinet on Tuesday.",
            title="Patel resignation reports denied",
        ),
    )
    assert stance.label == "refutes"
    assert stance.reasons[0] == "denial language: 'denied'"


def test_an_earlier_dated_instance_refutes_a_first_claim() -> None:
    stance = one(
        KOREA,
        passage(
            2,
            "Direct talks between North Korea and the United States were held in Geneva in 1994 "
            "and produced the Agreed Framework, signed on 21 October 1994.",
            published="2017-06-01",
        ),
    )
    assert stance.label == "refutes"
    assert "names 1994-10-21, before the claim's 2018-03-09 'first'" in stance.reasons


def test_no_one_had_done_it_since_is_not_an_earlier_instance() -> None:
    claim = ClaimFacts(
        "This is the first time a woman has been elected president of Mexico",
        claim_date=date(2024, 6, 3),
    )
    stance = one(
        claim,
        passage(
            3,
            "Mexican women won the right to vote in federal elections in 1953, and no woman had "
            "been elected president since.",
            published="2024-06-03",
        ),
    )
    assert stance.label != "refutes"
    assert not any("before the claim" in r for r in stance.reasons)


def test_a_number_off_by_a_factor_refutes_and_says_by_how_much() -> None:
    claim = ClaimFacts("Brightwater spends $2 billion a year on homelessness")
    stance = one(
        claim,
        passage(
            4,
            "Brightwater's budget shows the city spends $200 million a year on homelessness "
            "services.",
        ),
    )
    assert stance.label == "refutes"
    assert any("10x off" in r and "$200" in r for r in stance.reasons)


def test_more_than_is_agreed_by_a_larger_figure_and_refuted_by_a_smaller_one() -> None:
    claim = ClaimFacts("Over 40,000 people attended the rally in Berlin")
    larger = one(claim, passage(5, "Police said 45,000 people attended the rally in Berlin."))
    smaller = one(
        claim,
        passage(
            6, "Tens of thousands of people rallied in Berlin; police put the number at 38,000."
        ),
    )
    assert larger.label == "supports"
    assert smaller.label == "refutes"
    assert any("38,000" in r for r in smaller.reasons)


def test_a_passage_restating_the_claim_supports_and_makes_the_claim() -> None:
    stance = one(
        KOREA,
        passage(
            8,
            "Trump said on Friday that North Korea had made its first direct offer of talks to "
            "the United States.",
        ),
    )
    assert stance.label == "supports" and stance.makes_claim
    assert stance.reasons[0].startswith("states the claim")


def test_a_report_of_the_event_without_the_first_does_not_confirm_a_first() -> None:
    stance = one(
        KOREA,
        passage(
            9,
            "North Korea has offered to hold direct talks with the United States, South Korean "
            "envoys said on Tuesday.",
        ),
    )
    assert stance.label == "context" and not stance.makes_claim


def test_a_negation_away_from_the_claims_predicate_takes_no_side() -> None:
    stance = one(
        KOREA,
        passage(
            10,
            "The United States vice-president did not meet the North Korean delegation during "
            "the games.",
        ),
    )
    assert stance.label == "context"


def test_a_claim_that_someone_will_refrain_is_not_negated_by_will_not() -> None:
    claim = ClaimFacts(
        "Kim Jong Un pledged that North Korea would refrain from nuclear and missile tests "
        "while talks continue",
        claim_date=date(2018, 3, 6),
    )
    stance = one(
        claim,
        passage(
            11,
            "North Korea will not carry out nuclear or missile tests while such talks continue, "
            "South Korea's national security adviser said after returning from Pyongyang.",
        ),
    )
    assert stance.label != "refutes"
    assert not any("negates" in r for r in stance.reasons)


def test_things_that_could_go_wrong_are_not_a_verdict() -> None:
    stance = one(
        KOREA,
        passage(
            12,
            "Diplomats cautioned that much could go wrong before North Korea and the United "
            "States sit down for talks.",
        ),
    )
    assert not any("verdict language" in r for r in stance.reasons)


def test_the_rating_of_a_matching_fact_check_decides_its_pages_passages() -> None:
    claim = ClaimFacts("Vaccines cause autism in children")
    text = "Our review of the research on vaccines and autism in children."
    false_check = MatchedFactCheck(
        FactCheckInput("https://fc.example/vax", claim.text, "Pants on Fire", "Fact Desk"), 0.97
    )
    true_check = MatchedFactCheck(
        FactCheckInput("https://fc.example/vax", claim.text, "Mostly True", "Fact Desk"), 0.97
    )
    on_page = PassageInput(11, text, "https://fc.example/vax", "Fact Desk")
    elsewhere = PassageInput(12, text, "https://blog.example/vax", "Blog")
    refuted = CueStanceModel().classify(claim, [on_page, elsewhere], fact_checks=[false_check])
    assert refuted[0].label == "refutes"
    assert "Pants on Fire" in refuted[0].reasons[0] and "Fact Desk" in refuted[0].reasons[0]
    assert refuted[1].label != "refutes"
    assert one(claim, on_page, fact_checks=[true_check]).label == "supports"


def test_an_unrelated_passage_is_context_even_with_denial_words() -> None:
    stance = one(KOREA, passage(13, "The striker denied diving in the penalty area on Sunday."))
    assert stance.label == "context"


def test_one_stance_per_passage_in_the_order_given_whatever_the_order() -> None:
    pool = [
        passage(i, text)
        for i, text in enumerate(
            [
                "Trump said North Korea had made its first direct offer of talks to the US.",
                "Pyongyang proposed talks with Washington in 1993.",
                "Markets in Seoul rose slightly on the news.",
                "The White House denied that the North Korean offer of talks was a first.",
            ]
        )
    ]
    first = CueStanceModel().classify(KOREA, pool)
    shuffled = pool[:]
    random.shuffle(shuffled)
    again = CueStanceModel().classify(KOREA, shuffled)
    assert len(first) == len(pool)
    by_id = {p.passage_id: s for p, s in zip(shuffled, again, strict=True)}
    assert [by_id[p.passage_id] for p in pool] == first
    assert first[3].label == "refutes"


def test_claim_kinds() -> None:
    assert claim_kinds(KOREA.text) == {"first"}
    assert claim_kinds("Norway has never won the World Cup") == {"never"}
    assert claim_kinds('She said "we will hire 500 teachers"') == {"number", "quote"}
    assert claim_kinds("The council approved a ban on plastic bags") == frozenset()


# -- the cues added for the gaps of the first rules --------------------------------------------


def test_a_direction_word_against_the_claims_contradicts_it() -> None:
    claim = ClaimFacts("Crime in Ashcombe doubled last year", claim_date=date(2024, 1, 20))
    fell = CueStanceModel().cue_vectors(
        claim, [passage(1, "Recorded crime in Ashcombe fell 4 percent in 2023, police said.")]
    )[0]
    assert "says 'fell' where the claim says 'doubled'" in fell.refute_reasons
    same_way = CueStanceModel().cue_vectors(
        claim, [passage(2, "Bicycle thefts in Ashcombe doubled last year, from 300 to 610.")]
    )[0]
    assert not any("where the claim says 'doubled'" in r for r in same_way.refute_reasons)


def test_not_before_the_claims_name_puts_another_in_its_place() -> None:
    claim = ClaimFacts("Tenor Marco Velli cancelled his autumn tour of Japan")
    stance = one(
        claim,
        passage(
            1,
            "It was the baritone Paolo Venti, not Marco Velli, who called off his autumn dates "
            "in Japan on Sunday.",
        ),
    )
    assert stance.label == "refutes"
    assert "sets it apart from the claim: 'not Marco Velli'" in stance.reasons


def test_the_claims_words_attributed_to_someone_else() -> None:
    claim = ClaimFacts("Senator Ruth Amble said farmers should pay a carbon levy")
    cues = CueStanceModel().cue_vectors(
        claim,
        [
            passage(
                1,
                "The remark that farmers should pay a carbon levy was made by Councillor Tom "
                "Greer at a town hall meeting in Kelby.",
            ),
            passage(2, "Senator Ruth Amble said on Monday that farmers should pay a carbon levy."),
        ],
    )
    assert any(
        r.startswith("attributes the words to Councillor Tom Greer") for r in cues[0].refute_reasons
    )
    assert not any(r.startswith("attributes the words") for r in cues[1].refute_reasons)


def test_another_holder_of_the_claims_superlative() -> None:
    claim = ClaimFacts("The Orin is the longest river in Northbridge")
    cues = CueStanceModel().cue_vectors(
        claim,
        [
            passage(
                1, "The Tarrow is usually listed as the longest river in Northbridge, at 410 km."
            ),
            passage(2, "The Orin is the longest river in Northbridge, at 380 km.", page="b"),
        ],
    )
    assert any("Tarrow as longest" in r for r in cues[0].refute_reasons)
    assert not any("as longest" in r for r in cues[1].refute_reasons)


def test_another_town_doing_it_contradicts_only() -> None:
    claim = ClaimFacts("Ashford is the only town in the county to ban fireworks")
    found = CueStanceModel().cue_vectors(
        claim, [passage(1, "Kelmouth's council banned fireworks in the town in 2022.")]
    )[0]
    assert any(r.startswith("names Kelmouth's doing the same") for r in found.refute_reasons)


def test_another_ordinal_contradicts_a_first() -> None:
    claim = ClaimFacts("Maria Costa is the first woman to chair the Harlan Chamber of Commerce")
    found = CueStanceModel().cue_vectors(
        claim,
        [passage(1, "Costa becomes the chamber's second woman chair, after Ellen Ward in 1998.")],
    )[0]
    assert "says 'second' where the claim says 'first'" in found.refute_reasons


# -- the learned layer --------------------------------------------------------------------------


def test_the_shipped_weights_cover_every_feature_the_cues_compute() -> None:
    model = CueStanceModel()
    assert model.weights is not None  # stance_weights.json is shipped and read
    # learned from every feature but the labelled set's artifacts (length, publication timing)
    assert model.weights.features == LEARNED_FEATURES
    assert not ARTIFACT_FEATURES & set(model.weights.features)
    cues = model.cue_vectors(KOREA, [passage(1, "Markets in Seoul rose on the news.")])
    assert set(cues[0].features) == set(FEATURES)


def test_the_learned_label_is_the_likeliest_and_its_confidence_a_probability() -> None:
    pool = [
        passage(1, "Trump said North Korea had made its first direct offer of talks to the US."),
        passage(2, "Markets in Seoul rose slightly on the news.", page="p2"),
    ]
    model = CueStanceModel()
    assert model.weights is not None
    for cues, stance in zip(
        model.cue_vectors(KOREA, pool), model.classify(KOREA, pool), strict=True
    ):
        probs = model.weights.probabilities(cues.features)
        assert abs(sum(probs.values()) - 1) < 1e-9
        if cues.rule.label != "refutes":
            assert stance.label == max(("supports", "refutes", "context"), key=probs.__getitem__)
            assert stance.confidence == round(min(0.97, probs[stance.label]), 3)
    assert model.classify(KOREA, pool)[0].label == "supports"


def test_weights_decide_and_the_reasons_still_name_the_cues() -> None:
    """Hand-made weights: coverage of the claim's terms means support, the correction cue
    means refutation. The label follows the weights where the rules say otherwise; the
    reasons stay the cues a reviewer can check."""
    zero = tuple(0.0 for _ in FEATURES)

    def row(name: str) -> tuple[float, ...]:
        return tuple(4.0 if f == name else 0.0 for f in FEATURES)

    weights = StanceWeights(
        ("supports", "refutes", "context", "none"),
        FEATURES,
        zero,
        tuple(1.0 for _ in FEATURES),
        (row("coverage"), row("cue:correction language"), zero, zero),
        (-1.0, -1.0, 0.5, 0.0),
    )
    learned, rules = CueStanceModel(weights=weights), CueStanceModel(weights=None)
    report = passage(
        1,
        "North Korea has offered to hold direct talks with the United States, South Korean "
        "envoys said on Tuesday.",
    )
    assert rules.classify(KOREA, [report])[0].label == "context"
    assert learned.classify(KOREA, [report])[0].label == "supports"
    correction = passage(
        2,
        "A White House spokeswoman clarified that the president was referring to the South "
        "Korean envoys.",
        title="Statement on the North Korea invitation",
    )
    refuting = learned.classify(KOREA, [correction])[0]
    assert refuting.label == "refutes"
    assert "correction language: 'was referring to'" in refuting.reasons
