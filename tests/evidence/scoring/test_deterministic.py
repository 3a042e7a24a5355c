"""Issue 15 item 7: the same claim and pages give the same evidence whatever order the
fetches completed in (passage ids follow that order, so no choice may depend on them)."""

from __future__ import annotations

from evidence.scoring.rank import PassageInput, rank_passages
from evidence.scoring.select import select_evidence
from evidence.scoring.stance import ClaimFacts, CueStanceModel

CLAIM = "Norway's sovereign wealth fund is worth more than $1 trillion"
WIRE = "Norway's sovereign wealth fund passed $1 trillion in value on Tuesday, helped by stocks."
DENIAL = "Officials denied that Norway's sovereign wealth fund is worth more than $1 trillion."

# (url, site, passages): several pages carry the very same text, so their passages tie on
# every feature and only the tie-break decides which lead, which are copies, which are cut
PAGES: list[tuple[str, str, list[str]]] = [
    ("https://wire.example/fund", "wire.example", [WIRE, "Markets closed higher on Tuesday."]),
    ("https://paper-a.example/fund", "paper-a.example", [WIRE, DENIAL]),
    ("https://paper-b.example/fund", "paper-b.example", [WIRE]),
    ("https://paper-c.example/fund", "paper-c.example", [DENIAL, WIRE]),
    ("https://blog.example/fund", "blog.example", [DENIAL]),
    ("https://bank.example/fund", "bank.example", [WIRE, WIRE]),
]


def fetched(order: list[int]) -> list[PassageInput]:
    """Passages with ids handed out in the order the pages' fetches completed."""
    pool: list[PassageInput] = []
    for page in order:
        url, site, texts = PAGES[page]
        for text in texts:
            pool.append(PassageInput(len(pool) + 1, text, url, site, key=str(hash(text))))
    return pool


def evidence(pool: list[PassageInput], *, with_stances: bool) -> list[tuple[object, ...]]:
    ranked = rank_passages(CLAIM, pool)
    stances = None
    if with_stances:
        labels = CueStanceModel().classify(ClaimFacts(CLAIM), pool)
        stances = {q.passage_id: s for q, s in zip(pool, labels, strict=True)}
    sel = select_evidence(
        CLAIM, ranked, top_k=4, max_per_site=1, match_threshold=0.65, stances=stances
    )
    return [
        (
            e.rank,
            e.scored.passage.url,
            e.scored.passage.text,
            e.scored.score,
            e.stance.label if e.stance else None,
            e.role,
            sorted((c.url, c.site) for c in e.copies),
        )
        for e in sel.evidence
    ]


def test_fetch_order_does_not_change_the_evidence() -> None:
    forward = list(range(len(PAGES)))
    orders = [forward, forward[::-1], [3, 0, 5, 1, 4, 2]]
    for with_stances in (False, True):
        runs = [evidence(fetched(order), with_stances=with_stances) for order in orders]
        assert runs[0], "the claim found no evidence: the test would prove nothing"
        assert runs[1] == runs[0]
        assert runs[2] == runs[0]


def test_ranking_ties_are_broken_by_page_not_by_id() -> None:
    forward = rank_passages(CLAIM, fetched(list(range(len(PAGES)))))
    backward = rank_passages(CLAIM, fetched(list(range(len(PAGES)))[::-1]))
    as_seen = [[(s.passage.url, s.passage.text, s.score) for s in r] for r in (forward, backward)]
    assert as_seen[0] == as_seen[1]
    # the wire text ties across five pages: they come out in URL order
    wire_urls = [url for url, text, _ in as_seen[0] if text == WIRE]
    assert wire_urls == sorted(wire_urls) and len(wire_urls) == 6
