"""`factcheck verify`, `verify-batch`, `schedule`: commands that run Prefect flows."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the flow commands to ``app`` (filled in by the flows issue)."""
