"""What every CLI command shares: opening the database, naming the actor, printing JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from sqlalchemy.engine import Engine

from evidence.actors import cli_actor as cli_actor  # re-exported for the commands
from evidence.db import ensure_migrated, get_engine

# Claims, titles and passages are untrusted text: Rich markup is off unless a caller escapes
# what it interpolates and asks for it (``markup=True``), so "[/x]" in a page prints as is.
console = Console(highlight=False, soft_wrap=True, markup=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def open_db() -> Engine:
    """The configured engine, refusing an un-migrated database."""
    engine = get_engine()
    ensure_migrated(engine)
    return engine


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
