"""The end-to-end runner: how it matches recorded passages to the gold and scores a claim,
and one short real run (the pipeline's steps against the served evidence corpus)."""

from __future__ import annotations

import os

from bench.eval_e2e import ClaimResult, e2e_figures, same_passage, score_claim, summarise
from demo.evidence_corpus import LabelledClaim, LabelledPage, load_evidence_set


def _claim(claim_id: str) -> LabelledClaim:
    return next(c for c in load_evidence_set() if c.id == claim_id)


def _page_at(claim: LabelledClaim):  # type: ignore[no-untyped-def]
    pages = {p.url: (claim, p) for p in claim.pages}
    return lambda url: pages.get(url)


def test_passages_match_by_containment_or_word_overlap() -> None:
    gold = "Berlin police estimated that 38,000 people attended the rally on Saturday."
    assert same_passage("  BERLIN police estimated that 38,000 people attended the rally ", gold)
    assert same_passage(gold + " More news follows.", gold)
    assert same_passage(gold.replace("Saturday", "Sunday"), gold)  # one word in twelve
    assert not same_passage("Police estimated the crowd in Munich at 5,000.", gold)
    assert not same_passage("", gold)


def test_a_claim_is_scored_on_its_own_gold() -> None:
    claim = _claim("e001")
    refuting = [p for p in claim.pages if any(q.label == "R" for q in p.passages)]
    origin = next(p for p in claim.pages if any(q.label == "O" for q in p.passages))
    noise: LabelledPage = next(p for p in claim.pages if not p.gold)
    r_text = next(q.text for q in refuting[0].passages if q.label == "R")
    o_text = next(q.text for q in origin.passages if q.label == "O")
    evidence = [(noise.url, noise.passages[0].text), (origin.url, o_text), (origin.url, r_text)]
    scores = score_claim(claim, [origin.url, noise.url], evidence, _page_at(claim))
    gold_pages = sum(p.gold for p in claim.pages)
    assert scores["discovery_recall"] == 1 / gold_pages
    assert scores["mrr"] == 0.5
    assert scores["evidence_recall@5"] == 2 / 5
    assert scores["refutation_recall@3"] == 1.0
    late = score_claim(
        claim, [], [*evidence[:2], (noise.url, "x"), (noise.url, r_text)], _page_at(claim)
    )
    assert late["refutation_recall@3"] == 0.0


def test_claims_without_a_refutation_stay_out_of_refutation_recall() -> None:
    claim = _claim("e046")
    assert not claim.passages("R")
    scores = score_claim(claim, [], [], _page_at(claim))
    assert "refutation_recall@3" not in scores and scores["mrr"] == 0.0
    figures = summarise([ClaimResult("e046", 2.0, scores=scores)])
    assert figures["refutation_recall@3"] is None and figures["seconds_per_claim"] == 2.0


def test_a_short_real_run_reports_every_figure() -> None:
    before = dict(os.environ)
    figures = e2e_figures(limit=2)
    assert figures["claims"] == 2 and figures["failed"] == 0
    for name in ("discovery_recall", "evidence_recall@5", "mrr"):
        assert 0.0 <= figures[name] <= 1.0
    assert figures["candidates_per_claim"] > 0 and figures["seconds_per_claim"] > 0
    assert dict(os.environ) == before  # the run's settings do not leak
