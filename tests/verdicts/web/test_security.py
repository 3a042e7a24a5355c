"""Untrusted content stays text; every response carries the security headers; errors
render once, as a page or as JSON; an unmigrated database is refused."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from sqlalchemy import text

from evidence.db import make_engine
from evidence.errors import NotMigrated
from evidence.models import Document, Passage
from evidence.settings import Settings
from tests.conftest import DB
from tests.verdicts.web.conftest import data, login, run
from tests.verdicts.web.factories import make_fact_check, make_reviewable_claim, make_user
from verdicts.web.config import CONTENT_SECURITY_POLICY
from verdicts.web.templating import TEMPLATE_DIR

PAYLOAD = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=1>"


def test_the_csp_is_the_one_asked_for() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"


def test_every_kind_of_response_carries_the_security_headers(app: FastAPI) -> None:
    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        paths = ["/login", "/static/review.js", "/queue", "/api/queue", "/nowhere", "/openapi.json"]
        return [await client.get(p) for p in paths]

    responses = run(app, go)
    assert [r.status_code for r in responses] == [200, 200, 303, 401, 404, 200]
    for response in responses:
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert responses[1].headers["content-type"].startswith("text/javascript")


def test_templates_have_no_inline_script_and_no_safe_filter() -> None:
    for path in TEMPLATE_DIR.glob("*.html"):
        source = path.read_text()
        assert "|safe" not in source.replace(" ", ""), path.name
        assert "autoescape false" not in source, path.name
        for tag in re.findall(r"<script[^>]*>", source):
            assert 'src="/static/' in tag, f"{path.name}: inline script {tag}"
        assert not re.search(r"\son[a-z]+=", source), f"{path.name}: inline event handler"


def test_script_payloads_in_fetched_text_are_shown_as_text(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, rows = make_reviewable_claim(
            s,
            text=f"Claim with {PAYLOAD} inside",
            evidence=1,
            passage=f"Passage says {PAYLOAD} and script things",
            title=f"Title {PAYLOAD}",
            site="evil.example",
            matched_terms=["script", "onerror"],
        )
        check = make_fact_check(s, claim, rating=PAYLOAD)
        check.url = "javascript:alert(1)"
        s.add(check)
        doc = s.get(Document, s.get(Passage, rows[0].passage_id).document_id)  # type: ignore[union-attr]
        assert doc is not None
        doc.url = "javascript:window.__pwned=1"
        s.add(doc)

    async def go(client: httpx.AsyncClient) -> str:
        await login(client, reviewer.name, reviewer.password)
        return (await client.get(f"/claims/{claim.id}")).text

    html = run(app, go)
    tree = BeautifulSoup(html, "lxml")
    assert [tag.get("src") for tag in tree.find_all("script")] == ["/static/review.js"]
    assert tree.find_all("img") == []
    assert not [t for t in tree.find_all(True) if any(a.startswith("on") for a in t.attrs)]
    assert f"Passage says {PAYLOAD} and script things" in tree.get_text()
    assert "Title &lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "&lt;<mark>script</mark>&gt;" in html  # highlighted, still escaped
    assert 'href="javascript:' not in html


def test_errors_are_pages_for_people_and_json_for_the_api(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
    api = {"Authorization": f"Bearer {reviewer.token}"}

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        await login(client, reviewer.name, reviewer.password)
        return [
            await client.get("/claims/424242"),
            await client.get("/api/claims/424242", headers=api),
            await client.get("/api/claims/424242/claimreview", headers=api),
            await client.post("/api/claims", json={"text": "  "}, headers=api),
            await client.post("/api/claims", json={"nope": 1}, headers=api),
            await client.get("/claims/424242/claimreview.json"),
        ]

    page, api_missing, export_missing, empty, malformed, export_page = run(app, go)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "No claim with id 424242." in page.text
    assert api_missing.status_code == 404
    assert api_missing.json() == {
        "error": "NotFound",
        "message": "No claim with id 424242.",
        "status": 404,
    }
    assert export_missing.status_code == 404
    assert empty.status_code == 400 and empty.json()["error"] == "BadInput"
    assert malformed.status_code == 422 and "text" in malformed.json()["message"]
    assert export_page.status_code == 404 and export_page.json()["error"] == "NotFound"


def test_an_unmigrated_database_is_refused_at_startup(tmp_path: Path) -> None:
    from verdicts.web.app import create_app

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE unrelated (id INTEGER)"))
    engine.dispose()
    settings = Settings(database_url=url, data_dir=tmp_path)
    with pytest.raises(NotMigrated, match=r"^The database is not migrated; run `factcheck db"):
        create_app(settings)
