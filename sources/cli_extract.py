"""`factcheck extract FILE...` (owned by the extraction work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add `extract` to ``app``."""
