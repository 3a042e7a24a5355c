"""Roles: an auditor reads everything and every write is refused with 403."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.conftest import DB
from tests.verdicts.web.conftest import data, login, run
from tests.verdicts.web.factories import decide_as, make_reviewable_claim, make_user
from verdicts.web import api, pages
from verdicts.web.auth import WRITE_EXEMPT


def _write_paths(ids: dict[str, int]) -> list[str]:
    """Every route that changes something, with its path parameters filled in."""
    paths = []
    for route in [*pages.router.routes, *api.router.routes]:
        if isinstance(route, APIRoute) and route.methods - {"GET", "HEAD", "OPTIONS"}:
            if route.path not in WRITE_EXEMPT:
                paths.append(re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), route.path))
    return paths


def test_an_auditor_reads_and_every_write_is_refused(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        auditor, reviewer = make_user(s, "auditor"), make_user(s, "reviewer")
        claim, rows = make_reviewable_claim(s, evidence=1)
        decided, decided_rows = make_reviewable_claim(s, evidence=1)
        verdict = decide_as(s, decided, reviewer, decided_rows)
    ids = {"claim_id": claim.id, "verdict_id": verdict.id}
    writes = _write_paths(ids)
    assert len(writes) >= 8  # pages and API: next, decide, release, approve, intake...
    reads = [f"/claims/{claim.id}", f"/claims/{claim.id}/timeline", "/queue", "/dashboard"]
    reads += ["/approvals", f"/claims/{decided.id}/claimreview.json"]
    api = {"Authorization": f"Bearer {auditor.token}"}

    async def go(client: httpx.AsyncClient) -> tuple[dict[str, int], dict[str, int]]:
        token = await login(client, auditor.name, auditor.password)
        seen = {p: (await client.get(p)).status_code for p in reads}
        seen["/api/queue"] = (await client.get("/api/queue", headers=api)).status_code
        refused = {}
        for path in writes:
            if path.startswith("/api/"):
                answer = await client.post(path, json={}, headers=api)
            else:
                answer = await client.post(path, data={"csrf_token": token})
            refused[path] = answer.status_code
        return seen, refused

    seen, refused = run(app, go)
    assert set(seen.values()) == {200}, seen
    assert set(refused.values()) == {403}, refused
    with data(db) as s:
        from verdicts import queue

        task = queue.task_for_claim(s, claim.id)  # type: ignore[arg-type]
        assert task is not None and task.state == "queued" and task.lease_holder is None


def test_reviewers_cannot_approve_and_the_claim_page_hides_the_form_from_auditors(
    app: FastAPI, db: DB
) -> None:
    with data(db) as s:
        auditor, reviewer = make_user(s, "auditor"), make_user(s, "reviewer")
        claim, _ = make_reviewable_claim(s, evidence=1)

    async def go(client: httpx.AsyncClient, who: str, password: str) -> str:
        await login(client, who, password)
        return (await client.get(f"/claims/{claim.id}")).text

    assert 'id="verdict-form"' not in run(app, lambda c: go(c, auditor.name, auditor.password))
    assert 'id="verdict-form"' in run(app, lambda c: go(c, reviewer.name, reviewer.password))

    async def approve(client: httpx.AsyncClient) -> httpx.Response:
        headers = {"Authorization": f"Bearer {reviewer.token}"}
        return await client.post("/api/verdicts/1/approve", headers=headers)

    answer = run(app, approve)
    assert answer.status_code == 403 and "may not approve" in answer.json()["message"]
