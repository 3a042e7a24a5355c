"""evidence/scoring/select.py: top-k with site diversity, syndication groups, fact-checks first."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from evidence.scoring.rank import PassageInput, rank_passages
from evidence.scoring.select import FactCheckInput, select_evidence
from evidence.scoring.stance import ClaimFacts, CueStanceModel, Stance

CLAIM = "Norway's sovereign wealth fund is worth more than $1 trillion"
WIRE = "Norway's sovereign wealth fund passed $1 trillion in value on Tuesday, helped by stocks."


def p(pid: int, text: str, site: str, key: str | None = None) -> PassageInput:
    return PassageInput(pid, text, f"https://{site}/story-{pid}", site, key=key)


def test_one_site_cannot_crowd_out_another_but_fills_the_slots_left() -> None:
    stories = [
        "Norway's wealth fund is now worth $1 trillion after a stock rally.",
        "Analysts say the trillion-dollar fund of Norway owns 1.3% of world shares.",
        "The fund, worth more than $1 trillion, was set up to invest oil revenue.",
        "Critics of Norway's sovereign fund question its ethical exclusions.",
        "Norway's sovereign wealth fund is the largest in the world by value.",
    ]
    pool = [p(i, text, "big.example") for i, text in enumerate(stories)]
    pool.append(
        p(10, "The sovereign fund of Norway is worth more than $1 trillion.", "small.example")
    )
    sel = select_evidence(
        CLAIM, rank_passages(CLAIM, pool), top_k=4, max_per_site=2, match_threshold=0.65
    )
    sites = [e.scored.passage.site for e in sel.evidence]
    # the cap is soft: small.example had its turn, the last free slot goes to big.example
    assert sites.count("big.example") == 3
    assert "small.example" in sites
    assert len(sel.evidence) == 4
    assert [e.rank for e in sel.evidence] == list(range(1, len(sel.evidence) + 1))
    assert all(e.role is None and e.stance is None for e in sel.evidence)
    assert sel.origin is None


def test_the_wire_copy_is_grouped_shown_once_and_counted_once() -> None:
    pool = [
        p(1, WIRE, "wire.example"),
        p(2, WIRE + " Read more on our site.", "paper-a.example"),
        p(3, "Copy: " + WIRE, "paper-b.example"),
        p(
            4,
            "The fund is worth more than $1 trillion, the central bank of Norway said.",
            "bank.example",
        ),
    ]
    sel = select_evidence(
        CLAIM, rank_passages(CLAIM, pool), top_k=8, max_per_site=2, match_threshold=0.65
    )
    leads = [e.scored.passage_id for e in sel.evidence]
    assert sorted(leads) in ([1, 4], [2, 4], [3, 4])
    wire_group = next(e for e in sel.evidence if e.scored.passage_id != 4)
    assert len(wire_group.copies) == 2
    assert {c.site for c in wire_group.copies} | {wire_group.scored.passage.site} == {
        "wire.example",
        "paper-a.example",
        "paper-b.example",
    }
    assert sel.corroboration == 2


def test_the_same_passage_key_groups_even_different_text() -> None:
    pool = [
        p(1, WIRE, "a.example", key="k1"),
        p(2, "Norway fund $1 trillion.", "b.example", key="k1"),
    ]
    sel = select_evidence(
        CLAIM, rank_passages(CLAIM, pool), top_k=8, max_per_site=2, match_threshold=0.65
    )
    assert len(sel.evidence) == 1
    assert [c.passage_id for c in sel.evidence[0].copies] == [2]


def test_passages_sharing_no_claim_term_are_not_evidence() -> None:
    pool = [p(1, WIRE, "a.example"), p(2, "Kimchi recipes vary by family.", "b.example")]
    sel = select_evidence(
        CLAIM, rank_passages(CLAIM, pool), top_k=8, max_per_site=2, match_threshold=0.65
    )
    assert [e.scored.passage_id for e in sel.evidence] == [1]


def test_a_matching_fact_check_comes_first_a_different_one_is_left_out() -> None:
    checks = [
        FactCheckInput(
            "https://fc.example/other", "Norway's fund sold its oil shares", "True", "FC"
        ),
        FactCheckInput(
            "https://fc.example/fund",
            "Norway's sovereign wealth fund is worth more than $1 trillion.",
            "True",
            "Fact Desk",
        ),
        FactCheckInput("https://fc.example/none", None, "False", "FC"),
    ]
    sel = select_evidence(
        CLAIM,
        rank_passages(CLAIM, [p(1, WIRE, "a.example")]),
        fact_checks=checks,
        top_k=8,
        max_per_site=2,
        match_threshold=0.65,
    )
    assert [m.fact_check.url for m in sel.fact_checks] == ["https://fc.example/fund"]
    listing = sel.as_list()
    assert listing[0]["kind"] == "fact_check"
    assert listing[0]["rating"] == "True" and listing[0]["publisher"] == "Fact Desk"
    assert [item["rank"] for item in listing] == [1, 2]
    assert listing[1]["kind"] == "passage"


def test_a_single_wiki_as_the_only_source_fills_every_slot() -> None:
    articles = [
        "Norway's sovereign wealth fund passed $1 trillion in value in September 2017.",
        "The fund invests the surplus revenue of the Norwegian petroleum sector.",
        "Its ethical council recommends excluding companies that make nuclear weapons.",
        "Norges Bank Investment Management runs the fund on behalf of the finance ministry.",
        "About 70 percent of the sovereign fund is held in listed equities.",
        "Parliament caps the yearly spending from the wealth fund at 3 percent.",
        "The Government Pension Fund Global was renamed from the Petroleum Fund in 2006.",
        "Real estate in London, Paris and New York makes up a small share of the fund.",
        "Critics say the fund of Norway should divest from oil and gas companies.",
        "The sovereign fund votes at more than 11,000 shareholder meetings each year.",
    ]
    pool = [p(i, text, "wiki.example") for i, text in enumerate(articles)]
    sel = select_evidence(
        CLAIM, rank_passages(CLAIM, pool), top_k=8, max_per_site=2, match_threshold=0.65
    )
    assert len(sel.evidence) == 8
    assert [e.rank for e in sel.evidence] == list(range(1, 9))


# -- composition with stances ---------------------------------------------------------------

KOREA = ClaimFacts(
    "North Korea made its first direct offer of talks to the United States",
    "Donald Trump",
    date(2018, 3, 9),
)


def dated(pid: int, text: str, site: str, day: str, title: str | None = None) -> PassageInput:
    when = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return PassageInput(pid, text, f"https://{site}/{pid}", site, title, when, str(pid))


REPEAT = (
    "President Donald Trump said that North Korea had made its first direct offer of talks to "
    "the United States, calling it unprecedented."
)
KOREA_POOL = [
    dated(1, REPEAT, "capitol.example", "2018-03-09T15:00:00"),
    dated(2, REPEAT, "pacific.example", "2018-03-09T16:00:00"),  # a syndicated copy
    dated(3, "Copy: " + REPEAT, "syndicate.example", "2018-03-09T12:00:00"),  # the earliest
    dated(
        4,
        "Trump hailed North Korea's first direct offer of talks to the United States as a "
        "breakthrough.",
        "globe.example",
        "2018-03-10T08:00:00",
    ),
    dated(
        5,
        "A White House spokeswoman clarified that the president was referring to the South "
        "Korean envoys who relayed the invitation.",
        "gov.example",
        "2018-03-11T10:00:00",
        "Statement on the North Korea invitation",
    ),
    dated(
        6,
        "Direct talks between North Korea and the United States were held in Geneva in 1994.",
        "wiki.example",
        "2017-06-01T00:00:00",
    ),
    dated(
        7,
        "North Korea's delegation to the United States talks arrived in a special plane.",
        "globe.example",
        "2018-03-12T08:00:00",
    ),
    dated(8, "Markets in Seoul rose slightly on the news.", "markets.example", "2018-03-09T09:00"),
]


def compose(pool: list[PassageInput], top_k: int = 8) -> tuple[dict[int | str, Stance], object]:
    stances = CueStanceModel().classify(KOREA, pool)
    by_id = {q.passage_id: s for q, s in zip(pool, stances, strict=True)}
    ranked = rank_passages(KOREA.text, pool, claim_date=KOREA.claim_date)
    sel = select_evidence(
        KOREA.text, ranked, top_k=top_k, max_per_site=2, match_threshold=0.65, stances=by_id
    )
    return by_id, sel


def test_refutations_come_first_then_the_origin_then_support_and_context() -> None:
    by_id, sel = compose(KOREA_POOL)
    assert by_id[5].label == "refutes" and by_id[6].label == "refutes"
    roles = [e.role for e in sel.evidence]  # type: ignore[attr-defined]
    assert roles[:2] == ["refutes", "refutes"]
    assert roles.index("origin") == 2
    assert roles[3:] == sorted(roles[3:], key=["supports", "context"].index)
    assert [e.rank for e in sel.evidence] == list(range(1, len(roles) + 1))  # type: ignore[attr-defined]
    # the correction shares almost no words with the claim and is still evidence
    assert 5 in [e.scored.passage_id for e in sel.evidence]  # type: ignore[attr-defined]


def test_the_origin_is_the_earliest_copy_of_the_claim_and_copies_count_once() -> None:
    _, sel = compose(KOREA_POOL)
    origin = sel.origin  # type: ignore[attr-defined]
    assert origin is not None and origin.role == "origin"
    assert origin.scored.passage_id == 3
    assert {c.passage_id for c in origin.copies} == {1, 2}
    ids = [e.scored.passage_id for e in sel.evidence]  # type: ignore[attr-defined]
    assert not {1, 2} & set(ids)


def test_the_listing_carries_stance_reasons_and_role() -> None:
    _, sel = compose(KOREA_POOL)
    listing = sel.as_list()  # type: ignore[attr-defined]
    first = listing[0]
    assert first["stance"] == "refutes" and first["role"] == "refutes"
    assert first["reasons"] and 0 < first["stance_confidence"] <= 1
    assert {item["role"] for item in listing} >= {"refutes", "origin"}


def test_composition_is_deterministic_whatever_the_input_order() -> None:
    _, sel = compose(KOREA_POOL)
    shuffled = KOREA_POOL[:]
    random.Random(7).shuffle(shuffled)
    _, again = compose(shuffled)
    assert sel.as_list() == again.as_list()  # type: ignore[attr-defined]


def test_few_slots_still_hold_the_refutation_and_the_origin() -> None:
    _, sel = compose(KOREA_POOL, top_k=3)
    roles = [e.role for e in sel.evidence]  # type: ignore[attr-defined]
    assert roles == ["refutes", "refutes", "origin"]


def test_a_claim_without_refutation_has_no_refuting_role() -> None:
    pool = [
        dated(1, WIRE, "wire.example", "2017-09-19T09:00:00"),
        dated(
            2, "The fund owns about 1.3 percent of all listed shares.", "bank.example", "2017-09-20"
        ),
    ]
    stances = CueStanceModel().classify(ClaimFacts(CLAIM), pool)
    sel = select_evidence(
        CLAIM,
        rank_passages(CLAIM, pool),
        top_k=8,
        max_per_site=2,
        match_threshold=0.65,
        stances={q.passage_id: s for q, s in zip(pool, stances, strict=True)},
    )
    assert "refutes" not in [e.role for e in sel.evidence]
    assert sel.evidence[0].role in ("origin", "supports")
