"""Security headers on every response, static files and errors included.

A route may send a *stricter* Content-Security-Policy of its own (the raw archived record
sends ``RAW_ARCHIVE_CSP``); the middleware keeps it and adds the rest. Nothing else may set
one, so the app-wide policy is never weakened by accident.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from verdicts.web.config import SECURITY_HEADERS

# an opaque origin (no cookies, no storage of ours), no script, no form, no fetch
RAW_ARCHIVE_CSP = "sandbox; default-src 'none'"
RAW_ARCHIVE_HEADERS = {
    "Content-Security-Policy": RAW_ARCHIVE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_CSP = "content-security-policy"
_STRICTER = frozenset({RAW_ARCHIVE_CSP})


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering): adds the CSP and friends to each response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                own = headers.get(_CSP)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if own is not None and own in _STRICTER:
                    headers[_CSP] = own
            await send(message)

        await self.app(scope, receive, send_with_headers)
