"""The claims list: every claim in every state, search and filters kept in the URL,
pagination, the editors' bulk actions (CSRF, roles), escaping, and its JSON counterpart."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from markupsafe import escape
from sqlmodel import select

from evidence.models import Claim, ReviewTask
from tests.conftest import DB
from tests.factories import make_claim, make_evidence
from tests.verdicts.web.conftest import Live, data, login, run
from tests.verdicts.web.factories import make_reviewable_claim, make_user
from tests.verdicts.web.test_browser import sign_in
from verdicts import search

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


def _listed(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'<td>(\d+)</td>\s*<td><a href="/claims/\1">', page)}


def test_the_list_shows_every_state_and_searches_claims_and_evidence(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        editor = make_user(s, "editor")
        new = make_claim(s, text="Ferry fares rose by half in one year")
        queued, _ = make_reviewable_claim(s, text="The harbour tunnel cost twice its budget")
        make_evidence(s, queued, passage="Auditors found the overrun reached 300 million")
        original = make_claim(s, text="The mayor doubled the parks budget in 2020")
        dup = make_claim(s, text="Mayor doubled parks budget in 2020, a blog says")
        dup.status, dup.duplicate_of_id = "duplicate", original.id
        hostile = make_claim(s, text=f"Claim with {HOSTILE} inside", claimant=HOSTILE)
        s.add(dup)

    async def go(client: httpx.AsyncClient) -> tuple[str, str, str, httpx.Response]:
        await login(client, editor.name, editor.password)
        everything = (await client.get("/claims")).text
        found = (await client.get("/claims", params={"q": "overrun million"})).text
        dups = (await client.get("/claims", params={"status": "duplicate"})).text
        queue = await client.get("/queue")
        return everything, found, dups, queue

    everything, found, dups, queue = run(app, go)
    assert _listed(everything) == {new.id, queued.id, original.id, dup.id, hostile.id}
    assert _listed(found) == {queued.id}  # only its evidence passage has these words
    assert 'value="overrun million"' in found  # the query stays in the form
    assert _listed(dups) == {dup.id}
    assert f'<a href="/claims/{original.id}"' in dups  # a duplicate links its original
    assert HOSTILE not in everything and str(escape(HOSTILE)) in everything
    assert '<a href="/claims">Claims</a>' in queue.text  # the nav link
    assert 'name="claim_ids"' in everything  # an editor can select


def test_pages_keep_the_filters(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        auditor = make_user(s, "auditor")
        made = [make_claim(s, text=f"Budget claim number {i} about roads") for i in range(55)]
        make_claim(s, text="Something unrelated about ferries")

    async def go(client: httpx.AsyncClient) -> tuple[str, str]:
        await login(client, auditor.name, auditor.password)
        first = (await client.get("/claims", params={"q": "roads"})).text
        second = (await client.get("/claims", params={"q": "roads", "page": 2})).text
        return first, second

    first, second = run(app, go)
    assert len(_listed(first)) == search.PAGE_SIZE and len(_listed(second)) == 5
    assert _listed(first) | _listed(second) == {c.id for c in made}
    assert 'href="/claims?q=roads&amp;page=2"' in first
    assert 'href="/claims?q=roads&amp;page=1"' in second
    assert "55 claim(s)" in first
    assert 'name="claim_ids"' not in first  # an auditor reads, cannot select


def test_editors_act_in_bulk_and_the_list_comes_back_filtered(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        editor = make_user(s, "editor")
        fresh = make_claim(s, text="Fresh claim about ferry fares")
        queued, _ = make_reviewable_claim(s, text="Queued claim about bus fares")
    ids = [fresh.id, queued.id]

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, editor.name, editor.password)
        back = "/claims?q=fares"
        answers = []
        for extra in (
            {"action": "priority", "priority": "9"},
            {"action": "tag", "tag": "transport"},
        ):
            form = {"csrf_token": token, "claim_ids": ids, "back": back, **extra}
            answers.append(await client.post("/claims/bulk", data=form))
        form = {"csrf_token": token, "claim_ids": ids, "action": "verify", "back": back}
        answers.append(await client.post("/claims/bulk", data=form))
        answers.append(await client.get(answers[-1].headers["location"]))
        no_csrf = {"claim_ids": ids, "action": "tag", "tag": "sneaky"}
        answers.append(await client.post("/claims/bulk", data=no_csrf))
        evil = {
            "csrf_token": token,
            "claim_ids": ids,
            "action": "tag",
            "tag": "t",
            "back": "//evil.example/",
        }
        answers.append(await client.post("/claims/bulk", data=evil))
        return answers

    priority, tag, verify, listing, no_csrf, evil = run(app, go)
    assert priority.status_code == tag.status_code == verify.status_code == 303
    assert verify.headers["location"] == "/claims?q=fares"
    assert "1 claim(s) marked for verification" in listing.text
    assert "factcheck verify-batch --tag verify-requested" in listing.text
    assert "verification requested" in listing.text
    assert no_csrf.status_code == 403
    assert evil.headers["location"] == "/claims"
    with data(db) as s:
        tags = {c.id: c.tags for c in s.exec(select(Claim)).all()}
        task = s.exec(select(ReviewTask).where(ReviewTask.claim_id == queued.id)).one()
    assert tags[fresh.id] == ["transport", search.VERIFY_REQUESTED, "t"]
    assert tags[queued.id] == ["transport", "t"]
    assert task.priority == 9


def test_reviewers_and_auditors_cannot_act_in_bulk(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        people = [make_user(s, "auditor"), make_user(s, "reviewer")]
        claim = make_claim(s, text="Fresh claim about ferry fares")

    async def go(client: httpx.AsyncClient, person) -> int:  # type: ignore[no-untyped-def]
        token = await login(client, person.name, person.password)
        form = {"csrf_token": token, "claim_ids": [claim.id], "action": "tag", "tag": "x"}
        return (await client.post("/claims/bulk", data=form)).status_code

    for person in people:
        assert run(app, lambda c, p=person: go(c, p)) == 403
    with data(db) as s:
        assert s.get(Claim, claim.id).tags == []  # type: ignore[union-attr]


def test_the_json_list_answers_a_token(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        auditor = make_user(s, "auditor")
        tunnel = make_claim(s, text="The harbour tunnel cost twice its budget")
        make_claim(s, text="Ferry fares rose by half in one year")

    async def go(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        auth = {"Authorization": f"Bearer {auditor.token}"}
        found = await client.get("/api/claims", params={"q": "tunnel"}, headers=auth)
        anonymous = await client.get("/api/claims", params={"q": "tunnel"})
        return found, anonymous

    found, anonymous = run(app, go)
    assert found.status_code == 200
    body = found.json()
    assert body["total"] == 1 and [c["id"] for c in body["claims"]] == [tunnel.id]
    assert body["claims"][0]["status"] == "new"
    assert anonymous.status_code == 401


@pytest.mark.browser
def test_an_editor_searches_and_asks_for_verification_in_chromium(live: Live, page: Any) -> None:
    with data(live.db) as s:
        editor = make_user(s, "editor")
        fresh = make_claim(s, text=f"Ferry fares rose by half {HOSTILE}")
        make_claim(s, text="The harbour tunnel cost twice its budget")
    sign_in(page, live.url, editor)
    page.click("nav >> text=Claims")
    page.fill("input[name=q]", "ferry fares")
    page.click("button:has-text('Search')")
    page.wait_for_url(re.compile(r"/claims\?q=ferry\+fares"))
    assert page.locator("tbody tr").count() == 1
    page.check(f"#select-{fresh.id}")
    page.click("button:has-text('Verify the selected new claims')")
    page.wait_for_url(re.compile(r"/claims\?q=ferry\+fares$"))
    assert "1 claim(s) marked for verification" in page.locator(".flash").inner_text()
    assert "verification requested" in page.locator("tbody").inner_text()
    assert page.evaluate("window.__pwned") is None  # the hostile text was shown, not run
    with data(live.db) as s:
        assert s.get(Claim, fresh.id).tags == [search.VERIFY_REQUESTED]  # type: ignore[union-attr]
