"""Migrations and engine settings on the real SQL backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from mcp_trading.adapters.store import (
    SchemaOutOfDateError,
    check_schema,
    current_revision,
    head_revision,
    upgrade,
)
from mcp_trading.adapters.store.engine import create_store_engine, normalize_url
from mcp_trading.adapters.store.schema import metadata

TABLES = {"journal", "snapshots", "accounts", "orders", "fills", "positions", "api_keys", "bars",
          "projection_checkpoint", "history_bars", "history_blocks", "history_instruments", "backtests",
          "orders_archive", "fills_archive", "bars_archive", "history_bars_archive",
          "archive_horizons", "optimizer_runs", "optimizer_previews", "reports", "equity_samples",
          "dedupe_segments", "snapshot_segments", "alembic_version"}


def test_a_fresh_database_has_no_revision_and_fails_the_check(sql_url: str) -> None:
    assert current_revision(sql_url) is None
    with pytest.raises(SchemaOutOfDateError, match="none"):
        check_schema(sql_url)


def test_upgrade_reaches_head_and_is_idempotent(sql_url: str) -> None:
    upgrade(sql_url)
    upgrade(sql_url)

    assert current_revision(sql_url) == head_revision() == "0014"
    check_schema(sql_url)
    engine = create_store_engine(sql_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_code_metadata(sql_url: str) -> None:
    upgrade(sql_url)
    engine = create_store_engine(sql_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert diffs == []


def test_sqlite_connections_use_wal_and_full_sync(sqlite_url: str) -> None:
    engine = create_store_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()


def test_sqlite_journal_seq_is_the_rowid(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = create_store_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            # an INTEGER PRIMARY KEY aliases the rowid: no separate primary-key index
            assert conn.exec_driver_sql("PRAGMA index_list(journal)").all() == []
    finally:
        engine.dispose()


def test_a_failed_migration_leaves_no_half_built_schema(sqlite_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from alembic.operations import Operations

    real = Operations.create_index

    def failing(self: Operations, name: str, *args: object, **kwargs: object) -> object:
        if name == "ix_fills_order_id":
            raise RuntimeError("disk full")
        return real(self, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Operations, "create_index", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        upgrade(sqlite_url)
    monkeypatch.undo()

    engine = create_store_engine(sqlite_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    upgrade(sqlite_url)
    assert current_revision(sqlite_url) == head_revision()


@pytest.mark.parametrize(("url", "driver"), [
    ("postgresql://u@h/db", "postgresql+psycopg"),
    ("postgres://u@h/db", "postgresql+psycopg"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
    ("sqlite:///var/journal.db", "sqlite"),
])
def test_urls_are_mapped_to_the_psycopg3_driver(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


def test_an_in_memory_sqlite_url_is_refused_with_the_alternative() -> None:
    with pytest.raises(ValueError, match="memory://"):
        normalize_url("sqlite://")
