"""`kill -9` of the real CLI on a real PostgreSQL store (issue 16's fault tests, distributed
mode's store). A backup killed while `pg_dump` runs, while its test restore fills the scratch
database, or while its checks run leaves nothing that lists or restores as a backup, and no
pg tool or scratch database behind it; the next backup verifies. An archive run killed after
some batches or while it writes journal segments leaves every row in exactly one of the hot
and archive tables and the whole journal; a re-run finishes with counts before == hot +
archive after. Skips without a server, fails under CI=true."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from sqlalchemy import func, select
from tests.integration.dataops.test_archive import counts, digest
from tests.integration.dataops.test_archive_crash import _ids, _whole_journal
from tests.integration.dataops.trading_days import trade_days

from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import orders_archive
from mcp_trading.config import Settings
from mcp_trading.dataops import pgadmin
from mcp_trading.dataops.archive import archive_dir
from mcp_trading.dataops.integrity import Locations, verify
from mcp_trading.dataops.retention import list_backups

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "mcp_trading"]


def _admin(url: str) -> str:
    return pgadmin.with_database(url, "postgres").replace("postgresql+psycopg://",
                                                          "postgresql://")


def _databases(url: str, prefix: str) -> list[str]:
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        return sorted(r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)))


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[str]:
    """A database of this test's own (backup verification makes <db>_verify_* beside it)."""
    name = f"mcpft_{uuid.uuid4().hex[:10]}"
    pgadmin.create_database(postgres_url, name)
    url = pgadmin.with_database(postgres_url, name)
    upgrade(url)
    try:
        yield url
    finally:
        for db in _databases(postgres_url, name):
            pgadmin.drop_database(postgres_url, db)


def _env(data: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCP_TRADING_")}
    return env | {"MCP_TRADING_DATA_DIR": str(data), "DATABASE_URL": url}


def _cli(data: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=_env(data, url),
                          timeout=300, check=False)


def _kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool],
               timeout: float = 120) -> bool:
    """SIGKILL `proc` the moment `ready()` holds; False when it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            return True
        time.sleep(0.005)
    return False


def _children(pid: int, name: str) -> bool:
    try:
        return any(c.name() == name for c in psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return False


def _pg_tools_of(data: Path) -> list[psutil.Process]:
    """pg_dump / pg_restore processes still working for a backup in `data` (orphans)."""
    out = []
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if p.info["name"] in ("pg_dump", "pg_restore") and str(data) in cmd:
            out.append(p)
    return out


def _fill(url: str) -> None:
    """Bulk in the store (incompressible), so pg_dump and the test restore take a while."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TABLE filler (b bytea)")
        with conn.cursor().copy("COPY filler (b) FROM STDIN") as copy:
            for _ in range(400):
                copy.write_row((os.urandom(1 << 16),))


@pytest.mark.parametrize("point", ["pg_dump", "pg_restore", "checks"])
def test_kill_9_during_a_postgres_backup_leaves_nothing_that_looks_valid(
        pg_store: str, postgres_url: str, tmp_path: Path, point: str) -> None:
    data = tmp_path / "var"
    trade_days(data, days=3, database_url=pg_store)
    _fill(pg_store)
    root, db = data / "backups", pgadmin.database_of(pg_store)
    proc = subprocess.Popen([*CLI, "backup"], env=_env(data, pg_store),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready() -> bool:
        if point == "checks":  # the scratch database restored, its checks under way
            return (len(_databases(postgres_url, f"{db}_verify_")) == 1
                    and not _children(proc.pid, "pg_restore"))
        return _children(proc.pid, point)

    assert _kill_when(proc, ready), f"the backup ended before {point} ran"
    deadline = time.monotonic() + 2  # a moment for the kernel to deliver the parent's death
    while _pg_tools_of(data) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pg_tools_of(data) == [], "a pg tool outlived the killed backup"
    assert list_backups(root) == []  # only a .partial, never listed
    refused = _cli(data, pg_store, "restore", "latest", "--yes")
    assert refused.returncode == 2 and "no verified backup" in " ".join(refused.stderr.split())
    again = _cli(data, pg_store, "backup", "--json")  # clears the leftovers, then verifies
    assert again.returncode == 0, again.stderr
    assert [p.name for p in root.iterdir() if p.name.endswith(".partial")] == []
    assert [e["status"] for e in list_backups(root)] == ["verified"]
    assert _databases(postgres_url, f"{db}_") == []  # no scratch database left behind


def _archived(url: str) -> int:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(orders_archive))
                       .scalar_one())
    finally:
        engine.dispose()


def _segments(settings: Settings) -> bool:
    folder = archive_dir(settings)
    return folder.is_dir() and any(p.name.endswith(".seg.zst") for p in folder.iterdir())


def test_kill_9_during_a_postgres_archive_loses_nothing_and_a_rerun_finishes(
        pg_store: str, tmp_path: Path) -> None:
    data = tmp_path / "var"
    trade_days(data, days=20, database_url=pg_store)
    settings = Settings(data_dir=data, database_url=pg_store)
    before, state, journal_before = counts(settings), digest(settings), _whole_journal(settings)
    all_orders, _, all_fills, _ = _ids(pg_store)
    argv = [*CLI, "archive", "--before", "2024-01-16", "--batch", "3", "--json"]
    points: list[Callable[[], bool]] = [
        lambda: _archived(pg_store) >= 20, lambda: _archived(pg_store) >= 120,
        lambda: _archived(pg_store) >= 250, lambda: _segments(settings)]
    killed = 0
    for ready in points:
        proc = subprocess.Popen(argv, env=_env(data, pg_store), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        killed += _kill_when(proc, ready)
        proc.wait(60)
        hot_o, cold_o, hot_f, cold_f = _ids(pg_store)
        assert not hot_o & cold_o and hot_o | cold_o == all_orders
        assert not hot_f & cold_f and hot_f | cold_f == all_fills
        assert _whole_journal(settings) == journal_before
        assert digest(settings) == state
    assert killed == len(points), "each kill should land mid-run; make the run longer"
    done = _cli(data, pg_store, "archive", "--before", "2024-01-16")
    assert done.returncode == 0, done.stderr
    after = counts(settings)
    assert after["orders"] + after["orders_archive"] == before["orders"]
    assert after["fills"] + after["fills_archive"] == before["fills"]
    assert after["orders_archive"] == 280  # 14 days (Jan 2-15) of 20 orders
    assert _whole_journal(settings) == journal_before
    assert digest(settings) == state
    checks = verify(Locations(pg_store, pg_store, archive_dir(settings)))
    assert all(c.ok for c in checks), checks
