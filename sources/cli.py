"""`factcheck fetch`, `extract`, `archive show`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the sources commands to ``app``."""
