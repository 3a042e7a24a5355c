"""The reviewer's pages in-process: queue, take next, claim page, verdict form, approval,
timeline, dashboard and the archived copy."""

from __future__ import annotations

import re

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from sqlmodel import select

from evidence import audit
from evidence.models import Passage, Run, Verdict
from evidence.scoring.search_window import search_window
from evidence.settings import get_settings
from tests.conftest import DB
from tests.verdicts.web.conftest import data, login, run
from tests.verdicts.web.factories import (
    decide_as,
    make_fact_check,
    make_reviewable_claim,
    make_user,
    make_workspace_claim,
)
from verdicts import queue


def _version(db: DB, claim_id: int) -> int:
    with data(db) as s:
        task = queue.task_for_claim(s, claim_id)
        assert task is not None
        return task.version


def test_queue_page_counts_filters_and_take_next(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        low, _ = make_reviewable_claim(s, priority=0)
        high, _ = make_reviewable_claim(s, priority=5)
        low.claimant, low.tags = "Minister Ana Ruiz", ["economy"]
        s.add(low)

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, reviewer.name, reviewer.password)
        return [
            await client.get("/queue"),
            await client.get("/queue", params={"claimant": "minister ana ruiz"}),
            await client.get("/queue", params={"tag": "economy"}),
            await client.post("/queue/next", data={"csrf_token": token}),
            await client.get("/queue"),
        ]

    full, by_claimant, by_tag, taken, after = run(app, go)
    assert "<b>2</b> open" in full.text and "You hold no claims." in full.text
    assert (
        f'/claims/{low.id}"' in by_claimant.text and f'/claims/{high.id}"' not in by_claimant.text
    )
    assert f'/claims/{low.id}"' in by_tag.text and f'/claims/{high.id}"' not in by_tag.text
    assert taken.status_code == 303 and taken.headers["location"] == f"/claims/{high.id}"
    mine = after.text.split("<h2>My leases</h2>")[1].split("<h2>Queue</h2>")[0]
    assert f'/claims/{high.id}"' in mine and reviewer.name in mine


def test_claim_page_shows_fact_checks_first_and_highlighted_evidence(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, rows = make_reviewable_claim(
            s,
            text="North Korea offered direct talks to the United States",
            evidence=1,
            passage="Pyongyang offered direct talks on Sunday, officials said.",
            title="Talks offer & response",
            site="news.example",
            matched_terms=["offer", "direct talks"],
            warc_dir=db.data_dir / "warc",
        )
        make_fact_check(s, claim, rating="Mostly false")

    async def go(client: httpx.AsyncClient) -> httpx.Response:
        await login(client, reviewer.name, reviewer.password)
        return await client.get(f"/claims/{claim.id}")

    page = run(app, go)
    html = page.text
    assert page.status_code == 200
    tree = BeautifulSoup(html, "lxml")
    decision = tree.select_one("aside#decision")
    assert decision is not None and "Checker Weekly" in decision.get_text()
    assert decision.select_one("form#verdict-form") is not None  # the form sits beside them
    assert "Pyongyang" in tree.select_one(".claim-pane .passage").get_text()  # type: ignore[union-attr]
    assert "<mark>offered</mark> <mark>direct talks</mark>" in html
    assert "Talks offer &amp; response" in html and "news.example" in html and "2018-03-" in html
    with data(db) as s:
        passage = s.get(Passage, rows[0].passage_id)
        assert passage is not None
    assert f'href="/fetches/{passage.fetch_id}/archive#passage-{passage.id}"' in html
    assert 'id="verdict-form"' in html  # nobody holds it: a reviewer may decide


def test_deciding_through_the_form(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, rows = make_reviewable_claim(s, evidence=2)
    version = _version(db, claim.id)

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, reviewer.name, reviewer.password)
        base = {"csrf_token": token, "expected_version": str(version), "rating": "false"}
        no_reason = await client.post(
            f"/claims/{claim.id}/verdict",
            data={**base, "rationale": "  ", "evidence_ids": [str(rows[1].id)]},
        )
        ok = await client.post(
            f"/claims/{claim.id}/verdict",
            data={**base, "rationale": "Both <sources> deny it", "evidence_ids": [str(rows[1].id)]},
        )
        page = await client.get(f"/claims/{claim.id}")
        stale = await client.post(
            f"/claims/{claim.id}/verdict",
            data={**base, "rationale": "again", "evidence_ids": [str(rows[0].id)]},
        )
        return [no_reason, ok, page, stale]

    no_reason, ok, page, stale = run(app, go)
    assert no_reason.status_code == 400 and "needs a rationale" in no_reason.text
    assert re.search(rf'value="{rows[1].id}" form="verdict-form"\s+checked', no_reason.text)
    assert ok.status_code == 303
    assert "Verdict recorded: false (published)" in page.text
    assert "Both &lt;sources&gt; deny it" in page.text
    assert stale.status_code == 409 and "changed since you loaded it" in stale.text
    with data(db) as s:
        verdicts = s.exec(select(Verdict)).all()
    assert [(v.rating, v.evidence_ids, v.reviewer) for v in verdicts] == [
        ("false", [rows[1].id], reviewer.name)
    ]


@pytest.fixture
def two_person(monkeypatch: pytest.MonkeyPatch, db: DB) -> None:
    monkeypatch.setenv("FACTCHECK_REVIEW_POLICY", "two-person")
    get_settings.cache_clear()


def test_an_editor_approves_but_never_their_own(two_person: None, db: DB) -> None:
    from verdicts.web.app import create_app

    app = create_app()
    with data(db) as s:
        reviewer, editor = make_user(s, "reviewer"), make_user(s, "editor")
        claim, rows = make_reviewable_claim(s, evidence=1)
        own_claim, own_rows = make_reviewable_claim(s, evidence=1)
    with data(db) as s:
        pending = decide_as(s, claim, reviewer, rows, rating="mixed", rationale="half right")
        own = decide_as(s, own_claim, editor, own_rows, rating="true")

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, editor.name, editor.password)
        listing = await client.get("/approvals")
        mine = await client.post(f"/verdicts/{own.id}/approve", data={"csrf_token": token})
        approved = await client.post(f"/verdicts/{pending.id}/approve", data={"csrf_token": token})
        return [listing, mine, approved, await client.get(f"/claims/{claim.id}")]

    listing, mine, approved, page = run(app, go)
    assert "half right" in listing.text and "Your own verdict" in listing.text
    assert mine.status_code == 403 and "Nobody approves their own verdict" in mine.text
    assert approved.status_code == 303
    assert f"approved by {editor.name}" in page.text and "published" in page.text


def test_timeline_dashboard_and_archived_copy(app: FastAPI, db: DB) -> None:
    payload = "<script>window.__pwned=1</script>"
    with data(db) as s:
        auditor = make_user(s, "auditor")
        claim, rows = make_reviewable_claim(
            s, evidence=1, passage=f"Quoted {payload} here", warc_dir=db.data_dir / "warc"
        )

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        await login(client, auditor.name, auditor.password)
        page = await client.get(f"/claims/{claim.id}")
        fetch_link = re.search(r'href="(/fetches/\d+/archive)#passage-\d+"', page.text)
        assert fetch_link
        return [
            await client.get(f"/claims/{claim.id}/timeline"),
            await client.get("/dashboard"),
            await client.get(fetch_link.group(1)),
            await client.get("/fetches/999999/archive"),
        ]

    timeline, dashboard, archive, missing = run(app, go)
    assert "claim.added" in timeline.text and "task.queued" in timeline.text
    assert '<b id="queue-size">1</b>' in dashboard.text
    assert archive.status_code == 200
    assert "Quoted &lt;script&gt;window.__pwned=1&lt;/script&gt; here" in archive.text
    assert "<script>window" not in archive.text
    assert missing.status_code == 404


def test_claim_page_shows_the_search_window_and_escapes_its_timeline(app: FastAPI, db: DB) -> None:
    from evidence.models import Run

    payload = "<script>window.__pwned=1</script>"
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, _ = make_reviewable_claim(s)
        s.add(
            Run(
                claim_id=claim.id,
                status="done",
                queries=["kim offer talks"],
                search_window={
                    "note": "Searched 3 sources for 1 query; dated evidence from 1994-10-21 "
                    "to 2018-03-08.",
                    "timeline": [
                        {
                            "date": "1994-10-21",
                            "dated_by": "text-date",
                            "precision": "day",
                            "site": "wiki.example",
                            "excerpt": f"Agreed Framework {payload}",
                            "url": "https://wiki.example/Agreed_Framework",
                        }
                    ],
                },
            )
        )

    async def go(client: httpx.AsyncClient) -> httpx.Response:
        await login(client, reviewer.name, reviewer.password)
        return await client.get(f"/claims/{claim.id}")

    page = run(app, go)
    window = BeautifulSoup(page.text, "lxml").select_one("details#search-window")
    assert window is not None and window.get("open") is None  # folded by default
    assert window.summary is not None
    assert window.summary.get_text() == "Searched 0 sources, 0 queries, 1994-10-21"
    assert "Searched 3 sources for 1 query" in page.text
    assert "<b>1994-10-21</b>" in page.text and "Agreed Framework" in page.text
    assert payload not in page.text and "&lt;script&gt;" in page.text


def test_claim_page_of_an_ordinary_verified_claim(app: FastAPI, db: DB) -> None:
    """A claim that is not a first/only/never claim has a search window without a timeline."""
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, _ = make_reviewable_claim(s, text="The minister raised the fuel tax by 3 percent")
        window = search_window(
            claim.text, [], sources=["rss=https://news.example/feed"], queries=["fuel tax"]
        )
        assert "timeline" not in window  # the shape the rank step records for such a claim
        s.add(Run(claim_id=claim.id, status="done", queries=["fuel tax"], search_window=window))

    async def go(client: httpx.AsyncClient) -> httpx.Response:
        await login(client, reviewer.name, reviewer.password)
        return await client.get(f"/claims/{claim.id}")

    page = run(app, go)
    assert page.status_code == 200, page.text
    assert window["note"] in page.text and "timeline-of-evidence" not in page.text


def test_error_pages_speak_plain_words(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        auditor = make_user(s, "auditor")

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, auditor.name, auditor.password)
        return [
            await client.get("/claims/424242"),
            await client.post("/queue/next", data={"csrf_token": token}),
            await client.get("/no/such/page"),
        ]

    missing, refused, unknown = run(app, go)
    assert (missing.status_code, refused.status_code, unknown.status_code) == (404, 403, 404)
    assert '<h1 class="error-title">404 · Not found</h1>' in missing.text
    assert '<h1 class="error-title">403 · Not allowed</h1>' in refused.text
    assert '<h1 class="error-title">404 · Not found</h1>' in unknown.text
    for page in (missing, refused, unknown):
        assert not re.search(r"NotFound|Forbidden|HTTPError|FactcheckError|Error\b", page.text)


# -- the claim workspace (issue 13) and the stance display (issue 11) -----------------------


def _text(node: object) -> str:
    assert node is not None, "missing element"
    return " ".join(node.get_text(" ").split())  # type: ignore[attr-defined]


def test_the_workspace_groups_evidence_by_stance_and_shows_the_suggestion(
    app: FastAPI, db: DB
) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, rows = make_workspace_claim(s, fact_checks=3)

    async def go(client: httpx.AsyncClient) -> httpx.Response:
        await login(client, reviewer.name, reviewer.password)
        return await client.get(f"/claims/{claim.id}")

    page = run(app, go)
    tree = BeautifulSoup(page.text, "lxml")
    pane = tree.select_one(".claim-pane")
    assert pane is not None
    headings = [_text(h) for h in pane.select(".evidence-group h3")]
    assert headings == ["Refutes the claim (2)", "Supports the claim (1)", "Context (1)"]
    cards = {key: tree.select_one(f"#evidence-{row.id}") for key, row in rows.items()}
    correction = cards["correction"]
    assert correction is not None
    assert _text(correction.select_one(".badge.stance")) == "✗ Refutes"  # words, not colour only
    assert "high confidence" in _text(correction.select_one(".badges"))
    assert "names South Korea for North Korea" in _text(correction.select_one(".reasons"))
    assert _text(correction.select_one(".outlet")) == "Daily Ledger"
    assert _text(correction.select_one(".date")) == "2018-03-11"
    why = _text(correction.select_one(".why"))
    assert why.startswith("Why this passage: Uses the claim's “North Korea”, “direct offer”")
    assert "published 2 days after the claim" in why
    assert "rank" not in _text(correction) and "score" not in _text(correction)
    marks = [_text(m) for m in correction.select(".passage mark")]
    # distinctive terms only: "South Korea", "2000", a lone "North" or "US" stay unmarked
    assert marks == ["North Korea", "talks"]
    cite = correction.select_one(".card-head label.cite")
    assert cite is not None and cite.select_one("input[type=checkbox]") is not None
    assert _text(cite).startswith("Cite")
    assert "Origin: where the claim was first made" in _text(cards["origin"])
    # the decision pane: fact-checks (two shown, the rest folded), suggestion, form
    aside = tree.select_one("aside#decision")
    assert aside is not None
    assert [s.get("aria-labelledby") for s in aside.find_all("section", recursive=False)] == [
        "factchecks-heading",
        "suggestion-heading",
        "verdict-heading",
    ]
    assert len(aside.select("ul.factchecks > li")) == 3 and aside.select_one("details.more")
    suggestion = _text(aside.select_one(".suggestion"))
    assert "suggested, not published" in suggestion and "78 % confidence (high)" in suggestion
    assert "South Korea relayed the offer" in suggestion
    links = [a["href"] for a in aside.select(".suggestion a")]
    assert links == [f"#evidence-{rows['correction'].id}", f"#evidence-{rows['earlier'].id}"]
    suggested = [
        _text(label) for label in aside.select(".ratings label") if "(suggested)" in _text(label)
    ]
    assert suggested == ["5 False (suggested)"]
    assert not aside.select("input[name=rating][checked]")  # suggested, never pre-chosen
    # the search window, folded to one line; years as years, outlets by name
    window = tree.select_one("details#search-window")
    assert window is not None and window.get("open") is None
    assert _text(window.summary) == (
        "Searched 4 sources, 11 queries, 2000 to 2018-03-11; 3 dated passages before the claim"
    )
    first = _text(window.select_one(".timeline-of-evidence li"))
    assert first.startswith("2000 (year only) Wire Archive: In October 2000")
    assert "…" in first and "127.0.0.9" not in first


def test_a_refused_verdict_comes_back_at_the_form_with_what_was_typed(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, rows = make_workspace_claim(s)
    version = _version(db, claim.id)

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, reviewer.name, reviewer.password)
        form = {"csrf_token": token, "rating": "false", "rationale": "The White House clarified."}
        refused = await client.post(
            f"/claims/{claim.id}/verdict", data={**form, "expected_version": str(version)}
        )
        stale = await client.post(
            f"/claims/{claim.id}/verdict",
            data={
                **form,
                "expected_version": str(version - 1),
                "evidence_ids": [str(rows["correction"].id)],
            },
        )
        return [refused, stale]

    refused, stale = run(app, go)
    assert refused.status_code == 400
    tree = BeautifulSoup(refused.text, "lxml")
    aside = tree.select_one("aside#decision")
    assert aside is not None
    error = aside.select_one("#form-error")
    assert error is not None and "must cite at least one evidence item" in _text(error)
    form = aside.select_one("form#verdict-form")
    assert form is not None and form["action"] == f"/claims/{claim.id}/verdict#decision"
    assert error.find_next("form") is form  # the error sits right above the form
    assert _text(form.select_one("textarea#rationale")) == "The White House clarified."
    assert form.select_one("input[name=rating][value=false][checked]") is not None
    assert stale.status_code == 409 and "changed since you loaded it" in stale.text
    stale_tree = BeautifulSoup(stale.text, "lxml")
    assert _text(stale_tree.select_one("textarea#rationale")) == "The White House clarified."
    box = stale_tree.select_one(f"input[name=evidence_ids][value='{rows['correction'].id}']")
    assert box is not None and box.has_attr("checked")
    with data(db) as s:
        assert s.exec(select(Verdict)).all() == []


def test_a_verdict_records_whether_it_agreed_with_the_suggestion_and_the_dashboard_counts_it(
    app: FastAPI, db: DB
) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        agreeing, agreeing_rows = make_workspace_claim(s)
        differing, differing_rows = make_workspace_claim(s)
        plain, plain_rows = make_reviewable_claim(s, evidence=1)
    with data(db) as s:
        decide_as(s, agreeing, reviewer, [agreeing_rows["correction"]], rating="false")
        decide_as(s, differing, reviewer, [differing_rows["origin"]], rating="true")
        decide_as(s, plain, reviewer, plain_rows, rating="false")  # no suggestion: not counted

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        await login(client, reviewer.name, reviewer.password)
        return [await client.get("/dashboard"), await client.get(f"/claims/{differing.id}")]

    dashboard, claim_page = run(app, go)
    rate = BeautifulSoup(dashboard.text, "lxml").select_one("#suggestion-agreement")
    assert _text(rate) == (
        "50 % of verdicts matched the suggestion "
        "(1 of 2 verdicts decided on a claim with a suggested verdict)"
    )
    assert "suggested: false" in claim_page.text


def test_the_dashboard_says_when_nothing_was_compared_with_a_suggestion(
    app: FastAPI, db: DB
) -> None:
    with data(db) as s:
        auditor = make_user(s, "auditor")

    async def go(client: httpx.AsyncClient) -> httpx.Response:
        await login(client, auditor.name, auditor.password)
        return await client.get("/dashboard")

    page = BeautifulSoup(run(app, go).text, "lxml")
    assert "No verdict was decided on a claim with a suggested verdict yet." in _text(
        page.select_one("#suggestion-agreement")
    )


def test_approvals_show_cited_evidence_and_an_editor_sends_a_verdict_back(
    two_person: None, db: DB
) -> None:
    from verdicts.web.app import create_app

    app = create_app()
    with data(db) as s:
        reviewer, editor = make_user(s, "reviewer"), make_user(s, "editor")
        auditor = make_user(s, "auditor")
        claim, rows = make_workspace_claim(s)
    with data(db) as s:
        pending = decide_as(
            s, claim, reviewer, [rows["correction"], rows["earlier"]], rating="false"
        )

    async def as_editor(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, editor.name, editor.password)
        url = f"/verdicts/{pending.id}/reject"
        return [
            await client.get("/approvals"),
            await client.post(url, data={"csrf_token": token, "reason": "   "}),
            await client.post(url, data={"reason": "no token"}),
            await client.post(url, data={"csrf_token": token, "reason": "Cite the 2000 visit."}),
            await client.post(url, data={"csrf_token": token, "reason": "again"}),
        ]

    async def as_auditor(client: httpx.AsyncClient) -> httpx.Response:
        token = await login(client, auditor.name, auditor.password)
        return await client.post(
            f"/verdicts/{pending.id}/reject", data={"csrf_token": token, "reason": "x"}
        )

    assert run(app, as_auditor).status_code == 403
    listing, empty, no_csrf, sent_back, twice = run(app, as_editor)
    row = BeautifulSoup(listing.text, "lxml").select_one(f"#verdict-{pending.id}")
    assert row is not None
    cited = [_text(li) for li in row.select("ul.cited li")]
    assert cited[0].startswith(
        "Daily Ledger · White House clarifies who relayed the talks offer “The White House"
    )
    assert cited[1].startswith("Wire Archive · Albright visits Pyongyang")
    assert row.select_one(f"form.reject label[for=reason-{pending.id}]") is not None
    assert empty.status_code == 400
    failed = BeautifulSoup(empty.text, "lxml").select_one(f"#verdict-{pending.id} form.reject")
    assert failed is not None and "Give a reason." in _text(failed.select_one(".error"))
    assert no_csrf.status_code == 403
    assert sent_back.status_code == 303
    assert twice.status_code == 409 and "only a verdict awaiting approval" in twice.text
    with data(db) as s:
        stored = s.get(Verdict, pending.id)
        task = queue.task_for_claim(s, claim.id)
        events = audit.claim_timeline(s, claim.id)
    assert stored is not None and stored.state == "rejected"
    assert task is not None and task.state == "queued"
    reasons = [
        e.event.payload.get("reason") for e in events if e.event.action == "verdict.rejected"
    ]
    assert reasons == ["Cite the 2000 visit."]
