"""Named defaults of the web app (tunable constants live here, not at call sites)."""

from __future__ import annotations

SESSION_COOKIE = "factcheck_session"
SESSION_SALT = "factcheck.web.session"
SESSION_MAX_AGE_S = 12 * 3600  # a working day; the signature carries the issue time
SESSION_IDLE_S = 2 * 3600  # a session unused this long ends (server-side, verdicts.sessions)
CSRF_FIELD = "csrf_token"
CSRF_TOKEN_BYTES = 32
MAX_FLASH_MESSAGES = 3

# Hosts on which the session cookie may travel over plain HTTP (local development).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

QUEUE_PAGE_SIZE = 50
TIMELINE_LIMIT = 1000
ARCHIVE_DISPLAY_BYTES = 2_000_000  # more than this of an archived body is cut, with a note
API_PREFIX = "/api/"
