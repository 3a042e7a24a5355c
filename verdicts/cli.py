"""`factcheck review …`, `user add`, `export`, `serve`, `audit show/export`."""

from __future__ import annotations

import typer


def register(app: typer.Typer, audit_app: typer.Typer) -> None:
    """Add the review-side commands to ``app`` and ``audit_app``."""
