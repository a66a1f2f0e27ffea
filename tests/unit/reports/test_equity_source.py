"""The equity history reader: EquitySnapshotted events out of a real SQLite journal, in
segments and single records, filtered by account and time; the end-of-day pick per day."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.sql import SqlJournalStore
from mcp_trading.config import Settings
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.events import EquitySnapshotted, TradingDayStarted
from mcp_trading.kernel import codec
from mcp_trading.reports.equity_source import (
    equity_snapshots,
    last_per_day,
    read_equity_snapshots,
)

D = Decimal


def _snap(account: str, day: str, equity: str, reason: str, ts: int) -> EquitySnapshotted:
    return EquitySnapshotted(account, day, D(equity), D("100"), (("AAPL", D("2"), D("3.1")),),
                             reason, "test", ts)


SNAPS = [
    _snap("paper", "2026-12-01", "1000.10", "manual", 10),
    _snap("swing", "2026-12-01", "2000.20", "close", 20),
    _snap("paper", "2026-12-01", "1001.33", "close", 30),
    _snap("paper", "2026-12-01", "1002.00", "manual", 40),  # after the close: not the EOD
    _snap("paper", "2026-12-02", "1003.00", "manual", 50),
]


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'trading.db'}"
    with SqlJournalStore(url, migrate=True) as store:
        day = TradingDayStarted("2026-12-01", 0, 1, {}, 5)
        # a segment mixing kinds, a single snapshot record, then another segment
        store.append([codec.segment_of(1, [day, SNAPS[0], SNAPS[1]])])
        store.append([codec.record(4, SNAPS[2])])
        store.append([codec.segment_of(5, [SNAPS[3], day, SNAPS[4]])])
    return url


def test_every_snapshot_is_read_back_exactly_in_journal_order(url: str) -> None:
    got = read_equity_snapshots(url)
    assert got == SNAPS
    assert got[2].equity == D("1001.33") and got[0].positions == (("AAPL", D("2"), D("3.1")),)


def test_filters_by_account_and_since(url: str, tmp_path: Path) -> None:
    assert read_equity_snapshots(url, account_id="swing") == [SNAPS[1]]
    assert read_equity_snapshots(url, account_id="paper", since_ns=30) == SNAPS[2:]
    assert read_equity_snapshots(url, account_id="nobody") == []


def test_takes_an_engine_or_the_settings(url: str, tmp_path: Path) -> None:
    engine: Engine = create_store_engine(url)
    try:
        assert read_equity_snapshots(engine, since_ns=45) == [SNAPS[4]]
        with engine.connect():  # the engine is left open for its owner
            pass
    finally:
        engine.dispose()
    assert read_equity_snapshots(Settings(data_dir=tmp_path)) == SNAPS


def test_the_memory_store_is_refused_with_the_way_out() -> None:
    with pytest.raises(InvalidError, match="equity_snapshots"):
        read_equity_snapshots("memory://")


def test_records_of_any_store_give_the_same_events() -> None:
    records = [codec.record(i + 1, s) for i, s in enumerate(SNAPS)]
    assert equity_snapshots(records, account_id="paper", since_ns=11) == SNAPS[2:3] + SNAPS[3:]


def test_last_per_day_prefers_the_close_then_the_latest() -> None:
    assert last_per_day(SNAPS) == [SNAPS[2], SNAPS[4], SNAPS[1]]
    later_close = _snap("paper", "2026-12-01", "1004", "close", 60)
    assert last_per_day([*SNAPS, later_close])[0] == later_close
