"""The application factory.

``create_app()`` refuses a database that is not migrated (one-line ``NotMigrated``), then
wires the per-request pieces: security headers on every response, the page session, one
error handler, the page and API routers, and the static files (CSS and the one script —
never inline, so the Content-Security-Policy can forbid inline scripts).

Swagger UI is off (it needs inline and third-party scripts the CSP forbids); the OpenAPI
document is at ``/openapi.json``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from evidence.db import ensure_migrated, get_engine
from evidence.settings import Settings, get_settings
from verdicts.web import api, handlers, pages
from verdicts.web.auth import serializer, session_middleware
from verdicts.web.headers import SecurityHeaders

STATIC_DIR = Path(__file__).parent / "static"
API_DESCRIPTION = """\
The review side of factcheck as JSON: claim intake, the queue, decisions, approval and
ClaimReview export. Every call needs `Authorization: Bearer <token>`; `factcheck user add`
prints a user's token once. Errors are `{"error", "message", "status"}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web app for ``settings`` (default: the process settings).

    Raises ``NotMigrated`` when the database lacks migrations, before serving anything.
    """
    settings = settings or get_settings()
    engine = get_engine(settings)
    ensure_migrated(engine)
    app = FastAPI(
        title="factcheck",
        version="0.1.0",
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.signer = serializer(settings.secret_key)
    handlers.install(app)
    app.middleware("http")(session_middleware)
    app.add_middleware(SecurityHeaders)  # added last, so outermost: covers every response
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    return app
