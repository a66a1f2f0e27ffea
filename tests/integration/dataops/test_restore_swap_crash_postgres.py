"""Distributed mode's restore swap (PostgreSQL database rename + the archived journal directory)
is all or nothing: `kill -9` of the real CLI before its plan, after each move and before the
database rename; the next command finds the old database with the old archive or the restored
database with the backup's archive, never one with the other's."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from tests.integration.dataops.trading_days import trade_days

from mcp_trading.adapters.store import upgrade
from mcp_trading.config import Settings
from mcp_trading.dataops import checks, pgadmin, swap

pytestmark = pytest.mark.slow

KILLER = Path(__file__).with_name("swap_killer.py")


def _admin(url: str) -> str:
    return pgadmin.with_database(url, "postgres").replace("postgresql+psycopg://",
                                                          "postgresql://")


@pytest.fixture
def prefix(postgres_url: str) -> Iterator[str]:
    name = f"mcpsw_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(_admin(postgres_url), autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            (name + "%",)).fetchall()
    for (db,) in rows:
        pgadmin.drop_database(postgres_url, db)


def _cli(data: Path, url: str, *args: str, prog: tuple[str, ...] = ("-m", "mcp_trading")
         ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_TRADING_")}
    env |= {"MCP_TRADING_DATA_DIR": str(data), "DATABASE_URL": url}
    return subprocess.run([sys.executable, *prog, *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def _archive(data: Path) -> str:
    files = sorted(p for p in (data / "archive").glob("*") if p.name != ".archive.lock")
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()


def test_kill_9_during_a_postgres_restore_swap_leaves_old_or_new(
        postgres_url: str, prefix: str, tmp_path: Path) -> None:
    template = pgadmin.with_database(postgres_url, prefix)
    pgadmin.create_database(postgres_url, prefix)
    upgrade(template)
    data = tmp_path / "template"
    trade_days(data, days=4, database_url=template)
    assert _cli(data, template, "archive", "--before", "2024-01-04").returncode == 0
    backed = _cli(data, template, "backup", "--json")
    assert backed.returncode == 0, backed.stderr
    manifest = json.loads(backed.stdout)
    new = (manifest["journal_last_seq"], None)
    trade_days(data, start="2024-01-08", days=2, seed=5, database_url=template)
    assert _cli(data, template, "archive", "--before", "2024-01-09").returncode == 0
    old = (checks.journal_last_seq(template), _archive(data))
    outcomes = []
    for kill_at in range(-1, 6):
        name = f"{prefix}_k{kill_at + 1}"
        with psycopg.connect(_admin(postgres_url), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # pools
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (prefix,))
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{prefix}"')
        url, where = pgadmin.with_database(postgres_url, name), tmp_path / name
        shutil.copytree(data, where)
        run = _cli(where, url, str(kill_at), "restore", manifest["path"], "--yes",
                   prog=(str(KILLER),))
        if run.returncode == 0:  # past the last move
            outcomes.append("done")
            break
        assert run.returncode == -signal.SIGKILL, run.stderr
        assert (where / swap.PLAN_NAME).exists() == (kill_at >= 0)
        swap.finish_swap(Settings(data_dir=where, database_url=url))
        now = (checks.journal_last_seq(url), _archive(where))
        if kill_at == -1:
            assert now == old  # before the commit point nothing moved
        else:
            assert now[0] == new[0], f"kill at {kill_at}: the database is not the restored one"
            assert new[1] is None or now[1] == new[1]
            new = now  # every later kill point must end in the same restored set
        outcomes.append("old" if now == old else "new")
        checked = _cli(where, url, "verify", "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert outcomes[0] == "old" and outcomes[-1] == "done" and outcomes.count("new") >= 3
