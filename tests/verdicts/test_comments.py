"""Team notes and assignment: threads, audit events that digest the text, never exported,
editor-only assignment, the assignee's queue order, and the claim page (escaping)."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from fastapi import FastAPI
from sqlmodel import col, select

from evidence import audit
from evidence.audit import rows
from evidence.errors import BadInput, Forbidden, NotFound
from evidence.models import AuditEvent, ReviewTask
from flows.bundle import check_bundle, export_bundle
from tests.conftest import DB
from tests.verdicts.web.conftest import data, login, run
from tests.verdicts.web.factories import decide_as, make_reviewable_claim, make_user
from verdicts import claimreview, comments, queue
from verdicts.web.app import create_app

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def app(db: DB) -> FastAPI:
    return create_app()


def _events(db: DB, action: str) -> list[AuditEvent]:
    with data(db) as s:
        return list(s.exec(select(AuditEvent).where(col(AuditEvent.action) == action)).all())


def test_notes_thread_and_their_events_carry_a_digest_not_the_text(db: DB) -> None:
    secret = f"call the ministry press office {secrets.token_hex(4)}"
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        editor = make_user(s, "editor")
        claim, _ = make_reviewable_claim(s)
        assert claim.id is not None
        first = comments.add_comment(
            s, claim.id, author=reviewer.name, text=f"  {secret}  ", actor="t"
        )
        reply = comments.add_comment(
            s, claim.id, author=editor.name, text="done", parent_id=first.id, actor="t"
        )
        comments.add_comment(s, claim.id, author=editor.name, text="second", actor="t")
        tree = comments.thread(s, claim.id)
    assert [(c.text, [r.id for r in c.replies]) for c in tree] == [
        (secret, [reply.id]),
        ("second", []),
    ]
    events = _events(db, "comment.added")
    assert len(events) == 3 and all(e.subject == f"claim:{claim.id}" for e in events)
    first_event = events[0].payload
    assert first_event["text_sha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert first_event["chars"] == len(secret) and first_event["author"] == reviewer.name
    assert events[1].payload["parent_id"] == first.id
    assert all(secret not in json.dumps(e.payload) for e in events)
    assert audit.verify_chain(audit.iter_events(db.engine)).ok


def test_refused_notes(db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        auditor = make_user(s, "auditor")
        claim, _ = make_reviewable_claim(s)
        other, _ = make_reviewable_claim(s)
        assert claim.id is not None and other.id is not None
        elsewhere = comments.add_comment(s, other.id, author=reviewer.name, text="x", actor="t")
        with pytest.raises(BadInput):
            comments.add_comment(s, claim.id, author=reviewer.name, text=" \n ", actor="t")
        with pytest.raises(BadInput):
            too_long = "a" * (comments.MAX_COMMENT_CHARS + 1)
            comments.add_comment(s, claim.id, author=reviewer.name, text=too_long, actor="t")
        with pytest.raises(Forbidden):
            comments.add_comment(s, claim.id, author=auditor.name, text="hi", actor="t")
        with pytest.raises(NotFound):  # a reply across claims
            comments.add_comment(
                s, claim.id, author=reviewer.name, text="hi", parent_id=elsewhere.id, actor="t"
            )
        assert comments.thread(s, claim.id) == []


def test_notes_are_never_exported(db: DB, tmp_path: Path) -> None:
    secret = f"internal-note-{secrets.token_hex(6)}"
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        claim, rows = make_reviewable_claim(s, warc_dir=db.data_dir / "warc")
        assert claim.id is not None
        comments.add_comment(s, claim.id, author=reviewer.name, text=secret, actor="t")
        decide_as(s, claim, reviewer, rows[:1])
    with data(db) as s:
        document = claimreview.claimreview_jsonld(s, claim.id)
    assert secret not in json.dumps(document)
    out = tmp_path / "bundle"
    export_bundle(db.engine, claim.id, out, warc_dir=db.data_dir / "warc", actor="t")
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files and not any(secret.encode() in p.read_bytes() for p in files)
    assert any(b"comment.added" in p.read_bytes() for p in files)  # the event travels
    # the factory's rows have no pipeline events; the notes' events must add no problem
    problems = check_bundle(out).problems
    assert not any("comment" in f"{p.where} {p.what}" for p in problems), problems


def test_assignment_by_editors_orders_the_assignees_queue(db: DB) -> None:
    with data(db) as s:
        editor = make_user(s, "editor")
        alice = make_user(s, "reviewer")
        bob = make_user(s, "reviewer")
        auditor = make_user(s, "auditor")
        high, _ = make_reviewable_claim(s, priority=9)
        low, _ = make_reviewable_claim(s, priority=0)
        assert high.id is not None and low.id is not None
        with pytest.raises(Forbidden):
            comments.assign(s, low.id, assignee=alice.name, editor=bob.name, actor="t")
        with pytest.raises(BadInput):  # an auditor cannot review
            comments.assign(s, low.id, assignee=auditor.name, editor=editor.name, actor="t")
        with pytest.raises(BadInput):
            comments.assign(s, low.id, assignee="nobody-here", editor=editor.name, actor="t")
        before = queue.task_for_claim(s, low.id)
        assert before is not None
        version = before.version
        task = comments.assign(s, low.id, assignee=f"@{alice.name}", editor=editor.name, actor="t")
        assert task.assigned_to == alice.name and task.version == version
        mine = queue.list_queue(s, viewer=alice.name)
        theirs = queue.list_queue(s, viewer=bob.name)
    assert [i.claim_id for i in mine] == [low.id, high.id] and mine[0].assigned_to == alice.name
    assert [i.claim_id for i in theirs] == [high.id, low.id]
    with data(db) as s:
        taken_by_bob = queue.next_task(s, bob.name)
        taken_by_alice = queue.next_task(s, alice.name)
    assert taken_by_bob is not None and taken_by_bob.claim_id == high.id
    assert taken_by_alice is not None and taken_by_alice.claim_id == low.id
    (event,) = _events(db, "task.assigned")
    assert event.payload["assigned_to"] == alice.name and event.payload["previous"] is None
    assert f"review_task:{task.id}" in event.payload["rows"]
    with data(db) as s:
        cleared = comments.assign(s, low.id, assignee="", editor=editor.name, actor="t")
        assert cleared.assigned_to is None
    latest = _events(db, "task.assigned")[-1]
    record = latest.payload["rows"][f"review_task:{cleared.id}"]
    assert record["v"]["assigned_to"] is None  # the vouched row includes assigned_to
    spec = rows.BY_MODEL[ReviewTask]
    with data(db) as s:
        row = s.get(ReviewTask, cleared.id)
        assert row is not None
        assert rows.row_problem(spec, row.model_dump(), record, latest.seq) is None
        row.assigned_to = bob.name  # a silent edit is caught
        assert "assigned_to" in str(rows.row_problem(spec, row.model_dump(), record, latest.seq))
        s.rollback()


def test_claim_page_notes_escape_script_and_roles(app: FastAPI, db: DB) -> None:
    with data(db) as s:
        reviewer = make_user(s, "reviewer")
        editor = make_user(s, "editor")
        auditor = make_user(s, "auditor")
        claim, _ = make_reviewable_claim(s)

    async def as_reviewer(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, reviewer.name, reviewer.password)
        url = f"/claims/{claim.id}/comments"
        posted = await client.post(url, data={"csrf_token": token, "text": PAYLOAD})
        empty = await client.post(url, data={"csrf_token": token, "text": "   "})
        assign = await client.post(
            f"/claims/{claim.id}/assign", data={"csrf_token": token, "assignee": reviewer.name}
        )
        return [posted, empty, assign, await client.get(f"/claims/{claim.id}")]

    posted, empty, refused_assign, page = run(app, as_reviewer)
    assert posted.status_code == 303 and posted.headers["location"].endswith("#comments")
    assert empty.status_code == 400 and 'id="comment-error"' in empty.text
    assert refused_assign.status_code == 403
    assert "<script>alert" not in page.text and "onerror=alert" not in page.text.replace(
        "&lt;img src=x onerror=alert(1)&gt;", ""
    )
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    tree = BeautifulSoup(page.text, "lxml")
    note = tree.select_one("#comments .note .note-text")
    assert note is not None and note.get_text() == PAYLOAD
    assert tree.select_one("#comments select#assignee") is None  # reviewers do not assign
    with data(db) as s:
        (parent,) = comments.thread(s, claim.id)  # type: ignore[arg-type]

    async def as_editor(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, editor.name, editor.password)
        reply = await client.post(
            f"/claims/{claim.id}/comments",
            data={"csrf_token": token, "text": "on it", "parent_id": str(parent.id)},
        )
        assign = await client.post(
            f"/claims/{claim.id}/assign", data={"csrf_token": token, "assignee": reviewer.name}
        )
        return [reply, assign, await client.get(f"/claims/{claim.id}")]

    reply, assigned, editor_page = run(app, as_editor)
    assert reply.status_code == 303 and assigned.status_code == 303
    tree = BeautifulSoup(editor_page.text, "lxml")
    assert tree.select_one(f"#note-{parent.id} .replies .note-text").get_text() == "on it"  # type: ignore[union-attr]
    assert reviewer.name in tree.select_one("#assigned-to").get_text()  # type: ignore[union-attr]
    assert tree.select_one("label[for=assignee]") is not None

    async def as_auditor(client: httpx.AsyncClient) -> list[httpx.Response]:
        token = await login(client, auditor.name, auditor.password)
        write = await client.post(
            f"/claims/{claim.id}/comments", data={"csrf_token": token, "text": "hi"}
        )
        return [write, await client.get(f"/claims/{claim.id}")]

    write, auditor_page = run(app, as_auditor)
    assert write.status_code == 403
    form_action = f'action="/claims/{claim.id}/comments'
    assert "on it" in auditor_page.text and form_action not in auditor_page.text

    async def queue_of_reviewer(client: httpx.AsyncClient) -> httpx.Response:
        await login(client, reviewer.name, reviewer.password)
        return await client.get("/queue")

    queue_page = run(app, queue_of_reviewer)
    assert queue_page.status_code == 200
    assert "assigned to you" in queue_page.text  # the assignee sees it marked in the queue
