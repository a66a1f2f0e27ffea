"""Equity history end to end on the platform as a user starts it: `mcp-trading portfolio
snapshot` journals a snapshot through the running platform; a backup, a later snapshot, then
a restore (with --stop) and a restart: the backup's snapshot is there (the backup copies the
journal), the later one is not; the intraday sampler of the real process fills the intraday
series; the CLI refuses clearly when no platform runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import httpx
from tests.e2e.harness import RunningPlatform

from mcp_trading.config import Settings
from mcp_trading.reports.equity_source import read_equity_snapshots


def _series(p: RunningPlatform, **params: str) -> dict[str, list[dict[str, str]]]:
    r = httpx.get(p.url("portfolio", "/portfolio/equity"), params=params, timeout=15)
    assert r.status_code == 200, r.text
    return {a["account_id"]: a["points"] for a in r.json()["accounts"]}


def test_snapshots_survive_a_restart_and_a_backup_restore(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory(MCP_TRADING_EQUITY_SAMPLE_S="1")
    p.wait_for(lambda: p.health("market-data").get("market_data_status") == "streaming")
    te = p.client("trading-engine")
    placed = te.post("/orders", json={"symbol": "SPY", "qty": 3, "side": "buy"})
    assert placed.status_code == 200, placed.text
    taken = p.cli("portfolio", "snapshot", "--json")
    assert taken.returncode == 0, taken.stdout + taken.stderr
    (snap,) = json.loads(taken.stdout)["snapshots"]
    assert snap["account_id"] == "paper" and snap["reason"] == "manual"
    (position,) = snap["positions"]
    assert position["symbol"] == "SPY" and position["qty"] == "3"
    assert Decimal(snap["equity"]) == Decimal(snap["cash"]) + 3 * Decimal(position["mark"])
    # the intraday sampler of the running process (every second here)
    p.wait_for(lambda: len(_series(p, interval="intraday")["paper"]) >= 2, timeout=20)
    assert _series(p)["paper"] == [snap]

    backed = p.cli("backup", "--json")
    assert backed.returncode == 0, backed.stdout + backed.stderr
    later = p.cli("portfolio", "snapshot", "--json")
    assert later.returncode == 0, later.stderr
    assert len(read_equity_snapshots(Settings(data_dir=p.data_dir))) == 2
    restored = p.cli("restore", "latest", "--yes", "--stop")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert p.process is not None
    p.process.wait(30)
    # the backup's journal: the first snapshot, not the one taken after the backup
    offline = read_equity_snapshots(Settings(data_dir=p.data_dir))
    assert [(s.ts, str(s.equity)) for s in offline] == [
        (offline[0].ts, snap["equity"])] and len(offline) == 1
    listed = p.cli("portfolio", "equity", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["points"] == [snap]
    refused = p.cli("portfolio", "snapshot")
    assert refused.returncode == 2 and "not running" in refused.stderr
    p.start()  # a restart on the restored journal
    assert _series(p)["paper"] == [snap]
