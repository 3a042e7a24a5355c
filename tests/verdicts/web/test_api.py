"""The JSON API: intake, queue, next, decide, approve, export, and its OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from evidence.settings import get_settings
from tests.conftest import DB
from tests.verdicts.web.conftest import data, run
from tests.verdicts.web.factories import make_evidence, make_user
from verdicts import queue


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_intake_queue_next_decide_and_export(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
    h = _auth(reviewer.token)
    body = {"text": "The harbour bridge opened in 1932", "claimant": "Guide", "tags": ["history"]}

    async def intake(client: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        return await client.post("/api/claims", json=body, headers=h), await client.post(
            "/api/claims", json=body, headers=h
        )

    first, again = run(app, intake)
    assert first.status_code == 201 and first.json()["created"] is True
    assert again.status_code == 200 and again.json()["created"] is False
    claim_id = first.json()["claim"]["id"]
    assert again.json()["claim"]["id"] == claim_id and first.json()["claim"]["tags"] == ["history"]

    with data(db) as s:  # the evidence pipeline is another package's: build its output here
        from evidence.claims import get_claim

        evidence = make_evidence(s, get_claim(s, claim_id))
        queue.enqueue(s, claim_id, actor="test")

    async def review(client: httpx.AsyncClient) -> list[httpx.Response]:
        listing = await client.get("/api/queue", params={"tag": "history"}, headers=h)
        taken = await client.post("/api/queue/next", headers=h)
        task = taken.json()
        decision = {
            "rating": "true",
            "rationale": "The archive confirms the opening date.",
            "evidence_ids": [evidence.id],
            "expected_version": task["version"],
        }
        decided = await client.post(f"/api/claims/{claim_id}/verdict", json=decision, headers=h)
        stale = await client.post(f"/api/claims/{claim_id}/verdict", json=decision, headers=h)
        empty = await client.post("/api/queue/next", headers=h)
        export = await client.get(f"/api/claims/{claim_id}/claimreview", headers=h)
        page_export = await client.get(f"/claims/{claim_id}/claimreview.json", headers=h)
        detail = await client.get(f"/api/claims/{claim_id}", headers=h)
        return [listing, taken, decided, stale, empty, export, page_export, detail]

    listing, taken, decided, stale, empty, export, page_export, detail = run(app, review)
    assert [item["claim_id"] for item in listing.json()] == [claim_id]
    assert taken.status_code == 200 and taken.json()["lease_holder"] == reviewer.name
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "published" and decided.json()["evidence_ids"] == [
        evidence.id
    ]
    assert stale.status_code == 409 and stale.json()["error"] == "Conflict"
    assert empty.status_code == 204 and empty.content == b""
    assert export.status_code == 200 and export.headers["content-type"] == "application/ld+json"
    review_doc = export.json()
    assert review_doc["@type"] == "ClaimReview"
    assert review_doc["reviewRating"]["alternateName"] == "True"
    assert page_export.json() == review_doc
    assert detail.json()["verdicts"][0]["rating"] == "true"


@pytest.fixture
def two_person_app(monkeypatch: pytest.MonkeyPatch, db: DB) -> FastAPI:
    monkeypatch.setenv("FACTCHECK_REVIEW_POLICY", "two-person")
    get_settings.cache_clear()
    from verdicts.web.app import create_app

    return create_app()


def test_approval_through_the_api(two_person_app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer, editor = make_user(s, "reviewer"), make_user(s, "editor")
        from tests.verdicts.web.factories import make_reviewable_claim

        claim, rows = make_reviewable_claim(s, evidence=1)

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        task = (await client.post("/api/queue/next", headers=_auth(reviewer.token))).json()
        decision = {
            "rating": "misleading",
            "rationale": "Omits the context.",
            "evidence_ids": [rows[0].id],
            "expected_version": task["version"],
        }
        decided = await client.post(
            f"/api/claims/{claim.id}/verdict", json=decision, headers=_auth(reviewer.token)
        )
        verdict_id = decided.json()["id"]
        own = await client.post(
            f"/api/verdicts/{verdict_id}/approve", headers=_auth(reviewer.token)
        )
        approved = await client.post(
            f"/api/verdicts/{verdict_id}/approve", headers=_auth(editor.token)
        )
        return [decided, own, approved]

    decided, own, approved = run(two_person_app, go)
    assert decided.json()["state"] == "pending_approval"
    assert own.status_code == 403
    assert approved.status_code == 200 and approved.json()["state"] == "published"
    assert approved.json()["approver"] == editor.name


def test_the_openapi_document_describes_the_api_and_its_token(app: FastAPI) -> None:
    async def go(client: httpx.AsyncClient) -> dict[str, Any]:
        return (await client.get("/openapi.json")).json()  # type: ignore[no-any-return]

    doc = run(app, go)
    paths = doc["paths"]
    assert {
        "/api/claims",
        "/api/queue",
        "/api/queue/next",
        "/api/claims/{claim_id}/verdict",
        "/api/verdicts/{verdict_id}/approve",
        "/api/claims/{claim_id}/claimreview",
    } <= set(paths)
    assert not any(p.startswith(("/login", "/queue", "/dashboard")) for p in paths)
    assert doc["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token, printed once by `factcheck user add`.",
    }
    assert paths["/api/queue/next"]["post"]["security"] == [{"token": []}]
    decide = paths["/api/claims/{claim_id}/verdict"]["post"]
    assert "409" in decide["responses"]
