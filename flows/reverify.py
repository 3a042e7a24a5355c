"""Nightly re-verification of one claim, as plain steps (`flows.nightly` runs them).

Re-fetch every page behind the claim's active evidence with a conditional GET, compare
what each cited passage says now with what it said, discover and fetch new sources, rank
again, and re-open the review only when the evidence changed materially:

- a cited passage was removed or changed, or its page is gone (404/410 — the archived copy
  stays citable: the evidence row keeps pointing at the archived fetch);
- a new existing fact-check matches the claim;
- a new passage entered the top ``MATERIAL_TOP`` evidence.

A page that merely could not be reached tonight is reported, not material.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from evidence import audit, claims
from evidence.db import get_engine, session_scope
from evidence.models import Claim, Document, Evidence, FactCheck, Passage, ReviewTask
from flows import steps
from flows.steps import Page, VerifyConfig
from sources.store import conditional_headers
from verdicts.decisions import reopen
from verdicts.notify import deliver

MATERIAL_TOP = 3
GONE = frozenset({404, 410})
REOPEN_STATES = frozenset({"decided", "published"})
MATERIAL_KINDS = frozenset(
    {"passage_removed", "passage_changed", "page_gone", "new_fact_check", "new_top_evidence"}
)


@dataclass
class CitedPassage:
    evidence_id: int
    passage_id: int
    key: str
    text: str
    document_id: int
    url: str
    rank: int


@dataclass
class DriftReport:
    claim_id: int
    run_id: int | None = None
    checked_pages: int = 0
    unchanged: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    reopened: bool = False
    new_evidence: int = 0
    error: str | None = None

    @property
    def material(self) -> bool:
        return any(c["kind"] in MATERIAL_KINDS for c in self.changes)


def cited_passages(session: Session, claim_id: int) -> list[CitedPassage]:
    rows = session.exec(
        select(Evidence, Passage, Document)
        .join(Passage, col(Passage.id) == Evidence.passage_id)
        .join(Document, col(Document.id) == Passage.document_id)
        .where(Evidence.claim_id == claim_id, col(Evidence.active).is_(True))
        .order_by(col(Evidence.rank))
    ).all()
    return [
        CitedPassage(e.id or 0, p.id or 0, p.key, p.text, d.id or 0, d.url, e.rank)
        for e, p, d in rows
    ]


def _fact_check_urls(session: Session, claim_id: int) -> set[str]:
    return set(session.exec(select(FactCheck.url).where(FactCheck.claim_id == claim_id)).all())


def compare(
    cited: list[CitedPassage],
    page: Page,
    status: int | None,
    not_modified: bool,
    new_keys: set[str],
) -> list[dict[str, Any]]:
    """What changed for the passages cited from one page (pure)."""
    changes: list[dict[str, Any]] = []
    for c in cited:
        base = {"url": c.url, "passage_id": c.passage_id, "evidence_id": c.evidence_id}
        if status in GONE:
            changes.append({**base, "kind": "page_gone", "status": status})
        elif not page.ok:
            changes.append({**base, "kind": "unreachable", "error": page.error_kind})
        elif not_modified or c.key in new_keys:
            continue
        else:
            changes.append({**base, "kind": "passage_removed", "was": c.text[:300]})
    return changes


def _new_keys(session: Session, fetch_id: int | None) -> set[str]:
    if fetch_id is None:
        return set()
    return set(session.exec(select(Passage.key).where(Passage.fetch_id == fetch_id)).all())


async def reverify_claim(
    claim_id: int, fetcher: Any, *, actor: str, config: VerifyConfig | None = None
) -> DriftReport:
    config = config or VerifyConfig()
    report = DriftReport(claim_id)
    with Session(get_engine()) as session:
        cited = cited_passages(session, claim_id)
        known_checks = _fact_check_urls(session, claim_id)
        before_top = {c.passage_id for c in cited if c.rank <= MATERIAL_TOP}
        urls = sorted({c.url for c in cited})
        validators = {url: conditional_headers(session, url) for url in urls}
    report.run_id = run_id = steps.start_run(claim_id, actor=actor, kind="reverify")
    try:
        results = await asyncio.gather(*(fetcher.get(u, conditional=validators[u]) for u in urls))
        refetched: list[Page] = []
        for url, result in zip(urls, results, strict=True):
            page = await asyncio.to_thread(steps.store_result, result, run_id=run_id, actor=actor)
            refetched.append(page)
            with Session(get_engine()) as session:
                keys = _new_keys(session, page.fetch_id)
            report.changes += compare(
                [c for c in cited if c.url == url], page, result.status, result.not_modified, keys
            )
        report.checked_pages = len(urls)
        report.unchanged = sum(1 for r in results if r.not_modified)
        found = await steps.discover_for(claim_id, run_id, config, fetcher, actor=actor)
        pages = await steps.fetch_candidates(found.candidates, fetcher, run_id=run_id, actor=actor)
        # a gone page keeps its archived passages as evidence: rank over its last good fetch
        kept = [p for p in refetched if p.ok] + [
            Page(c.url, c.document_id, None, True, True)
            for c in cited
            if any(ch["kind"] == "page_gone" and ch["url"] == c.url for ch in report.changes)
        ]
        outcome = await asyncio.to_thread(
            steps.rank, claim_id, run_id, [*pages, *kept], actor=actor
        )
        report.changes += _new_findings(outcome, before_top, known_checks)
        report.new_evidence = sum(1 for c in report.changes if c["kind"] == "new_top_evidence")
        await asyncio.to_thread(_conclude, report, actor)
    except Exception as exc:
        steps.finish_run(run_id, status="failed", actor=actor, error=str(exc))
        report.error = str(exc)
        raise
    steps.finish_run(run_id, status="done", actor=actor)
    return report


def _new_findings(
    outcome: steps.VerifyOutcome, before_top: set[int], known_checks: set[str]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for fc in outcome.fact_checks:
        if fc["url"] not in known_checks:
            found.append({"kind": "new_fact_check", "url": fc["url"], "rating": fc.get("rating")})
    for ev in outcome.evidence:
        if (
            ev["rank"] <= MATERIAL_TOP + len(outcome.fact_checks)
            and before_top
            and ev["passage_id"] not in before_top
        ):
            found.append(
                {"kind": "new_top_evidence", "url": ev["url"], "passage_id": ev["passage_id"]}
            )
    return found


def _conclude(report: DriftReport, actor: str) -> None:
    """Record the drift and re-open a decided claim when it is material."""
    if not report.changes:
        return
    with session_scope(get_engine()) as session:
        _record_drift(session, report, actor)
    deliver(session)  # webhook + Prefect event for a re-opened claim, after the commit


def _record_drift(session: Session, report: DriftReport, actor: str) -> None:
    """The drift event, and a re-open when it is material and the claim was decided."""
    audit.record(
        session,
        audit.DriftDetected(
            claim_id=report.claim_id, changes=report.changes, material=report.material
        ),
        actor=actor,
    )
    if not report.material:
        return
    claim = claims.get_claim(session, report.claim_id)
    task = session.exec(select(ReviewTask).where(ReviewTask.claim_id == report.claim_id)).first()
    if claim.status in REOPEN_STATES or (task is not None and task.state == "done"):
        kinds = sorted({c["kind"] for c in report.changes if c["kind"] in MATERIAL_KINDS})
        reopen(
            session,
            report.claim_id,
            actor=actor,
            reason=f"nightly re-verification found: {', '.join(kinds)}",
        )
        report.reopened = True


def claims_to_reverify(limit: int | None = None) -> list[int]:
    """Claims with recorded evidence that a reviewer has or will see, oldest first."""

    with Session(get_engine()) as session:
        query = (
            select(Claim.id)
            .where(col(Claim.status).in_(["queued", "in_review", "decided", "published"]))
            .order_by(col(Claim.id))
        )
        if limit:
            query = query.limit(limit)
        return [i for i in session.exec(query).all() if i is not None]
