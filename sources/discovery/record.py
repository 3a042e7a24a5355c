"""Recording a discovery: why each page was fetched, in the tables and in the audit chain.

One candidate row per (claim, URL, adapter) — the table's unique key — with the query and
rank that adapter proposed it at and all its proposals in ``meta``; a re-run adds rows only
for new proposals. Existing fact-checks found by the fact-check search become fact_check
rows (``source="factcheck-api"``). The audit chain gets, in the same transaction, one
``candidates.proposed`` event listing every candidate of this run, a ``factcheck.found``
per new fact-check and a ``discovery.adapter_failed`` per failed source. With a run id the
run's ``search_window`` keeps where we looked, round by round: the sources, the query plan
(families and dates), every query each source sent with its hit count and the kept
candidates it found (``searches``), and the failures. A second round ("follow the story")
adds its queries and searches next to the first round's; its candidates are numbered after
the first round's (``first_order``), so their order stays one ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from evidence import audit
from evidence.db import insert_once
from evidence.models import Candidate as CandidateRow
from evidence.models import FactCheck, Run
from sources.discovery.base import Candidate, ExistingFactCheck
from sources.discovery.run import DiscoveryResult

FACTCHECK_SOURCE = "factcheck-api"
_PUBLISHER_CHARS = 300  # column sizes of fact_check
_RATING_CHARS = 200


@dataclass(frozen=True)
class Recorded:
    candidates_added: int
    fact_checks_added: int
    failures: int


def record_discovery(
    session: Session,
    claim_id: int,
    run_id: int | None,
    result: DiscoveryResult,
    *,
    actor: str,
    first_order: int = 1,
) -> Recorded:
    """Write ``result`` for ``claim_id`` inside the caller's transaction."""
    listed: list[dict[str, Any]] = []
    added = 0
    for order, candidate in enumerate(result.candidates, start=first_order):
        for row in candidate_rows(claim_id, run_id, candidate, order):
            new = _insert_once(session, row)
            added += new
            listed.append(
                {
                    "url": row.url,
                    "adapter": row.adapter,
                    "query": row.query,
                    "rank": row.rank,
                    "order": order,
                    "new": new,
                }
            )
    audit.record(
        session,
        audit.CandidatesProposed(
            claim_id=claim_id,
            candidates=listed,
            **_explanation(run_id, result),
        ),
        actor=actor,
    )
    checks = sum(_record_fact_check(session, claim_id, c, actor=actor) for c in result.fact_checks)
    for failure in result.failures:
        audit.record(
            session,
            audit.AdapterFailed(
                claim_id=claim_id,
                run_id=run_id,
                adapter=failure.adapter,
                source=failure.source,
                failure=failure.kind,
                message=failure.message,
            ),
            actor=actor,
        )
    if run_id is not None:
        _note_search_window(session, run_id, result)
    return Recorded(added, checks, len(result.failures))


def _explanation(run_id: int | None, result: DiscoveryResult) -> dict[str, Any]:
    """What the candidates.proposed event adds to its list: where they came from."""
    return {
        "run_id": run_id,
        "round": result.round,
        "queries": list(result.queries),
        "plan": result.plan.as_json() if result.plan else None,
        "searches": list(result.searches),
        "sources": list(result.sources),
        "dropped": result.dropped,
        "capped": result.capped,
    }


def candidate_rows(
    claim_id: int, run_id: int | None, candidate: Candidate, order: int
) -> list[CandidateRow]:
    """One row per adapter that proposed the URL, at that adapter's best rank. Pure."""
    proposals = candidate.meta.get("proposals") or [
        {"adapter": candidate.adapter, "query": candidate.query, "rank": candidate.rank}
    ]
    by_adapter: dict[str, list[dict[str, Any]]] = {}
    for proposal in proposals:
        by_adapter.setdefault(str(proposal["adapter"]), []).append(proposal)
    rows = []
    for adapter, own in by_adapter.items():
        best = min(own, key=lambda p: int(p["rank"]))
        extra = candidate.meta if adapter == candidate.adapter else {}
        meta = {k: v for k, v in extra.items() if k != "proposals"}
        rows.append(
            CandidateRow(
                claim_id=claim_id,
                run_id=run_id,
                url=candidate.url,
                adapter=adapter,
                query=best.get("query"),
                rank=int(best["rank"]),
                title=candidate.title if adapter == candidate.adapter else None,
                meta={**meta, "order": order, "proposals": own},
            )
        )
    return rows


def _insert_once(session: Session, row: CandidateRow) -> bool:
    """Insert unless the (claim, url, adapter) row exists; True when inserted. A concurrent
    run inserting the same row between look-up and insert loses quietly."""
    exists = session.exec(
        select(CandidateRow.id).where(
            CandidateRow.claim_id == row.claim_id,
            CandidateRow.url == row.url,
            CandidateRow.adapter == row.adapter,
        )
    ).first()
    if exists is not None:
        return False
    return insert_once(session, row, lambda: _candidate_twin(session, row))[1]


def _candidate_twin(session: Session, row: CandidateRow) -> CandidateRow | None:
    return session.exec(
        select(CandidateRow).where(
            CandidateRow.claim_id == row.claim_id,
            CandidateRow.url == row.url,
            CandidateRow.adapter == row.adapter,
        )
    ).first()


def _record_fact_check(
    session: Session, claim_id: int, check: ExistingFactCheck, *, actor: str
) -> bool:
    exists = session.exec(
        select(FactCheck.id).where(FactCheck.claim_id == claim_id, FactCheck.url == check.url)
    ).first()
    if exists is not None:
        return False
    row = FactCheck(
        claim_id=claim_id,
        source=FACTCHECK_SOURCE,
        url=check.url,
        claim_reviewed=check.claim_reviewed,
        rating=check.rating[:_RATING_CHARS] if check.rating else None,
        publisher=check.publisher[:_PUBLISHER_CHARS] if check.publisher else None,
        review_date=check.review_date,
    )
    find = select(FactCheck).where(FactCheck.claim_id == claim_id, FactCheck.url == check.url)
    if not insert_once(session, row, lambda: session.exec(find).first())[1]:
        return False
    audit.record(
        session,
        audit.FactCheckFound(
            claim_id=claim_id,
            url=check.url,
            rating=row.rating,
            **{
                "publisher": row.publisher,
                "review_date": check.review_date,
                "claimant": check.claimant,
                "source": FACTCHECK_SOURCE,
            },
        ),
        actor=actor,
    )
    return True


def _note_search_window(session: Session, run_id: int, result: DiscoveryResult) -> None:
    run = session.get(Run, run_id)
    if run is None:
        return
    run.search_window = search_window_update(run.search_window, result)
    run.queries = list(run.search_window["queries"])
    session.add(run)


def search_window_update(window: dict[str, Any], result: DiscoveryResult) -> dict[str, Any]:
    """``window`` with ``result``'s round in it; earlier rounds' entries stay. Pure."""
    this = result.round

    def others(key: str) -> list[Any]:
        return [e for e in window.get(key, []) if isinstance(e, dict) and e.get("round") != this]

    queries = list(window.get("queries", [])) if this != 1 else []
    queries += [q for q in result.queries if q not in queries]
    plans = others("plans") + ([result.plan.as_json()] if result.plan else [])
    searches = others("searches") + [{**s, "round": this} for s in result.searches]
    failures = others("adapter_failures") + [
        {**f.as_json(), "round": this} for f in result.failures
    ]
    updated = {
        **window,
        "queries": queries,
        "plans": plans,
        "searches": searches,
        "adapter_failures": failures,
    }
    if this == 1:
        updated["sources"] = list(result.sources)
        span = result.plan.window() if result.plan else None
        updated["dates"] = (
            {"from": span[0].isoformat(), "to": span[1].isoformat()} if span else None
        )
    return updated
