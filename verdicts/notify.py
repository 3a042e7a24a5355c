"""Telling the outside world: a signed webhook and a Prefect event on publish and re-open.

Notifications are collected during the transaction (``add_pending``) and sent by the caller
after it commits (``deliver``), so a slow or failing receiver never holds a database lock
and never rolls back a verdict; a transaction that rolls back sends nothing. ::

    with session_scope(engine) as session:
        decisions.decide(session, ...)
    notify.deliver(session)            # after the commit

The webhook body is JSON; ``X-Factcheck-Signature: sha256=<hex>`` is the HMAC-SHA256 of the
exact body bytes under ``settings.webhook_secret`` (receivers recompute and compare with
``hmac.compare_digest``). Without a secret nothing is sent: an unsigned webhook could be
forged by anyone who can reach the receiver.

The Prefect event is emitted only when ``PREFECT_API_URL`` is set in the environment:
without it Prefect would start a temporary server (~12 s) just to drop the event. Prefect
is imported lazily (~2 s). Failures of either channel are logged, never raised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from evidence.settings import Settings, get_settings
from evidence.types import utcnow

logger = logging.getLogger(__name__)

VERDICT_PUBLISHED = "factcheck.verdict.published"
CLAIM_REOPENED = "factcheck.claim.reopened"
SIGNATURE_HEADER = "X-Factcheck-Signature"
WEBHOOK_TIMEOUT_S = 5.0
_PENDING = "factcheck.notifications.pending"
_COMMITTED = "factcheck.notifications.committed"


@dataclass(frozen=True)
class Notification:
    event: str
    claim_id: int
    payload: dict[str, Any] = field(default_factory=dict)

    def body(self) -> bytes:
        """The webhook body: the event name, when, and the payload, as compact JSON."""
        document = {"event": self.event, "claim_id": self.claim_id, **self.payload}
        document.setdefault("sent_at", utcnow().isoformat())
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def add_pending(session: OrmSession, notification: Notification) -> None:
    """Queue a notification to send once ``session``'s transaction commits."""
    session.info.setdefault(_PENDING, []).append(notification)


# Both hooks also fire for SAVEPOINTs (``begin_nested``); only the outermost transaction
# decides whether anything happened.
@event.listens_for(OrmSession, "after_commit")
def _on_commit(session: OrmSession) -> None:
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING, [])
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(OrmSession, "after_rollback")
def _on_rollback(session: OrmSession) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING, None)


def take_committed(session: OrmSession) -> list[Notification]:
    """The notifications whose transaction has committed (and forgets them)."""
    return list(session.info.pop(_COMMITTED, []))


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(notification: Notification, settings: Settings | None = None) -> bool:
    """POST the notification to ``settings.webhook_url``; True if it answered 2xx."""
    settings = settings or get_settings()
    if not settings.webhook_url:
        return False
    if not settings.webhook_secret:
        logger.error("webhook not sent: FACTCHECK_WEBHOOK_SECRET is empty")
        return False
    body = notification.body()
    request = urllib.request.Request(
        settings.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": settings.user_agent,
            SIGNATURE_HEADER: sign(body, settings.webhook_secret),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            status: int = response.status
    except (urllib.error.URLError, OSError, ValueError) as exc:  # HTTPError (4xx/5xx) too
        logger.warning("webhook %s to %s failed: %s", notification.event, settings.webhook_url, exc)
        return False
    return 200 <= status < 300


def emit_prefect_event(notification: Notification) -> bool:
    """Emit the notification as a Prefect event; False when no Prefect API is configured."""
    if not os.environ.get("PREFECT_API_URL"):
        return False
    try:
        from prefect.events import emit_event  # noqa: PLC0415 - Prefect costs ~2 s to import: only the commands that run flows pay it

        emitted: object = emit_event(
            event=notification.event,
            resource={
                "prefect.resource.id": f"factcheck.claim.{notification.claim_id}",
                "prefect.resource.name": f"claim {notification.claim_id}",
            },
            payload=notification.payload,
        )
    except Exception as exc:  # noqa: BLE001 - a broken Prefect must never break a verdict
        logger.warning("Prefect event %s not emitted: %s", notification.event, exc)
        return False
    return emitted is not None


def send(notifications: list[Notification], settings: Settings | None = None) -> int:
    """Send each notification on both channels; returns how many webhooks succeeded."""
    delivered = 0
    for notification in notifications:
        delivered += send_webhook(notification, settings)
        emit_prefect_event(notification)
    return delivered


def deliver(session: OrmSession, settings: Settings | None = None) -> int:
    """Send what ``session`` committed; call after the transaction, never inside it."""
    return send(take_committed(session), settings)
