"""Real-browser journeys in headless Chromium against uvicorn on 127.0.0.1."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select

from evidence.models import ReviewTask, Verdict
from evidence.settings import get_settings
from tests.verdicts.web.conftest import Live, data, serve
from tests.verdicts.web.factories import (
    Person,
    decide_as,
    make_fact_check,
    make_reviewable_claim,
    make_user,
)

pytestmark = pytest.mark.browser
PAYLOAD = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=1>"


def sign_in(page: Any, base: str, person: Person) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=name]", person.name)
    page.fill("input[name=password]", person.password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/queue$"))


def test_a_reviewer_takes_the_next_claim_cites_evidence_and_decides(live: Live, page: Any) -> None:
    with data(live.db) as s:
        reviewer = make_user(s, "reviewer")
        make_reviewable_claim(s, evidence=1, priority=0)
        claim, rows = make_reviewable_claim(s, evidence=2, priority=9)
    sign_in(page, live.url, reviewer)
    page.keyboard.press("n")  # shortcut for "Take next claim"
    page.wait_for_url(f"{live.url}/claims/{claim.id}")
    assert page.locator("#task-state").inner_text() == "leased"
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")  # cite the second passage
    page.keyboard.press("5")  # the fifth rating: false
    page.keyboard.press("r")
    page.keyboard.type("Both sources contradict the figure.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live.url}/claims/{claim.id}#claim-heading")
    assert "Verdict recorded: false (published)." in page.locator(".flash").inner_text()
    with data(live.db) as s:
        verdict = s.exec(select(Verdict)).one()
    assert (verdict.rating, verdict.evidence_ids, verdict.reviewer) == (
        "false",
        [rows[1].id],
        reviewer.name,
    )


def test_an_editor_approves(db: Any, page: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_REVIEW_POLICY", "two-person")
    get_settings.cache_clear()
    from verdicts.web.app import create_app

    with data(db) as s:
        reviewer, editor = make_user(s, "reviewer"), make_user(s, "editor")
        claim, rows = make_reviewable_claim(s, evidence=1)
        verdict = decide_as(s, claim, reviewer, rows, rating="mostly-false")
    assert verdict.state == "pending_approval"
    with serve(create_app()) as base:
        sign_in(page, base, editor)
        page.click("nav >> text=Approvals")
        row = page.locator(f"#verdict-{verdict.id}")
        assert "mostly-false" in row.inner_text()
        row.locator("button:has-text('Approve and publish')").click()
        page.wait_for_url(f"{base}/approvals")
        assert "approved and published" in page.locator(".flash").inner_text()
    with data(db) as s:
        stored = s.get(Verdict, verdict.id)
        assert stored is not None and (stored.state, stored.approver) == ("published", editor.name)


def test_an_auditor_reads_and_every_write_is_refused(live: Live, page: Any) -> None:
    with data(live.db) as s:
        auditor, reviewer = make_user(s, "auditor"), make_user(s, "reviewer")
        claim, rows = make_reviewable_claim(s, evidence=1)
        other, other_rows = make_reviewable_claim(s, evidence=1)
        verdict = decide_as(s, other, reviewer, other_rows)
    sign_in(page, live.url, auditor)
    assert page.locator("#take-next").count() == 0
    page.goto(f"{live.url}/claims/{claim.id}")
    assert page.locator("#verdict-form").count() == 0
    page.click("text=audit timeline")
    assert "task.queued" in page.locator("table.timeline").inner_text()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    writes = {
        "/queue/next": {},
        f"/claims/{claim.id}/verdict": {
            "expected_version": "1",
            "rating": "false",
            "rationale": "no",
            "evidence_ids": str(rows[0].id),
        },
        f"/claims/{claim.id}/release": {},
        f"/verdicts/{verdict.id}/approve": {},
    }
    statuses = {
        path: page.request.post(live.url + path, form={"csrf_token": token, **form}).status
        for path, form in writes.items()
    }
    assert statuses == dict.fromkeys(writes, 403)
    with data(live.db) as s:
        tasks = s.exec(select(ReviewTask)).all()
    assert {t.state for t in tasks} == {"queued", "done"} and all(not t.lease_holder for t in tasks)


def test_an_unauthenticated_request_goes_to_the_login_page(live: Live, page: Any) -> None:
    page.goto(f"{live.url}/dashboard")
    assert page.url == f"{live.url}/login?next=%2Fdashboard"
    assert page.locator("h1").inner_text() == "Sign in"


def test_a_form_without_its_csrf_token_is_refused(live: Live, page: Any) -> None:
    with data(live.db) as s:
        reviewer = make_user(s, "reviewer")
        make_reviewable_claim(s, evidence=1)
    sign_in(page, live.url, reviewer)
    page.locator("form.take-next input[name=csrf_token]").evaluate("el => el.remove()")
    page.click("#take-next")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "403 · Not allowed"
    with data(live.db) as s:
        assert s.exec(select(ReviewTask)).one().lease_holder is None


def test_script_payloads_show_as_text_and_run_nothing(live: Live, page: Any) -> None:
    with data(live.db) as s:
        reviewer = make_user(s, "reviewer")
        claim, rows = make_reviewable_claim(
            s,
            text=f"Claim {PAYLOAD}",
            evidence=1,
            passage=f"Passage {PAYLOAD} end",
            title=f"Title {PAYLOAD}",
            matched_terms=["script", "passage"],
            warc_dir=live.db.data_dir / "warc",
        )
        make_fact_check(s, claim, rating=PAYLOAD)
    sign_in(page, live.url, reviewer)
    page.goto(f"{live.url}/claims/{claim.id}")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#claim-text").inner_text() == f"Claim {PAYLOAD}"
    assert page.locator(".passage").inner_text() == f"Passage {PAYLOAD} end"
    assert page.locator(".source-title").inner_text() == f"Title {PAYLOAD}"
    assert page.get_by_text(f"Passage {PAYLOAD} end").is_visible()
    assert page.locator("img").count() == 0
    page.click("text=archived copy")
    assert f"Passage {PAYLOAD} end" in page.locator("#archived-text").inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.click("text=Raw archived record")
    assert f"Passage {PAYLOAD} end" in page.locator("#archived-body").input_value()
    assert page.evaluate("typeof window.__pwned") == "undefined"
