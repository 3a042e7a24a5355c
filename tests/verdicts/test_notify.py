"""Webhooks to a real local HTTP server, signed with HMAC; Prefect events on publish/re-open."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest

from evidence.db import session_scope
from evidence.settings import Settings, get_settings
from tests.conftest import DB
from tests.verdicts.conftest import WebhookReceiver
from tests.verdicts.factories import make_user, queued_claim
from verdicts import decisions, notify

SECRET = "test-webhook-secret-0123456789"


@pytest.fixture
def hooked(monkeypatch: pytest.MonkeyPatch, webhook_receiver: WebhookReceiver) -> WebhookReceiver:
    monkeypatch.setenv("FACTCHECK_WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("FACTCHECK_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    get_settings.cache_clear()
    return webhook_receiver


def _publish(db: DB) -> int:
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        claim, _, rows = queued_claim(s)
        assert claim.id is not None
        claim_id = claim.id
    with session_scope(db.engine) as s:
        decisions.decide(
            s,
            claim_id,
            reviewer="alice",
            rating="false",
            rationale="the record says no",
            evidence_ids=[r.id for r in rows if r.id],
            expected_version=None,
            actor="user:alice",
        )
    assert notify.deliver(s) == 1
    return claim_id


def _verify(body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def test_publishing_sends_a_signed_webhook_after_commit(db: DB, hooked: WebhookReceiver) -> None:
    claim_id = _publish(db)
    assert len(hooked.requests) == 1
    got = hooked.requests[0]
    assert got.path == "/hooks/factcheck"
    assert got.headers["content-type"] == "application/json"
    assert _verify(got.body, got.headers["x-factcheck-signature"])
    body = json.loads(got.body)
    assert body["event"] == "factcheck.verdict.published"
    assert body["claim_id"] == claim_id and body["rating"] == "false"
    assert not _verify(got.body + b" ", got.headers["x-factcheck-signature"])


def test_reopening_sends_a_webhook(db: DB, hooked: WebhookReceiver) -> None:
    claim_id = _publish(db)
    with session_scope(db.engine) as s:
        decisions.reopen(s, claim_id, reason="the page changed", actor="flow:nightly")
    assert notify.deliver(s) == 1
    last = json.loads(hooked.requests[-1].body)
    assert (last["event"], last["reason"]) == ("factcheck.claim.reopened", "the page changed")


def test_a_failing_receiver_never_undoes_the_verdict(
    db: DB, hooked: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    hooked.status = 500
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        claim, _, rows = queued_claim(s)
        decisions.decide(
            s,
            claim.id or 0,
            reviewer="alice",
            rating="false",
            rationale="r",
            evidence_ids=[r.id for r in rows if r.id],
            expected_version=None,
            actor="user:alice",
        )
    with caplog.at_level(logging.WARNING, logger="verdicts.notify"):
        assert notify.deliver(s) == 0
    assert len(hooked.requests) == 1 and "failed" in caplog.text
    with session_scope(db.engine) as s:
        assert decisions.current_verdict(s, claim.id or 0) is not None


def test_an_unreachable_receiver_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(webhook_url="http://127.0.0.1:9/nothing", webhook_secret=SECRET)
    with caplog.at_level(logging.WARNING, logger="verdicts.notify"):
        assert not notify.send_webhook(notify.Notification("factcheck.x", 1), settings)
    assert "failed" in caplog.text


def test_no_secret_no_webhook(webhook_receiver: WebhookReceiver) -> None:
    unsigned = Settings(webhook_url=webhook_receiver.url, webhook_secret="")
    assert not notify.send_webhook(notify.Notification(notify.VERDICT_PUBLISHED, 1), unsigned)
    assert not notify.send_webhook(notify.Notification(notify.VERDICT_PUBLISHED, 1), Settings())
    assert webhook_receiver.requests == []


def test_prefect_event_is_skipped_without_a_prefect_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert notify.emit_prefect_event(notify.Notification(notify.VERDICT_PUBLISHED, 1)) is False


def test_prefect_event_is_emitted_when_an_api_is_configured(
    monkeypatch: pytest.MonkeyPatch, webhook_receiver: WebhookReceiver
) -> None:
    # Prefect's own test client stands in for the events websocket (its transport seam)
    from prefect.events.clients import AssertingEventsClient
    from prefect.events.worker import EventsWorker

    monkeypatch.setenv("PREFECT_API_URL", webhook_receiver.url)
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        sent = notify.emit_prefect_event(
            notify.Notification(notify.CLAIM_REOPENED, 42, {"claim_id": 42, "reason": "drift"})
        )
        worker = EventsWorker.instance()
        worker.drain()
        events = worker._client.events  # type: ignore[attr-defined]
    finally:
        EventsWorker.set_client_override(None)  # type: ignore[arg-type]
    assert sent is True
    assert [e.event for e in events] == ["factcheck.claim.reopened"]
    assert events[0].resource.id == "factcheck.claim.42"
    assert events[0].payload == {"claim_id": 42, "reason": "drift"}


def test_savepoints_neither_send_nor_drop_notifications(db: DB) -> None:
    """A decision, then a SAVEPOINT that commits and one that rolls back, in one transaction:
    the notification is held until the outer commit."""
    with session_scope(db.engine) as s:
        make_user(s, "alice")
        claim, _, rows = queued_claim(s)
        decisions.decide(
            s,
            claim.id or 0,
            reviewer="alice",
            rating="false",
            rationale="r",
            evidence_ids=[r.id for r in rows if r.id],
            expected_version=None,
            actor="user:alice",
        )
        with s.begin_nested():
            queued_claim(s)
        assert notify.take_committed(s) == []
        with pytest.raises(ValueError), s.begin_nested():
            raise ValueError("a savepoint rolls back")
        assert notify.take_committed(s) == []
    assert [n.claim_id for n in notify.take_committed(s)] == [claim.id]
