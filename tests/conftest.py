"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and a CLI runner.

Every test that takes ``db`` runs twice: on a fresh SQLite file and on a PostgreSQL database
this test session created (and drops at the end). PostgreSQL is at 127.0.0.1:5432 (user
postgres, trust auth) unless FACTCHECK_TEST_POSTGRES_URL says otherwise. When it cannot be
reached the PostgreSQL half is skipped, except with FACTCHECK_REQUIRE_POSTGRES=1 (CI sets it),
where the run fails instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from evidence import db as dbmod
from evidence.settings import get_settings

PG_ADMIN_URL = os.environ.get(
    "FACTCHECK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("FACTCHECK_REQUIRE_POSTGRES") == "1"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _admin_engine() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database for this test session, migrated, dropped at the end."""
    admin = _admin_engine()
    name = f"factcheck_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        admin.dispose()
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (FACTCHECK_REQUIRE_POSTGRES=1) but: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    engine.dispose()
    yield url
    dbmod._cached_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating costs more than copying)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = dbmod.make_engine(f"sqlite:///{path}")
    dbmod.upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


def _truncate_pg(engine: Engine) -> None:
    tables = [t for t in dbmod_tables() if t != "alembic_version"]
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        conn.execute(
            text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        )
        conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


def dbmod_tables() -> list[str]:
    from sqlmodel import SQLModel

    import evidence.models  # noqa: F401

    return list(SQLModel.metadata.tables)


@dataclass
class DB:
    """A migrated database for one test; the environment points the app at it."""

    kind: str
    url: str
    engine: Engine
    data_dir: Path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
) -> Iterator[DB]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        path = data_dir / "factcheck.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("FACTCHECK_DATABASE_URL", url)
    monkeypatch.setenv("FACTCHECK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    dbmod._cached_engine.cache_clear()
    engine = dbmod.get_engine()
    if request.param == "postgresql":
        _truncate_pg(engine)
    yield DB(request.param, url, engine, data_dir)
    engine.dispose()
    dbmod._cached_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def pg_db(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[DB]:
    """PostgreSQL only, for tests about PostgreSQL itself (triggers, SKIP LOCKED)."""
    url = request.getfixturevalue("pg_url")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("FACTCHECK_DATABASE_URL", url)
    monkeypatch.setenv("FACTCHECK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    dbmod._cached_engine.cache_clear()
    engine = dbmod.get_engine()
    _truncate_pg(engine)
    yield DB("postgresql", url, engine, data_dir)
    engine.dispose()
    dbmod._cached_engine.cache_clear()
    get_settings.cache_clear()


@pytest.fixture
def sqlite_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path
) -> Iterator[DB]:
    """SQLite only, for tests about SQLite itself (WAL, multi-process writers)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    path = data_dir / "factcheck.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("FACTCHECK_DATABASE_URL", url)
    monkeypatch.setenv("FACTCHECK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    dbmod._cached_engine.cache_clear()
    engine = dbmod.get_engine()
    yield DB("sqlite", url, engine, data_dir)
    engine.dispose()
    dbmod._cached_engine.cache_clear()
    get_settings.cache_clear()


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `factcheck ARGS...` in-process; returns exit code, stdout and stderr."""
    from flows.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
