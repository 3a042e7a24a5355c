"""One database transaction per request, and the notifications it commits sent afterwards.

Webhooks and Prefect events go out after the response (a slow receiver must not hold the
request, and a rolled-back transaction sends nothing): ``notify`` collects them during the
transaction and hands over the committed ones here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import BackgroundTasks, Request
from sqlmodel import Session

from evidence.db import session_scope
from verdicts import notify


@contextmanager
def transaction(request: Request, background: BackgroundTasks | None = None) -> Iterator[Session]:
    """Commit on success, roll back on error; pass ``background`` from routes that write."""
    with session_scope(request.app.state.engine) as session:
        yield session
    committed = notify.take_committed(session)
    if not committed:
        return
    if background is None:
        notify.send(committed, request.app.state.settings)
    else:
        background.add_task(notify.send, committed, request.app.state.settings)
