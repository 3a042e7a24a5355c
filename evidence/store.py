"""Write a selection as Evidence and FactCheck rows, with its audit events.

Re-running is safe: Evidence is unique on (claim, passage), so a re-run updates score, rank,
components and copies in place and inserts nothing twice; rows the new selection dropped
stay (a verdict may cite them) but turn ``active=False``. FactCheck is unique on
(claim, url) and is updated the same way. One ``EvidenceSelected`` event lists what was
chosen (passage id, score, rank); each newly found fact-check adds a ``FactCheckFound``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, SQLModel, col, select

from evidence import audit
from evidence.db import insert_once
from evidence.errors import BadInput
from evidence.models import Evidence, FactCheck
from evidence.scoring.select import MatchedFactCheck, SelectedPassage, Selection

M = TypeVar("M", bound=SQLModel)
INSERT_CHUNK = 500  # rows per INSERT: well under SQLite's 32,766 parameters


def insert_rows(session: Session, rows: Sequence[M], key: str) -> None:
    """Insert ``rows`` (new ORM rows of one model) in one multi-row INSERT per INSERT_CHUNK
    rows, where the ORM sends one statement per row. Each row gets its id back through
    RETURNING, matched on the column ``key`` (unique among ``rows``, so the order RETURNING
    gives does not matter), and joins the session as a loaded row: ready for an audit
    event's digest. Without RETURNING, the ORM's way. A unique violation propagates."""
    if not rows:
        return
    if not session.get_bind().dialect.insert_returning:
        session.add_all(rows)
        session.flush()
        return
    table: Table = type(rows[0]).__table__  # type: ignore[attr-defined]
    columns = [c.name for c in table.columns if c.name != "id"]
    by_key = {getattr(row, key): row for row in rows}
    for at in range(0, len(rows), INSERT_CHUNK):
        values = [{c: getattr(row, c) for c in columns} for row in rows[at : at + INSERT_CHUNK]]
        returned = insert(table).values(values).returning(table.c.id, table.c[key])
        for row_id, row_key in session.execute(returned).all():
            by_key[row_key].id = row_id
    for row in rows:
        make_transient_to_detached(row)
        session.add(row)


def record_evidence(
    session: Session, claim_id: int, run_id: int | None, selection: Selection, *, actor: str
) -> list[Evidence]:
    """Store ``selection`` for the claim inside the caller's transaction; returns the
    active Evidence rows in rank order.

    One query reads the claim's evidence rows, updates go in place, new rows in one INSERT;
    a concurrent run that inserted one of the same (claim, passage) pairs first makes that
    INSERT fail, and then each new row takes the one-by-one path that updates the winner's."""
    known = _claim_evidence(session, claim_id)
    rows: list[Evidence] = []
    fresh: list[int] = []  # where the new rows are in ``rows``
    for chosen in selection.evidence:
        passage_id = _passage_id(chosen)
        found = known.get(passage_id)
        if found is None:
            fresh.append(len(rows))
            found = Evidence(claim_id=claim_id, passage_id=passage_id, score=0, rank=0)
        else:
            session.add(found)
        rows.append(_fill(found, run_id, chosen))
    if fresh:
        try:
            with session.begin_nested():
                insert_rows(session, [rows[i] for i in fresh], key="passage_id")
        except IntegrityError:
            for i in fresh:
                rows[i] = _upsert_evidence(session, claim_id, run_id, selection.evidence[i])
    kept = {row.passage_id for row in rows}
    stale = [row for row in known.values() if row.active and row.passage_id not in kept]
    for row in stale:
        row.active = False
        session.add(row)
    for matched in selection.fact_checks:
        _upsert_fact_check(session, claim_id, matched, actor=actor)
    session.flush()
    event = audit.EvidenceSelected.model_validate(
        {
            "claim_id": claim_id,
            "evidence": [
                {
                    "passage_id": r.passage_id,
                    "score": r.score,
                    "rank": r.rank,
                    "stance": r.stance,
                    "stance_confidence": r.stance_confidence,
                    "reasons": r.stance_reasons,
                    "role": r.role,
                }
                for r in rows
            ],
            "run_id": run_id,
            "fact_checks": [m.fact_check.url for m in selection.fact_checks],
        }
    )
    audit.record(session, event, actor=actor, rows=[*rows, *stale])
    return rows


def _claim_evidence(session: Session, claim_id: int) -> dict[int, Evidence]:
    """The claim's Evidence rows (active or not) by passage id, in one query."""
    rows = session.exec(select(Evidence).where(Evidence.claim_id == claim_id)).all()
    return {row.passage_id: row for row in rows}


def _passage_id(chosen: SelectedPassage) -> int:
    pid = chosen.scored.passage_id
    if not isinstance(pid, int):
        raise BadInput(f"The passage id {pid!r} is not a stored passage's id.")
    return pid


def _upsert_evidence(
    session: Session, claim_id: int, run_id: int | None, chosen: SelectedPassage
) -> Evidence:
    passage_id = _passage_id(chosen)
    found = _find_evidence(session, claim_id, passage_id)
    if found is not None:
        session.add(_fill(found, run_id, chosen))
        return found
    fresh = Evidence(claim_id=claim_id, passage_id=passage_id, score=0, rank=0)
    row, inserted = insert_once(
        session, _fill(fresh, run_id, chosen), lambda: _find_evidence(session, claim_id, passage_id)
    )
    if not inserted:  # a concurrent run inserted this pair first: update its row instead
        session.add(_fill(row, run_id, chosen))
    return row


def _fill(row: Evidence, run_id: int | None, chosen: SelectedPassage) -> Evidence:
    row.run_id = run_id
    row.score = float(chosen.scored.score)
    row.rank = chosen.rank
    row.components = {k: float(v) for k, v in chosen.scored.components.items()}
    row.matched_terms = list(chosen.scored.matched_terms)
    row.copies = [c.as_json() for c in chosen.copies]
    row.stance = chosen.stance.label if chosen.stance else None
    row.stance_confidence = round(chosen.stance.confidence, 4) if chosen.stance else None
    row.stance_reasons = list(chosen.stance.reasons) if chosen.stance else []
    row.role = chosen.role
    row.active = True
    return row


def _find_evidence(session: Session, claim_id: int, passage_id: int) -> Evidence | None:
    return session.exec(
        select(Evidence).where(Evidence.claim_id == claim_id, Evidence.passage_id == passage_id)
    ).first()


def _upsert_fact_check(
    session: Session, claim_id: int, matched: MatchedFactCheck, *, actor: str
) -> FactCheck:
    fc = matched.fact_check
    row = session.exec(
        select(FactCheck).where(FactCheck.claim_id == claim_id, FactCheck.url == fc.url)
    ).first()
    is_new = row is None
    if row is None:
        row = FactCheck(claim_id=claim_id, url=fc.url, source=fc.source)
    row.source = fc.source
    row.document_id = fc.document_id
    row.claim_reviewed = fc.claim_reviewed
    row.rating = fc.rating
    row.publisher = fc.publisher
    row.review_date = fc.review_date
    row.similarity = matched.similarity
    session.add(row)
    session.flush()
    if is_new:
        found = audit.FactCheckFound.model_validate(
            {
                "claim_id": claim_id,
                "url": fc.url,
                "rating": fc.rating,
                "publisher": fc.publisher,
                "similarity": matched.similarity,
            }
        )
        audit.record(session, found, actor=actor)
    return row


def active_fact_checks(session: Session, claim_id: int) -> list[FactCheck]:
    """The claim's matched fact-checks, most similar first (shown above other evidence)."""
    return list(
        session.exec(
            select(FactCheck)
            .where(FactCheck.claim_id == claim_id)
            .order_by(col(FactCheck.similarity).desc(), col(FactCheck.id))
        ).all()
    )
