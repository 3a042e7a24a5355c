from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, func, select

from evidence.audit import iter_events, verify_chain
from evidence.models import AuditEvent, FactCheck, Run
from evidence.models import Candidate as CandidateRow
from evidence.scoring.rank import PassageInput
from sources.discovery import SourceSpec
from sources.discovery.base import Candidate, DiscoveryOutput, ExistingFactCheck
from sources.discovery.followup import followup_plan
from sources.discovery.plan import plan
from sources.discovery.record import record_discovery
from sources.discovery.run import AdapterFailure, DiscoveryResult, merge
from tests.factories import make_claim


def a_result() -> DiscoveryResult:
    outputs = [
        (
            SourceSpec("origin"),
            DiscoveryOutput(
                (Candidate("https://o.example/post", "origin", None, 0, meta={"role": "origin"}),)
            ),
        ),
        (
            SourceSpec("mediawiki"),
            DiscoveryOutput(
                (
                    Candidate(
                        "https://en.wikipedia.org/wiki/X",
                        "mediawiki",
                        "q1",
                        1,
                        "X",
                        meta={"snippet": "x"},
                    ),
                    Candidate("https://shared.example/a#frag", "mediawiki", "q2", 2),
                )
            ),
        ),
        (
            SourceSpec("gdelt"),
            DiscoveryOutput(
                (Candidate("https://shared.example/a?utm_source=g", "gdelt", "q1", 1),)
            ),
        ),
        (
            SourceSpec("factcheck-api"),
            DiscoveryOutput(
                (Candidate("https://fc.example/review", "factcheck-api", "q1", 1),),
                (
                    ExistingFactCheck(
                        publisher="PolitiFact",
                        rating="Mostly False",
                        url="https://fc.example/review",
                        review_date=date(2018, 3, 7),
                        claim_reviewed="North Korea offered talks",
                        claimant="State media",
                    ),
                ),
            ),
        ),
    ]
    merged, dropped = merge(outputs)
    return DiscoveryResult(
        queries=("q1", "q2"),
        sources=("origin", "mediawiki", "gdelt", "factcheck-api", "rss=https://f.example/x.xml"),
        candidates=tuple(merged),
        fact_checks=tuple(c for _, o in outputs for c in o.fact_checks),
        failures=(
            AdapterFailure(
                "rss", "rss=https://f.example/x.xml", "timeout", "no answer within 20 s."
            ),
        ),
        dropped=dropped,
    )


def count(session: Session, model) -> int:  # type: ignore[no-untyped-def]
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_candidates_fact_checks_and_failures_are_recorded_with_audit_events(db):
    with Session(db.engine) as session:
        claim = make_claim(session)
        run = Run(claim_id=claim.id, search_window={"from": "2018-01-01"})
        session.add(run)
        session.flush()
        recorded = record_discovery(session, claim.id, run.id, a_result(), actor="flow:test")
        session.commit()
        claim_id, run_id = claim.id, run.id

    assert (recorded.candidates_added, recorded.fact_checks_added, recorded.failures) == (5, 1, 1)
    with Session(db.engine) as session:
        rows = session.exec(
            select(CandidateRow)
            .where(CandidateRow.claim_id == claim_id)
            .order_by(col(CandidateRow.id))
        ).all()
        # the page two sources agree on leads the fused ranking
        assert [(r.url, r.adapter, r.query, r.rank) for r in rows] == [
            ("https://o.example/post", "origin", None, 0),
            ("https://shared.example/a", "mediawiki", "q2", 2),
            ("https://shared.example/a", "gdelt", "q1", 1),
            ("https://en.wikipedia.org/wiki/X", "mediawiki", "q1", 1),
            ("https://fc.example/review", "factcheck-api", "q1", 1),
        ]
        assert all(r.run_id == run_id for r in rows)
        assert rows[3].title == "X" and rows[3].meta["snippet"] == "x"
        assert rows[1].meta["proposals"] == [
            {
                "adapter": "mediawiki",
                "source": "mediawiki",
                "family": "given",
                "query": "q2",
                "rank": 2,
            }
        ]
        assert rows[1].meta["order"] == rows[2].meta["order"] == 2

        check = session.exec(select(FactCheck)).one()
        assert (check.source, check.publisher, check.rating, check.review_date) == (
            "factcheck-api",
            "PolitiFact",
            "Mostly False",
            date(2018, 3, 7),
        )
        assert check.claim_reviewed == "North Korea offered talks"

        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.subject == f"claim:{claim_id}")
            .order_by(col(AuditEvent.seq))
        ).all()
        actions = [e.action for e in events]
        assert actions[-3:] == [
            "candidates.proposed",
            "factcheck.found",
            "discovery.adapter_failed",
        ]
        proposed = events[-3].payload
        assert proposed["run_id"] == run_id and proposed["queries"] == ["q1", "q2"]
        assert {
            (c["url"], c["adapter"], c["query"], c["rank"]) for c in proposed["candidates"]
        } == {(r.url, r.adapter, r.query, r.rank) for r in rows}
        failed = {k: v for k, v in events[-1].payload.items() if k != "v"}  # v: event version
        assert failed == {
            "claim_id": claim_id,
            "run_id": run_id,
            "adapter": "rss",
            "source": "rss=https://f.example/x.xml",
            "failure": "timeout",
            "message": "no answer within 20 s.",
        }
        window = session.get(Run, run_id).search_window
        assert window["from"] == "2018-01-01"  # what was there stays
        assert window["adapter_failures"][0]["kind"] == "timeout"
        assert window["queries"] == ["q1", "q2"]
    assert verify_chain(iter_events(db.engine)).ok


def test_recording_again_writes_no_duplicates(db):
    with Session(db.engine) as session:
        claim = make_claim(session)
        record_discovery(session, claim.id, None, a_result(), actor="flow:test")
        session.commit()
        again = record_discovery(session, claim.id, None, a_result(), actor="flow:test")
        session.commit()
        assert (again.candidates_added, again.fact_checks_added) == (0, 0)
        assert count(session, CandidateRow) == 5
        assert count(session, FactCheck) == 1
        last = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "candidates.proposed")
            .order_by(col(AuditEvent.seq).desc())
        ).first()
        assert last is not None and not any(c["new"] for c in last.payload["candidates"])


def test_nothing_written_when_the_transaction_rolls_back(db):
    with Session(db.engine) as session:
        claim = make_claim(session)
        session.commit()
        claim_id = claim.id
        record_discovery(session, claim_id, None, a_result(), actor="flow:test")
        session.rollback()
        assert count(session, CandidateRow) == 0
        assert (
            session.exec(
                select(AuditEvent).where(AuditEvent.action == "candidates.proposed")
            ).first()
            is None
        )


def test_the_second_round_is_recorded_beside_the_first_in_the_search_window(db):
    first_plan = plan(
        "North Korea made its first direct offer of talks", claim_date=date(2018, 3, 9)
    )
    second_plan = followup_plan(
        first_plan,
        [
            PassageInput(1, "Chung Eui-yong carried the offer from North Korea.", "https://a/1"),
            PassageInput(2, "Chung Eui-yong briefed the White House.", "https://b/2"),
        ],
    )
    search = {"source": "gdelt", "adapter": "gdelt", "family": "topic", "query": "x", "hits": 3}

    def result(p, url: str) -> DiscoveryResult:
        return DiscoveryResult(
            queries=p.texts,
            sources=("gdelt",),
            candidates=(Candidate(url, "gdelt", "x", 1),),
            fact_checks=(),
            failures=(),
            searches=({**search, "kept": [url]},),
            plan=p,
            round=p.round,
        )

    with Session(db.engine) as session:
        claim = make_claim(session)
        run = Run(claim_id=claim.id)
        session.add(run)
        session.flush()
        record_discovery(session, claim.id, run.id, result(first_plan, "https://g/1"), actor="t")
        record_discovery(
            session, claim.id, run.id, result(second_plan, "https://g/2"), actor="t", first_order=2
        )
        session.commit()
        window = session.get(Run, run.id).search_window
        assert [s["round"] for s in window["searches"]] == [1, 2]
        assert [p["round"] for p in window["plans"]] == [1, 2]
        assert window["plans"][1]["queries"][0]["family"] == "followup"
        assert window["dates"] == {"from": "2015-03-10", "to": "2018-05-08"}
        assert session.get(Run, run.id).queries == [*first_plan.texts, *second_plan.texts]
        orders = {
            r.url: r.meta["order"]
            for r in session.exec(select(CandidateRow).where(CandidateRow.run_id == run.id))
        }
        assert orders == {"https://g/1": 1, "https://g/2": 2}
