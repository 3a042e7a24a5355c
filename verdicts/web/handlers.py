"""One handler renders every application error: a page for people, JSON under /api/.

Errors carry their HTTP status as a class attribute (``FactcheckError.http_status``), so
the handler needs no table. A page request without a session is sent to the login page
instead of an error page. Responses built here bypass the middleware on the 500 path, so
they get the security headers directly.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from evidence.errors import FactcheckError
from verdicts.web.config import API_PREFIX, SECURITY_HEADERS
from verdicts.web.errors import HTTPError, MalformedRequest, Unauthenticated
from verdicts.web.templating import render

logger = logging.getLogger(__name__)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path.endswith(".json")


# The heading of an error page, in words a reviewer reads; class names stay out of pages
# (the JSON API keeps them as a machine-readable ``error`` code).
PAGE_TITLES = {
    400: "Not accepted",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not possible here",
    409: "Changed by someone else",
    410: "No longer available",
    422: "Not understood",
    429: "Too many attempts",
}
DEFAULT_PAGE_TITLE = "Something went wrong"


def page_title(status: int) -> str:
    return PAGE_TITLES.get(status, DEFAULT_PAGE_TITLE if status >= 500 else "Not possible")


def error_body(exc: FactcheckError) -> dict[str, object]:
    return {"error": type(exc).__name__, "message": str(exc), "status": exc.http_status}


def render_error(request: Request, exc: FactcheckError) -> Response:
    """The one rendering of an application error, as JSON or as an HTML page."""
    if isinstance(exc, Unauthenticated) and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if wants_json(request):
        response: Response = JSONResponse(error_body(exc), status_code=exc.http_status)
    else:
        response = render(
            request,
            "error.html",
            {"status": exc.http_status, "title": page_title(exc.http_status), "message": str(exc)},
            status_code=exc.http_status,
        )
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _on_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FactcheckError)
    return render_error(request, exc)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return render_error(request, HTTPError(exc.status_code, str(exc.detail)))


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    err = MalformedRequest(
        f"The request is malformed: {where or 'input'}: {first.get('msg', 'invalid')}."
    )
    return render_error(request, err)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    response = render_error(request, FactcheckError("Something went wrong on our side."))
    response.headers.update(SECURITY_HEADERS)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(FactcheckError, _on_app_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
