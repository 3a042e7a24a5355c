"""evidence/scoring/select.py: top-k with site diversity, syndication groups, fact-checks first."""

from __future__ import annotations

from evidence.scoring.rank import PassageInput, rank_passages
from evidence.scoring.select import FactCheckInput, select_evidence

CLAIM = "Norway's sovereign wealth fund is worth more than $1 trillion"
WIRE = "Norway's sovereign wealth fund passed $1 trillion in value on Tuesday, helped by stocks."


def p(pid: int, text: str, site: str, key: str | None = None) -> PassageInput:
    return PassageInput(pid, text, f"https://{site}/story-{pid}", site, key=key)


def test_one_site_cannot_take_every_slot() -> None:
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
    assert sites.count("big.example") == 2
    assert "small.example" in sites
    assert [e.rank for e in sel.evidence] == list(range(1, len(sel.evidence) + 1))


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
