"""`mcp-trading db maintain` / scripts/database_maintenance.sh on real stores: SQLite (WAL
checkpoint, integrity check, ANALYZE, VACUUM only when worth it and never under a running
platform) and PostgreSQL (VACUUM ANALYZE of the platform's tables)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.adapters.store.migrate import upgrade
from mcp_trading.cli import app
from mcp_trading.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _store(tmp_path: Path, *, fragment: bool) -> Path:
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.resolved_database_url)
    db = tmp_path / "trading.db"
    if fragment:  # ~4 MB written, then freed: most of the file is free pages
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE scratch (blob BLOB)")
            conn.executemany("INSERT INTO scratch VALUES (?)", [(b"x" * 4000,)] * 1000)
        with sqlite3.connect(db) as conn:
            conn.execute("DROP TABLE scratch")
    return db


def _steps(out: str) -> dict[str, dict[str, object]]:
    doc = json.loads(out)
    assert doc["ok"] is True, doc
    (store,) = [s for s in doc["stores"] if s["store"] == "trading.db"]
    return {str(s["step"]): s for s in store["steps"]}


def test_sqlite_maintenance_vacuums_a_fragmented_store(tmp_path: Path) -> None:
    db = _store(tmp_path, fragment=True)
    before = db.stat().st_size
    got = CliRunner().invoke(app, ["db", "maintain", "--json", "--data-dir", str(tmp_path)])
    assert got.exit_code == 0, got.output
    steps = _steps(got.stdout)
    assert steps["integrity_check"]["result"] == "ok"
    assert steps["wal_checkpoint"]["ok"] and steps["analyze"]["ok"]
    assert steps["vacuum"]["ran"] is True
    assert db.stat().st_size < before / 2  # the freed pages are gone
    with sqlite3.connect(db) as conn:  # planner statistics written
        assert conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0


def test_vacuum_is_skipped_when_not_worth_it_or_while_the_platform_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _store(tmp_path, fragment=False)
    quiet = CliRunner().invoke(app, ["db", "maintain", "--json", "--data-dir", str(tmp_path)])
    assert _steps(quiet.stdout)["vacuum"]["reason"] == "not worth it"
    _store(tmp_path, fragment=True)
    monkeypatch.setattr("mcp_trading.cli.ops._running", lambda _s: {"pid": 1})
    busy = CliRunner().invoke(app, ["db", "maintain", "--vacuum", "always", "--json",
                                    "--data-dir", str(tmp_path)])
    vacuum = _steps(busy.stdout)["vacuum"]
    assert vacuum["ran"] is False and "platform is running" in str(vacuum["reason"])


def test_a_corrupt_store_fails_and_bad_input_is_refused(tmp_path: Path) -> None:
    db = _store(tmp_path, fragment=False)
    with sqlite3.connect(db) as conn:  # an index that disagrees with its table
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("CREATE TABLE t (a INTEGER)")
        conn.execute("CREATE INDEX t_a ON t (a)")
        conn.execute("INSERT INTO t VALUES (1), (2), (3)")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 't_a'").fetchone()[0]
    with sqlite3.connect(db) as conn:  # point the index at the table's pages: inconsistent
        table_root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 't'"
                                  ).fetchone()[0]
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 't_a'", (table_root,))
        assert root != table_root
    got = CliRunner().invoke(app, ["db", "maintain", "--json", "--data-dir", str(tmp_path)])
    assert got.exit_code == 1
    doc = json.loads(got.stdout)
    assert doc["failed"] == ["trading.db"]
    bad = CliRunner().invoke(app, ["db", "maintain", "--vacuum", "sometimes", "--data-dir",
                                   str(tmp_path)])
    assert bad.exit_code == 2 and "auto, always, never" in bad.output


def test_postgres_vacuum_analyzes_the_platforms_tables(postgres_schema_url: str,
                                                       tmp_path: Path) -> None:
    upgrade(postgres_schema_url)
    settings_env = {"MCP_TRADING_DATABASE_URL": postgres_schema_url}
    got = CliRunner().invoke(app, ["db", "maintain", "--json", "--data-dir", str(tmp_path)],
                             env=settings_env)
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    (pg,) = [s for s in doc["stores"] if s["kind"] == "postgres"]
    (step,) = pg["steps"]
    assert step["step"] == "vacuum_analyze" and step["tables"] >= 10


def test_the_runbook_script_wraps_it(tmp_path: Path) -> None:
    _store(tmp_path, fragment=False)
    run = subprocess.run(["bash", str(ROOT / "scripts" / "database_maintenance.sh"),
                          "--data-dir", str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Database maintenance completed" in run.stdout
    bad = subprocess.run(["bash", str(ROOT / "scripts" / "database_maintenance.sh"),
                          "--vacuum", "sometimes", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Database maintenance failed" in bad.stdout


def test_the_monitor_reads_postgres_connections(postgres_schema_url: str) -> None:
    from mcp_trading.dataops.monitor import store_figures

    upgrade(postgres_schema_url)
    (pg,) = store_figures(Settings(database_url=postgres_schema_url))
    assert pg["kind"] == "postgres" and "error" not in pg, pg
    assert pg["connections"] >= 1 and pg["active_connections"] >= 1  # our own query's
    assert pg["size_bytes"] > 0
