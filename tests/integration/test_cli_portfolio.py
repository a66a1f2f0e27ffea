"""`mcp-trading portfolio …` with no platform running: `equity` reads the journaled
end-of-day series offline (close over manual, one per day, --since); `snapshot` needs the
running platform and says so; a bad --since names the option's rule."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.adapters.store.sql import SqlJournalStore
from mcp_trading.cli import app
from mcp_trading.config import Settings
from mcp_trading.domain.events import EquitySnapshotted
from mcp_trading.kernel import codec

runner = CliRunner()
D = Decimal
NS = 1_000_000_000


@pytest.fixture(autouse=True)
def _sqlite_in_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "MCP_TRADING_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _journal(data_dir: Path) -> None:
    snaps = [EquitySnapshotted("paper", "2026-11-30", D("100100.5"), D("90000"),
                               (("AAPL", D(50), D("202.01")),), "close", "platform", 1 * NS),
             EquitySnapshotted("paper", "2026-11-30", D("1"), D("1"), (), "manual", "x", 2 * NS),
             EquitySnapshotted("paper", "2026-12-01", D("100200"), D("100200"), (), "manual",
                               "ops", 3 * NS)]
    with SqlJournalStore(Settings(data_dir=data_dir).resolved_database_url, migrate=True) as s:
        s.append([codec.segment_of(1, snaps)])


def _run(data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["portfolio", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def test_equity_lists_the_end_of_day_series_offline(tmp_path: Path) -> None:
    _journal(tmp_path)
    code, out = _run(tmp_path, "equity", "--json")
    assert code == 0, out
    points = json.loads(out)["points"]
    assert [(p["day"], p["reason"], p["equity"]) for p in points] == [
        ("2026-11-30", "close", "100100.5"), ("2026-12-01", "manual", "100200")]
    assert points[0]["positions"] == [{"symbol": "AAPL", "qty": "50", "mark": "202.01"}]
    code, out = _run(tmp_path, "equity", "--since", "2026-12-01", "--json")
    assert [p["day"] for p in json.loads(out)["points"]] == ["2026-12-01"]
    code, out = _run(tmp_path, "equity")
    assert code == 0 and "100100.5" in out


def test_bad_since_and_snapshot_without_a_platform_exit_2(tmp_path: Path) -> None:
    _journal(tmp_path)
    code, out = _run(tmp_path, "equity", "--since", "last week")
    assert code == 2 and "since" in out
    code, out = _run(tmp_path, "snapshot")
    assert code == 2 and "not running" in out
