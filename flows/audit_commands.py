"""`factcheck audit show / export / check-bundle` (owned by the audit-trail work)."""

from __future__ import annotations

import typer


def register(audit_app: typer.Typer) -> None:
    """Add the audit commands to ``audit_app``."""
