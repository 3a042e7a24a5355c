"""The archived copy: readable text with the cited passage anchored, and the raw record
under a sandboxing CSP; a hostile archived page (script, forms, ``<base>``) stays text."""

from __future__ import annotations

import httpx
from bs4 import BeautifulSoup
from fastapi import FastAPI

from tests.conftest import DB
from tests.verdicts.web.conftest import data, login, run
from tests.verdicts.web.factories import make_archived_page, make_reviewable_claim, make_user
from verdicts.web.config import CONTENT_SECURITY_POLICY
from verdicts.web.headers import RAW_ARCHIVE_CSP


def test_the_readable_copy_shows_the_passages_in_page_order_with_the_cited_one_anchored(
    app: FastAPI, db: DB
) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, _ = make_reviewable_claim(s, evidence=0)
        evidence, passages = make_archived_page(s, claim, warc_dir=db.data_dir / "warc")

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        await login(client, reviewer.name, reviewer.password)
        page = await client.get(f"/claims/{claim.id}")
        return [page, await client.get(f"/fetches/{passages[0].fetch_id}/archive")]

    claim_page, readable = run(app, go)
    link = f"/fetches/{passages[0].fetch_id}/archive#passage-{evidence.passage_id}"
    assert f'href="{link}"' in claim_page.text
    assert readable.status_code == 200
    assert readable.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    tree = BeautifulSoup(readable.text, "lxml")
    shown = [(p["id"], p.get_text()) for p in tree.select("#archived-text p.archived-passage")]
    assert shown == [(f"passage-{p.id}", p.text) for p in passages]  # by ordinal, not by id
    assert "Hostile Times" in tree.get_text() and "Hostile page" in tree.h1.get_text()  # type: ignore[union-attr]
    raw = tree.find("a", string="Raw archived record")
    assert raw is not None and raw["href"] == f"/fetches/{passages[0].fetch_id}/archive/raw"
    # nothing of the page became markup: no <base>, no foreign form, only our script
    assert tree.find("base") is None
    assert [f["action"] for f in tree.find_all("form")] == ["/logout"]
    assert [t.get("src") for t in tree.find_all("script")] == ["/static/review.js"]
    assert "Last &lt;script&gt;window.__pwned=3&lt;/script&gt; paragraph." in readable.text


def test_the_raw_record_is_sandboxed_and_shows_the_hostile_html_as_text(
    app: FastAPI, db: DB
) -> None:
    with data(db) as s:
        auditor = make_user(s, "auditor")
        claim, _ = make_reviewable_claim(s, evidence=0)
        _, passages = make_archived_page(s, claim, warc_dir=db.data_dir / "warc")
    url = f"/fetches/{passages[0].fetch_id}/archive/raw"

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        anonymous = await client.get(url)
        await login(client, auditor.name, auditor.password)
        return [anonymous, await client.get(url)]

    anonymous, raw = run(app, go)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert raw.status_code == 200
    assert raw.headers["content-security-policy"] == RAW_ARCHIVE_CSP
    assert raw.headers["x-content-type-options"] == "nosniff"
    tree = BeautifulSoup(raw.text, "lxml")
    assert tree.find("base") is None and tree.find("form") is None
    assert tree.find("script") is None and tree.find("link") is None
    assert not [t for t in tree.find_all(True) if any(a.startswith("on") for a in t.attrs)]
    body = tree.select_one("textarea#archived-body")
    assert body is not None and '<base href="https://evil.example/">' in body.get_text()
    assert "WARC-Target-URI" in tree.get_text()


def test_a_fetch_without_stored_text_says_so(app: FastAPI, db: DB) -> None:
    from evidence.models import Fetch

    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        fetch = Fetch(requested_url="https://gone.example/", status_code=404)
        s.add(fetch)
        s.flush()
        fetch_id = fetch.id

    async def go(client: httpx.AsyncClient) -> list[httpx.Response]:
        await login(client, reviewer.name, reviewer.password)
        return [
            await client.get(f"/fetches/{fetch_id}/archive"),
            await client.get(f"/fetches/{fetch_id}/archive/raw"),
        ]

    readable, raw = run(app, go)
    assert readable.status_code == 200 and "No text was extracted" in readable.text
    assert "Raw archived record" not in readable.text and "bytes were not archived" in readable.text
    assert raw.status_code == 404
