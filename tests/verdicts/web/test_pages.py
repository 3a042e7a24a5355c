"""The reviewer's pages in-process: queue, take next, claim page, verdict form, approval,
timeline, dashboard and the archived copy."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from evidence.models import Passage, Verdict
from evidence.settings import get_settings
from tests.conftest import DB
from tests.verdicts.web.conftest import data, login, run
from tests.verdicts.web.factories import (
    decide_as,
    make_fact_check,
    make_reviewable_claim,
    make_user,
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
    assert html.index("Checker Weekly") < html.index("Pyongyang")
    assert "<mark>offered</mark> <mark>direct talks</mark>" in html
    assert "Talks offer &amp; response" in html and "news.example" in html and "2018-03-" in html
    with data(db) as s:
        passage = s.get(Passage, rows[0].passage_id)
        assert passage is not None
    assert f'href="/fetches/{passage.fetch_id}/archive"' in html
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
    assert "half right" in listing.text and "your own verdict" in listing.text
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
        fetch_link = re.search(r'href="(/fetches/\d+/archive)"', page.text)
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
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in archive.text
    assert "<script>window" not in archive.text
    assert "WARC-Target-URI" in archive.text
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
    assert "Searched 3 sources for 1 query" in page.text
    assert "<b>1994-10-21</b>" in page.text and "Agreed Framework" in page.text
    assert payload not in page.text and "&lt;script&gt;" in page.text
