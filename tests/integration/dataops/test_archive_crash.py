"""`kill -9` during `mcp-trading archive` (a real process on real SQLite files): after every
kill each row is in exactly one of the hot and archive tables, the whole journal is still
there (segments + hot) and recovers to the same state; re-running finishes the job."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.dataops.test_archive import counts, digest
from tests.integration.dataops.trading_days import trade_days

from mcp_trading.adapters.store import open_store
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import fills, fills_archive, orders, orders_archive
from mcp_trading.config import Settings
from mcp_trading.dataops import segments
from mcp_trading.dataops.archive import archive_dir
from mcp_trading.dataops.integrity import Locations, verify

pytestmark = pytest.mark.slow

KILLS = 5


def _ids(url: str) -> tuple[set[str], set[str], set[int], set[int]]:
    engine = create_store_engine(url)
    with engine.connect() as conn:
        out = (set(conn.execute(select(orders.c.id)).scalars()),
               set(conn.execute(select(orders_archive.c.id)).scalars()),
               set(conn.execute(select(fills.c.seq)).scalars()),
               set(conn.execute(select(fills_archive.c.seq)).scalars()))
    engine.dispose()
    return out


def _whole_journal(settings: Settings) -> list[tuple[int, int, int, bytes]]:
    store = open_store(settings.resolved_database_url)
    try:
        return [tuple(r) for r in segments.full_journal(archive_dir(settings), store)]
    finally:
        store.close()


def _archive_process(data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mcp_trading", "archive", "--before", "2024-01-16", "--batch", "3",
         "--json", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def test_kill_9_during_archive_loses_nothing_and_a_rerun_finishes(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    trade_days(data_dir, days=20)
    settings = Settings(data_dir=data_dir)
    before, state, journal_before = counts(settings), digest(settings), _whole_journal(settings)
    all_orders, _, all_fills, _ = _ids(settings.resolved_reports_url)
    rng = random.Random(16)
    killed, delay = 0, 2.5  # the CLI starts in ~0.7 s on a quiet box; a full run takes longer
    for _ in range(KILLS * 4):  # until KILLS kills landed mid-run, whatever the box's speed
        if killed == KILLS:
            break
        proc = _archive_process(data_dir)
        time.sleep(rng.uniform(0.3, 1.0) * delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        else:
            delay *= 0.7  # the run finished first: kill sooner next time
        proc.wait(30)
        hot_o, cold_o, hot_f, cold_f = _ids(settings.resolved_reports_url)
        assert not hot_o & cold_o and hot_o | cold_o == all_orders
        assert not hot_f & cold_f and hot_f | cold_f == all_fills
        assert _whole_journal(settings) == journal_before
        assert digest(settings) == state
    assert killed == KILLS, "the kills should land mid-run; make the run longer"
    done = subprocess.run([sys.executable, "-m", "mcp_trading", "archive", "--before",
                           "2024-01-16", "--data-dir", str(data_dir)], capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    after = counts(settings)
    assert after["orders"] + after["orders_archive"] == before["orders"]
    assert after["fills"] + after["fills_archive"] == before["fills"]
    assert after["orders_archive"] == 280  # 14 days (Jan 2-15) of 20 orders
    assert _whole_journal(settings) == journal_before
    assert digest(settings) == state
    checks = verify(Locations(settings.resolved_database_url, settings.resolved_reports_url,
                              archive_dir(settings)))
    assert all(c.ok for c in checks), checks
    shutil.rmtree(data_dir)
