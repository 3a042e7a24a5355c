"""Count the SQL an engine sends: statements, transactions (write and read), savepoints and
single-row inserts, so a change to the flow's unit of work is measured, not guessed.

    with SqlCounter(get_engine()) as counter:
        ...  # the work to measure
    print(counter.counts.as_dict())

A write transaction is a ``BEGIN IMMEDIATE`` on SQLite (``evidence.db`` issues it for every
transaction that may write) and any transaction on another database; a read transaction is
a plain (deferred) ``BEGIN``, what ``evidence.db.read_scope`` issues on SQLite, and any
transaction of a read scope on another database.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from evidence.db import READ_ONLY

_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+\"?(\w+)\"?", re.IGNORECASE)


@dataclass
class SqlCounts:
    statements: int = 0  # every statement sent, BEGIN / SAVEPOINT / COMMIT included
    write_transactions: int = 0
    read_transactions: int = 0
    savepoints: int = 0
    inserts: Counter[str] = field(default_factory=Counter)  # INSERT statements per table

    def as_dict(self) -> dict[str, Any]:
        return {
            "statements": self.statements,
            "write_transactions": self.write_transactions,
            "read_transactions": self.read_transactions,
            "savepoints": self.savepoints,
            "inserts": dict(sorted(self.inserts.items())),
        }


class SqlCounter:
    """Listens on ``engine`` while entered; thread-safe (the flow writes from threads)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.counts = SqlCounts()
        self._lock = threading.Lock()
        self._sqlite = engine.dialect.name == "sqlite"

    def reset(self) -> SqlCounts:
        """The counts so far; counting starts again from zero."""
        with self._lock:
            counts, self.counts = self.counts, SqlCounts()
        return counts

    def _on_statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = statement.lstrip()[:24].upper()
        with self._lock:
            counts = self.counts
            counts.statements += 1
            if head.startswith("BEGIN IMMEDIATE"):
                counts.write_transactions += 1
            elif head.startswith("BEGIN"):
                counts.read_transactions += 1
            elif head.startswith("SAVEPOINT"):
                counts.savepoints += 1
            elif head.startswith("INSERT") and (match := _INSERT.match(statement)):
                counts.inserts[match.group(1)] += 1

    def _on_begin(self, conn: Any) -> None:
        # elsewhere than SQLite the driver opens transactions implicitly: count each one,
        # as a read when it is a read scope's
        if not self._sqlite:
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            with self._lock:
                if read_only:
                    self.counts.read_transactions += 1
                else:
                    self.counts.write_transactions += 1

    def __enter__(self) -> SqlCounter:
        event.listen(self.engine, "before_cursor_execute", self._on_statement)
        event.listen(self.engine, "begin", self._on_begin)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_statement)
        event.remove(self.engine, "begin", self._on_begin)
