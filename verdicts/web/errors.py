"""The web app's own errors, added to the application's tree (``evidence.errors``).

Each carries its HTTP status as a class attribute; ``verdicts.web.handlers`` renders any
of them as a page or as JSON. Kept apart from the renderer so that ``auth`` can raise them
without importing the templates (which import ``auth``).
"""

from __future__ import annotations

from evidence.errors import BadInput, FactcheckError, Forbidden


class Unauthenticated(FactcheckError):
    """No session or no valid token: pages redirect to the login page, the API says 401."""

    http_status = 401


class CsrfRejected(Forbidden):
    def __init__(self) -> None:
        super().__init__("The form's CSRF token is missing or stale; reload the page and retry.")


class MalformedRequest(BadInput):
    """A request that does not match the route's declared shape (FastAPI's validation)."""

    http_status = 422


class HTTPError(FactcheckError):
    """A routing-level HTTP error (unknown path, wrong method) in our error vocabulary."""

    def __init__(self, status: int, message: str) -> None:
        self.http_status = status
        super().__init__(message)
