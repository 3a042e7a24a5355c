"""flows/steps.py, discovery's two rounds on the live demo corpus: the plan's searches and
the follow-up round land in the run's search window; search ranks reach the passages."""

from __future__ import annotations

import asyncio

from sqlmodel import Session

from evidence import claims
from evidence.models import Run
from evidence.scoring.rank import rank_passages
from evidence.settings import get_settings
from flows.steps import (
    VerifyConfig,
    claim_passages,
    discover_followup,
    discover_for,
    fetch_candidates,
    search_ranks,
    start_run,
    with_search_ranks,
)
from sources.fetch import AsyncFetcher


def test_two_rounds_are_recorded_and_ranks_reach_the_passages(db, corpus_env) -> None:  # type: ignore[no-untyped-def]
    first = corpus_env.claims()[0]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = claims.add_claim(
            s,
            claims.make_create(
                text=first["text"],
                url=first["url"],
                claimant=first["claimant"],
                claim_date=first["date"],
            ),
            actor="test",
        ).claim
        s.commit()
    claim_id = claim.id
    assert claim_id is not None
    run_id = start_run(claim_id, actor="test")

    async def go():  # type: ignore[no-untyped-def]
        async with AsyncFetcher(get_settings()) as fetcher:
            one = await discover_for(claim_id, run_id, VerifyConfig(), fetcher, actor="test")
            pages = await fetch_candidates(one.candidates, fetcher, run_id=run_id, actor="test")
            ids = sorted({p.document_id for p in pages if p.ok and p.document_id is not None})
            ranks = search_ranks(claim_id, run_id)  # its own session: SQLite locks on write
            with Session(db.engine) as s:
                pool = with_search_ranks(claim_passages(s, ids), ranks)
            ranked = rank_passages(first["text"], pool)
            two = await discover_followup(
                claim_id, run_id, VerifyConfig(), fetcher, ranked[:10], actor="test"
            )
            return one, pool, two

    one, pool, two = asyncio.run(go())
    ranks = search_ranks(claim_id, run_id)
    assert one.plan is not None and {q.family for q in one.plan.queries} >= {"topic"}
    assert any(p.search_rank is not None for p in pool)
    assert min(p.search_rank for p in pool if p.search_rank is not None) >= 1
    with Session(db.engine) as s:
        run = s.get(Run, run_id)
        assert run is not None
        window = run.search_window
        assert window["searches"] and all(s_["round"] == 1 for s_ in window["searches"][:1])
        assert window["adapter_errors"] == [f.as_json() for f in one.failures]
        # the demo story names Pyongyang, Washington and the Six-Party Talks next to the claim
        assert two is not None
        assert two.round == 2
        assert [p["round"] for p in window["plans"]] == [1, 2]
        assert {s_["family"] for s_ in window["searches"] if s_["round"] == 2} == {"followup"}
        assert len(two.candidates) <= get_settings().followup_candidates
        earlier = {c.url for c in one.candidates}
        new = [c.url for c in two.candidates if c.url not in earlier]
        assert all(ranks[url] > len(one.candidates) for url in new)
