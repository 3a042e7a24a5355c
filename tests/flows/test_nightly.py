"""nightly-reverify: conditional GET, drift, gone pages, re-open only on material change."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, col, select

from evidence import audit, claims
from evidence.models import Claim, Evidence, Fetch, Passage, ReviewTask

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def _verify(db, claim: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    from flows.steps import VerifyConfig
    from flows.verify import verify_claim

    with Session(db.engine, expire_on_commit=False) as s:
        row = claims.add_claim(
            s, claims.make_create(text=claim["text"], url=claim.get("url")), actor="test"
        ).claim
        s.commit()
    assert row.id is not None
    asyncio.run(verify_claim(row.id, VerifyConfig()))
    return row.id


def _publish(db, claim_id: int) -> None:  # type: ignore[no-untyped-def]
    from verdicts import decisions, queue, users

    with Session(db.engine, expire_on_commit=False) as s:
        users.add_user(s, "rita", role="reviewer", password=None, actor="test")
        task = queue.next_task(s, "rita")
        assert task is not None and task.claim_id == claim_id
        ids = [e["evidence_id"] for e in claims.claim_evidence(s, claim_id)][:2]
        decisions.decide(
            s,
            claim_id,
            reviewer="rita",
            rating="false",
            rationale="See sources.",
            evidence_ids=ids,
            expected_version=None,
            actor="user:rita",
        )
        s.commit()


def test_nightly_detects_drift_keeps_archives_and_reopens(db, prefect_api, corpus_env) -> None:  # type: ignore[no-untyped-def]
    from flows.nightly import nightly_reverify

    drifting = _verify(db, corpus_env.claims()[0])
    steady = _verify(db, corpus_env.claims()[1])
    _publish(db, drifting)
    with Session(db.engine) as s:
        assert s.get(Claim, drifting).status == "published"
        steady_urls = {e["url"] for e in claims.claim_evidence(s, steady)}
        cited = [e for e in claims.claim_evidence(s, drifting) if e["url"] not in steady_urls]
    # a cited passage disappears from its page; another cited page is deleted (pages the
    # steady claim does not cite, so its night must stay quiet)
    changed = next(e for e in cited if "fact-checks" not in e["url"])
    gone = next(e for e in cited if e["url"] != changed["url"])
    site_of = {
        corpus_env.base_url(k).split("//")[1]: k for k in [s.key for s in corpus_env.corpus.sites]
    }
    changed_site = site_of[changed["url"].split("/")[2]]
    gone_site = site_of[gone["url"].split("/")[2]]
    changed_path = "/" + changed["url"].split("/", 3)[3]
    gone_path = "/" + gone["url"].split("/", 3)[3]
    try:
        page = corpus_env._lookup(corpus_env.site(changed_site), changed_path)
        corpus_env.set_page(
            changed_site, changed_path, page.html.replace(changed["passage"][:60], "Redacted.")
        )
        corpus_env.remove_page(gone_site, gone_path, status=410)
        summary = asyncio.run(nightly_reverify())
    finally:
        corpus_env.reset()
    assert drifting in summary["reopened"]
    assert steady not in summary["reopened"]
    rows = {row["claim"]: row for row in summary["rows"]}
    assert "page_gone" in rows[drifting]["changes"]
    assert rows[steady]["unchanged (304)"] >= 1 and not rows[steady]["material"]
    with Session(db.engine) as s:
        assert s.get(Claim, drifting).status == "queued"
        task = s.exec(select(ReviewTask).where(ReviewTask.claim_id == drifting)).one()
        assert task.state == "queued" and task.reopen_count == 1
        # the gone page's passage is still evidence, pointing at its archived fetch
        ev = s.exec(select(Evidence).where(Evidence.passage_id == gone["passage_id"])).one()
        assert ev.active
        archived = s.get(Fetch, s.get(Passage, gone["passage_id"]).fetch_id)
        assert archived.warc_file and archived.status_code == 200
        drift = [
            e for e in audit.events_for(s, f"claim:{drifting}") if e.action == "drift.detected"
        ]
        assert drift and drift[0].payload["material"] is True
        not_modified = s.exec(select(Fetch).where(col(Fetch.not_modified).is_(True))).all()
    assert not_modified, "conditional GET was not used"
    assert audit.verify_chain(audit.iter_events(db.engine)).ok


def test_a_night_without_sources_is_refused_and_keeps_the_search_note(
    db,  # type: ignore[no-untyped-def]
    prefect_api,
    corpus_env,
    monkeypatch,
) -> None:
    from evidence.errors import BadInput
    from evidence.models import Run
    from evidence.settings import get_settings
    from flows.nightly import nightly_reverify

    claim_id = _verify(db, corpus_env.claims()[3])
    with Session(db.engine) as s:
        before = claims.latest_search_window(s, claim_id)
        runs = len(s.exec(select(Run)).all())
    assert before and before["sources"]
    monkeypatch.delenv("FACTCHECK_SOURCES")
    get_settings.cache_clear()
    with pytest.raises(BadInput, match="FACTCHECK_SOURCES"):
        asyncio.run(nightly_reverify())
    with Session(db.engine) as s:
        assert claims.latest_search_window(s, claim_id) == before
        assert len(s.exec(select(Run)).all()) == runs


def test_the_night_runs_in_chunks_and_reports_a_failing_claim(
    db,
    prefect_api,
    corpus_env,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 15 item 3: FACTCHECK_BATCH_CHUNK claims per task; a claim failing once is
    finished by the chunk's retry, one failing every time is reported with its own error,
    and the retry does not re-check the claims already done."""
    from evidence.settings import get_settings
    from flows import reverify
    from flows.nightly import nightly_reverify

    ids = [_verify(db, c) for c in corpus_env.claims()[:3]]
    monkeypatch.setenv("FACTCHECK_BATCH_CHUNK", "3")
    get_settings.cache_clear()
    flaky, broken = ids[0], ids[2]
    attempts: dict[int, int] = {}
    real = reverify.reverify_claim

    async def reverify_claim(claim_id: int, *args, **kwargs):  # type: ignore[no-untyped-def]
        attempts[claim_id] = attempts.get(claim_id, 0) + 1
        if claim_id == broken or (claim_id == flaky and attempts[claim_id] == 1):
            raise RuntimeError(f"drift check crashed on claim {claim_id}")
        return await real(claim_id, *args, **kwargs)

    monkeypatch.setattr(reverify, "reverify_claim", reverify_claim)
    summary = asyncio.run(nightly_reverify())
    assert summary["claims"] == 3
    assert summary["failed"] == [
        {"claim_id": broken, "error": f"RuntimeError: drift check crashed on claim {broken}"}
    ]
    assert attempts == {flaky: 2, ids[1]: 1, broken: 2}
    assert [row["claim"] for row in summary["rows"]] == sorted(ids)
