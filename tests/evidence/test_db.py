from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, func, select

from bench.sqlcount import SqlCounter
from evidence import db as dbmod
from evidence.errors import NotMigrated
from evidence.models import Claim
from tests.factories import make_claim


def test_unmigrated_database_is_refused_with_one_line(tmp_path: Path, monkeypatch, cli) -> None:  # type: ignore[no-untyped-def]
    from evidence.settings import get_settings

    monkeypatch.setenv("FACTCHECK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FACTCHECK_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    dbmod._cached_engine.cache_clear()
    r = cli("claim", "list")
    assert r.code == 1
    assert r.err.strip() == "The database is not migrated; run `factcheck db upgrade`."
    r = cli("db", "upgrade")
    assert r.code == 0 and "migrated from empty" in r.out
    r = cli("db", "upgrade")
    assert "already at revision" in r.out
    assert cli("claim", "list", "--json").code == 0
    get_settings.cache_clear()
    dbmod._cached_engine.cache_clear()


def test_ensure_migrated_detects_an_old_revision(db) -> None:  # type: ignore[no-untyped-def]
    dbmod.ensure_migrated(db.engine)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ancient'")
    with pytest.raises(NotMigrated, match="ancient"):
        dbmod.ensure_migrated(db.engine)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{dbmod.head_revision()}'")


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    engine = dbmod.make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    dbmod.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {
        "claim",
        "fetch_record",
        "passage",
        "evidence",
        "review_task",
        "verdict",
        "audit_event",
    } <= tables
    cfg = dbmod.alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    dbmod.upgrade(engine)
    assert dbmod.current_revision(engine) == dbmod.head_revision()
    engine.dispose()


def test_models_match_migrations(db) -> None:  # type: ignore[no-untyped-def]
    """A model change without a migration fails here (alembic autogenerate finds a diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    def not_search(name: str | None, kind: str, parents: object) -> bool:
        # migration 0004's full-text search objects are no SQLModel tables: the FTS5 table
        # claim_search (and its shadow tables) on SQLite, GIN indexes ix_search_* on PostgreSQL
        return not (name or "").startswith(("claim_search", "ix_search_"))

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": not_search})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_a_read_scope_never_holds_the_write_lock(db) -> None:  # type: ignore[no-untyped-def]
    """A reader inside read_scope does not make a writer wait (on SQLite a BEGIN IMMEDIATE
    would: the writer's 0.5 s busy timeout would run out), and it keeps its snapshot."""
    writer = dbmod.make_engine(db.url, busy_timeout_s=0.5)
    try:
        with SqlCounter(db.engine) as counter, dbmod.read_scope(db.engine) as reader:
            before = reader.exec(select(func.count()).select_from(Claim)).one()
            with dbmod.session_scope(writer) as session:
                make_claim(session, text="Written while a reader is open")
            if db.kind == "sqlite":  # one snapshot for the whole scope
                assert reader.exec(select(func.count()).select_from(Claim)).one() == before
        with Session(db.engine) as session:
            assert session.exec(select(func.count()).select_from(Claim)).one() == before + 1
    finally:
        writer.dispose()
    if db.kind == "sqlite":
        assert (counter.counts.read_transactions, counter.counts.write_transactions) == (1, 0)
