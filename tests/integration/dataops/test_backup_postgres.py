"""Backup and restore against PostgreSQL (distributed mode's store): pg_dump -Fc while a
kernel trades, verification in a scratch database, restore by database rename with the old
one kept; a corrupted dump is refused. Skips without a server, fails under CI=true."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from mcp_trading.adapters.store import Projector, open_store, upgrade
from mcp_trading.dataops import checks, pgadmin

DRIVER = Path(__file__).parents[1] / "crash_driver.py"


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[str]:
    """A database of this test's own (restore renames databases: never the shared one)."""
    name = f"mcpbk_{uuid.uuid4().hex[:10]}"
    pgadmin.create_database(postgres_url, name)
    url = pgadmin.with_database(postgres_url, name)
    try:
        yield url
    finally:
        with psycopg.connect(pgadmin.with_database(postgres_url, "postgres").replace(
                "postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                (name + "%",)).fetchall()
        for (db,) in rows:
            pgadmin.drop_database(postgres_url, db)


def _cli(data: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MCP_TRADING_DATA_DIR": str(data), "DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "mcp_trading", *args], capture_output=True,
                          text=True, env=env, timeout=180, check=False)


def test_postgres_backup_verifies_and_restores(pg_store: str, tmp_path: Path) -> None:
    upgrade(pg_store)
    trader = subprocess.Popen([sys.executable, str(DRIVER), pg_store, "--seed", "4"],
                              stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while checks.journal_last_seq(pg_store) < 50 and time.monotonic() < deadline:
            time.sleep(0.2)
        source = open_store(pg_store)
        projector = Projector(pg_store, source=source)
        projector.catch_up()
        projector.close()
        source.close()
        backed = _cli(tmp_path, pg_store, "backup", "--json")  # while it trades
    finally:
        trader.kill()
        trader.wait(10)
    assert backed.returncode == 0, backed.stderr
    manifest = json.loads(backed.stdout)
    assert manifest["status"] == "verified"
    assert manifest["files"][0]["kind"] == "postgres"
    seq = manifest["journal_last_seq"]
    assert seq >= 50 and checks.journal_last_seq(pg_store) >= seq

    dump = Path(manifest["path"]) / manifest["files"][0]["path"]
    good = dump.read_bytes()
    dump.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])
    refused = _cli(tmp_path, pg_store, "restore", "latest", "--yes")
    assert refused.returncode == 1 and "sha256" in refused.stderr
    dump.write_bytes(good)

    restored = _cli(tmp_path, pg_store, "restore", "latest", "--yes", "--json")
    assert restored.returncode == 0, restored.stderr
    report = json.loads(restored.stdout)
    assert report["ok"]
    assert report["rollback"]["database"].startswith(pgadmin.database_of(pg_store))
    assert checks.journal_last_seq(pg_store) == seq
    rollback_url = pgadmin.with_database(pg_store, report["rollback"]["database"])
    assert checks.journal_last_seq(rollback_url) >= seq  # the replaced data, kept
