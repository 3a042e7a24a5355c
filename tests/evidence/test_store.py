"""evidence/store.py: Evidence and FactCheck rows, idempotent re-runs, audit."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlmodel import Session, col, select

from bench.sqlcount import SqlCounter
from evidence import store as store_mod
from evidence.audit.check import verify_audit
from evidence.errors import BadInput
from evidence.models import AuditEvent, Document, Evidence, FactCheck, Fetch, Passage
from evidence.scoring.rank import PassageInput, rank_passages
from evidence.scoring.select import FactCheckInput, select_evidence
from evidence.store import active_fact_checks, record_evidence
from tests.factories import make_claim

CLAIM = "Norway's sovereign wealth fund is worth more than $1 trillion"


def make_passage(session: Session, text: str, *, site: str | None = None) -> PassageInput:
    """A Document, a Fetch and a Passage row; returned as the ranking input."""
    site = site or f"{uuid.uuid4().hex[:8]}.example"
    doc = Document(url=f"https://{site}/{uuid.uuid4().hex[:8]}", site=site, title="t")
    session.add(doc)
    session.flush()
    assert doc.id is not None
    fetch = Fetch(document_id=doc.id, requested_url=doc.url, status_code=200, sha256="0" * 64)
    session.add(fetch)
    session.flush()
    assert fetch.id is not None
    key = uuid.uuid4().hex
    row = Passage(
        document_id=doc.id,
        fetch_id=fetch.id,
        ordinal=random.randint(0, 99),
        key=key,
        text=text,
        start=0,
        end=len(text),
        sha256="1" * 64,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return PassageInput(row.id, text, doc.url, site, document_id=doc.id, key=key)


TEXTS = [
    "Norway's sovereign wealth fund passed $1 trillion in value on Tuesday.",
    "The fund, worth more than $1 trillion, invests Norway's oil revenue.",
    "Norway's wealth fund owns 1.3 percent of listed shares worldwide.",
]
FC = FactCheckInput(
    "https://fc.example/fund", CLAIM + ".", "True", "Fact Desk", source="factcheck-api"
)


def evidence_rows(session: Session, claim_id: int) -> list[Evidence]:
    return list(
        session.exec(
            select(Evidence).where(Evidence.claim_id == claim_id).order_by(col(Evidence.passage_id))
        ).all()
    )


def test_record_writes_rows_and_a_rerun_updates_without_duplicates(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = make_claim(s, text=CLAIM)
        assert claim.id is not None
        pool = [make_passage(s, t) for t in TEXTS]
        sel = select_evidence(
            CLAIM,
            rank_passages(CLAIM, pool),
            fact_checks=[FC],
            top_k=8,
            max_per_site=2,
            match_threshold=0.65,
        )
        rows = record_evidence(s, claim.id, None, sel, actor="test")
        s.commit()
        assert [r.rank for r in rows] == [1, 2, 3]
        first = {r.passage_id: r.score for r in evidence_rows(s, claim.id)}
        assert set(first) == {p.passage_id for p in pool}

        # re-run with one passage gone from the selection: updated in place, one inactive
        sel2 = select_evidence(
            CLAIM,
            rank_passages(CLAIM, pool[:2]),
            fact_checks=[FC],
            top_k=8,
            max_per_site=2,
            match_threshold=0.65,
        )
        record_evidence(s, claim.id, None, sel2, actor="test")
        s.commit()
        rows2 = evidence_rows(s, claim.id)
        assert len(rows2) == 3
        assert {r.passage_id: r.active for r in rows2} == {
            pool[0].passage_id: True,
            pool[1].passage_id: True,
            pool[2].passage_id: False,
        }
        top = next(r for r in rows2 if r.rank == 1 and r.active)
        assert top.components["bm25"] == 1.0 and top.matched_terms

        facts = active_fact_checks(s, claim.id)
        assert [(f.url, f.rating, f.publisher, f.source) for f in facts] == [
            ("https://fc.example/fund", "True", "Fact Desk", "factcheck-api")
        ]
        assert len(s.exec(select(FactCheck)).all()) == 1

        events = s.exec(
            select(AuditEvent)
            .where(AuditEvent.subject == f"claim:{claim.id}")
            .order_by(col(AuditEvent.seq))
        ).all()
        actions = [e.action for e in events]
        assert actions.count("evidence.selected") == 2
        assert actions.count("factcheck.found") == 1  # found once, not on the re-run
        last = [e for e in events if e.action == "evidence.selected"][-1]
        assert [item["rank"] for item in last.payload["evidence"]] == [1, 2]
        assert last.payload["fact_checks"] == ["https://fc.example/fund"]


def test_copies_are_stored_with_the_group(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = make_claim(s, text=CLAIM)
        assert claim.id is not None
        a = make_passage(s, TEXTS[0], site="wire.example")
        b = make_passage(s, TEXTS[0] + " More news.", site="paper.example")
        sel = select_evidence(
            CLAIM, rank_passages(CLAIM, [a, b]), top_k=8, max_per_site=2, match_threshold=0.65
        )
        rows = record_evidence(s, claim.id, None, sel, actor="test")
        s.commit()
        assert len(rows) == 1
        assert [c["site"] for c in rows[0].copies] in (["paper.example"], ["wire.example"])


def test_a_passage_id_that_is_not_a_row_id_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = make_claim(s, text=CLAIM)
        assert claim.id is not None
        pool = [PassageInput("x-1", TEXTS[0], "https://a.example/1", "a.example")]
        sel = select_evidence(
            CLAIM, rank_passages(CLAIM, pool), top_k=8, max_per_site=2, match_threshold=0.65
        )
        with pytest.raises(BadInput):
            record_evidence(s, claim.id, None, sel, actor="test")


def _selection(pool: list[PassageInput]):  # type: ignore[no-untyped-def]
    return select_evidence(
        CLAIM, rank_passages(CLAIM, pool), top_k=8, max_per_site=2, match_threshold=0.65
    )


def test_new_evidence_goes_in_one_insert_without_savepoints_per_row(db) -> None:  # type: ignore[no-untyped-def]
    with Session(db.engine, expire_on_commit=False) as s:
        claim = make_claim(s, text=CLAIM)
        pool = [make_passage(s, t) for t in TEXTS]
        s.commit()
        assert claim.id is not None
        with SqlCounter(db.engine) as counter:
            rows = record_evidence(s, claim.id, None, _selection(pool), actor="test")
            s.commit()
    assert counter.counts.inserts["evidence"] == 1
    assert counter.counts.savepoints == 1  # one for the whole insert, not one per row
    with Session(db.engine) as s:
        stored = {r.passage_id: r.id for r in evidence_rows(s, claim.id)}
    assert {r.passage_id: r.id for r in rows} == stored and len(stored) == 3
    report = verify_audit(db.engine, warc_dir=db.data_dir / "warc")
    # the evidence rows match what the event recorded; only the fixture's passages, written
    # without an event, are unvouched
    assert report.row_problems == 0 and report.unvouched == len(TEXTS), report


def test_a_twin_inserted_after_the_look_up_is_updated_not_duplicated(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Another run inserted the same (claim, passage) after this one read the claim's rows:
    the one INSERT fails on the unique key, and each new row takes the one-by-one path."""
    with Session(db.engine, expire_on_commit=False) as s:
        claim = make_claim(s, text=CLAIM)
        pool = [make_passage(s, t) for t in TEXTS]
        s.commit()
        assert claim.id is not None
        twin = Evidence(claim_id=claim.id, passage_id=pool[1].passage_id, score=0.0, rank=9)
        s.add(twin)
        s.commit()
        # this run's look-up happened before the twin was written: it saw no rows
        monkeypatch.setattr(store_mod, "_claim_evidence", lambda _s, _c: {})
        rows = record_evidence(s, claim.id, None, _selection(pool), actor="test")
        s.commit()
    with Session(db.engine) as s:
        stored = evidence_rows(s, claim.id)
    assert len(stored) == 3
    assert {r.passage_id for r in stored} == {p.passage_id for p in pool}
    kept = next(r for r in stored if r.passage_id == pool[1].passage_id)
    assert kept.id == twin.id and kept.rank != 9 and kept.score > 0
    assert [r.id for r in rows] == [
        next(s.id for s in stored if s.passage_id == r.passage_id) for r in rows
    ]
