"""Jinja2 set-up: autoescaping for every template, whatever its name.

Fetched text is untrusted. Templates never use ``|safe``; the only markup built in Python
is the highlighted passage (``highlight.py``), which escapes every piece before wrapping it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from verdicts.web.auth import pop_flashes, session_of
from verdicts.web.config import CSRF_FIELD

TEMPLATE_DIR = Path(__file__).parent / "templates"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,  # on for every template, not only *.html
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["csrf_field_name"] = CSRF_FIELD
    env.filters["when"] = _when
    env.filters["href"] = _href
    return env


def _href(url: str | None) -> str:
    """Only http(s) URLs become links; anything else (``javascript:``, ``data:``) does not."""
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return "#"


def _when(value: Any) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM UTC' (or '' for none)."""
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        fmt = "%Y-%m-%d %H:%M UTC" if hasattr(value, "hour") else "%Y-%m-%d"
        return str(value.strftime(fmt))
    return str(value)


templates = Jinja2Templates(env=_environment())


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """Render ``name`` with the signed-in user, the CSRF token and pending messages."""
    ctx = dict(context or {})
    session = session_of(request)
    ctx.setdefault("user", getattr(request.state, "user", None))
    ctx["csrf_token"] = session.csrf
    ctx["flashes"] = pop_flashes(request)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
