"""Engines, sessions and migrations.

SQLite runs in WAL mode with a busy timeout, and every transaction that may write starts
with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes fails at once
with "database is locked" when another process wrote in between, whatever the busy
timeout, and the audit chain reads the last event before it appends one. Work that only
reads uses ``read_scope``: a deferred transaction, which never waits for the write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, create_engine

from evidence.errors import NotMigrated
from evidence.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_ONLY = "factcheck_read_only"  # execution option of a read scope's connections

T = TypeVar("T")


def _sqlite_pragmas(busy_timeout_s: float) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


def make_engine(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and immediate transactions."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s}
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_s))

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # a read scope's transaction is deferred: it takes no lock, and in WAL mode
            # readers and the one writer never wait for each other
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache(maxsize=8)
def _cached_engine(url: str, busy_timeout_s: float) -> Engine:
    return make_engine(url, busy_timeout_s=busy_timeout_s)


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    return _cached_engine(settings.resolved_database_url, settings.sqlite_busy_timeout_s)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Create or migrate the schema; returns the revision now in force."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return head_revision()


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except (OperationalError, ProgrammingError):
        return None


def ensure_migrated(engine: Engine) -> None:
    """Refuse to run against a database that is missing migrations."""
    current = current_revision(engine)
    if current is None:
        raise NotMigrated()
    if current != head_revision():
        raise NotMigrated(f"it is at revision {current}, the code expects {head_revision()}")


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    engine = engine or get_engine()
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@lru_cache(maxsize=8)
def _read_engine(engine: Engine) -> Engine:
    """``engine`` (same pool) whose connections open deferred transactions on SQLite."""
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def read_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A transaction that only reads: one consistent snapshot, and on SQLite a plain
    (deferred) ``BEGIN`` instead of ``BEGIN IMMEDIATE``, so it never takes nor waits for
    the write lock. Nothing is committed: the scope ends with a rollback (a write made
    here by mistake is lost, never half-kept); the rows read stay loaded after it."""
    engine = engine or get_engine()
    with Session(_read_engine(engine), expire_on_commit=False) as session:
        yield session  # closing the session rolls the connection back, keeping the rows


def insert_once(session: Session, row: T, find: Callable[[], T | None]) -> tuple[T, bool]:
    """Insert ``row`` unless a twin already exists; return the row kept and whether it is new.

    Callers look their row up first; this covers the race between that look-up and the
    insert (another writer inserted the same unique key in between). The insert runs in a
    savepoint, so losing the race rolls back only the insert, and ``find`` returns the
    winner's row. A unique violation ``find`` cannot explain is re-raised.
    """
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing, False
    return row, True
