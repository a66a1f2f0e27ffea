"""The intraday equity sample store, one contract on every backend (memory, SQLite,
PostgreSQL): samples come back exact and in time order, filtered by account and time and
bounded by a limit; pruning removes exactly the older ones."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.equity_samples import EquitySample, EquitySamples, open_equity_samples

D = Decimal


@pytest.fixture
def samples(store_url: str) -> Iterator[EquitySamples]:
    if store_url != "memory://":
        upgrade(store_url)
    opened = open_equity_samples(store_url)
    yield opened
    opened.close()


ROWS = [EquitySample(30, "b", D("200.125"), D("50")),
        EquitySample(10, "a", D("100000.01"), D("99000.5")),
        EquitySample(20, "a", D("100001.333333"), D("99000.5")),
        EquitySample(40, "a", D("-3.20"), D("0"))]


def test_samples_come_back_exact_in_time_order(samples: EquitySamples) -> None:
    samples.add(ROWS[:2])
    samples.add(ROWS[2:])
    samples.add([])
    got = samples.read(["a", "b"])
    assert got == sorted(ROWS)
    assert got[1].equity == D("100001.333333") and str(got[3].equity) == "-3.20"


def test_read_filters_by_account_since_and_limit(samples: EquitySamples) -> None:
    samples.add(ROWS)
    assert samples.read(["a"], since_ns=20) == [ROWS[2], ROWS[3]]
    assert samples.read(["a", "b"], limit=2) == [ROWS[1], ROWS[2]]
    assert samples.read(["nobody"]) == [] and samples.read([]) == []


def test_prune_removes_only_older_samples(samples: EquitySamples) -> None:
    samples.add(ROWS)
    assert samples.prune(before_ns=30) == 2
    assert samples.read(["a", "b"]) == [ROWS[0], ROWS[3]]
    assert samples.prune(before_ns=30) == 0


def test_the_equity_snapshot_reader_reads_both_sql_backends(sql_url: str) -> None:
    from mcp_trading.adapters.store.sql import SqlJournalStore
    from mcp_trading.domain.events import EquitySnapshotted, TradingDayStarted
    from mcp_trading.kernel import codec
    from mcp_trading.reports.equity_source import read_equity_snapshots

    snaps = [EquitySnapshotted(a, "2026-12-01", D("1000.015"), D("10"),
                               (("SPY", D("-2"), D("495.0075")),), "close", "platform", 9)
             for a in ("paper", "swing")]
    with SqlJournalStore(sql_url, migrate=True) as store:
        store.append([codec.segment_of(1, [TradingDayStarted("2026-12-01", 0, 1, {}, 1),
                                           snaps[0]])])
        store.append([codec.record(3, snaps[1])])
    assert read_equity_snapshots(sql_url) == snaps
    assert read_equity_snapshots(sql_url, account_id="swing", since_ns=9) == snaps[1:]
