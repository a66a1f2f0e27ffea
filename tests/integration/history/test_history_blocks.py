"""History blocks (adapters/history/sql_blocks.py) on SQLite and PostgreSQL: whatever the writes
(overlapping imports, corrections, deletes, an archive run), a read served from the blocks is
the read of the rows, and the series ranges are the rows' GROUP BY."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from mcp_trading.adapters.history import BarColumns, HistoryStore, open_history_store
from mcp_trading.adapters.history.sql import SqlHistoryStore
from mcp_trading.adapters.history.sql_blocks import block_shift, read_blocks, series_from_blocks
from mcp_trading.adapters.history.sql_rows import read_rows, series_rows
from mcp_trading.adapters.store.migrate import upgrade

MINUTE = 60_000_000_000
DAY = 1440 * MINUTE


def _bars(ts: np.ndarray[Any, Any], rng: np.random.Generator) -> BarColumns:
    close = np.round(rng.uniform(10, 500, ts.size), 2)
    volume = np.where(rng.random(ts.size) < 0.1, math.nan, np.round(rng.uniform(0, 1e6, ts.size)))
    adj = np.where(rng.random(ts.size) < 0.5, math.nan, rng.uniform(0.5, 1.0, ts.size))
    return BarColumns(ts.astype(np.int64), close - 1, close + 1, close - 2, close, volume, adj)


def _write(store: HistoryStore, key: tuple[str, str, str], bars: BarColumns) -> None:
    with store.writer() as writer:
        writer.add(*key, bars)


def _same(a: BarColumns, b: BarColumns) -> None:
    for name, x, y in zip(BarColumns._fields, a, b, strict=True):
        assert np.array_equal(x, y, equal_nan=True), name
        assert np.array_equal(np.signbit(x), np.signbit(y)), name  # -0.0 prints as "-0.0"


def _agrees(store: SqlHistoryStore, keys: list[tuple[str, str, str]],
            rng: np.random.Generator) -> None:
    """Every series: random windows, limits and directions read the same from both tables."""
    conn = store.engine.raw_connection()
    try:
        driver = conn.driver_connection
        assert sorted(series_from_blocks(store.dialect, driver, None)) == \
            sorted(series_rows(store.dialect, driver, None))
        for key in keys:
            rows = read_rows(store.dialect, driver, key, start=None, end=None, limit=None,
                             latest=False)
            lo, hi = (int(rows.ts[0]), int(rows.ts[-1])) if rows.size else (0, DAY)
            span = hi - lo + 1
            cases: list[tuple[int | None, int | None, int | None, bool]] = [
                (None, None, None, False), (None, None, 5, True), (None, None, 5, False)]
            for _ in range(25):
                a = int(lo - span // 10 + rng.integers(0, span + span // 5))
                b = a + int(rng.integers(0, span))
                limit = [None, 1, 7, 500, 20_000][int(rng.integers(0, 5))]
                cases.append((a, b, limit, bool(rng.integers(0, 2))))
                cases.append((None, b, limit, True))
                cases.append((a, None, limit, False))
            for start, end, limit, latest in cases:
                args = {"start": start, "end": end, "limit": limit, "latest": latest}
                _same(read_blocks(store.dialect, driver, key, **args),
                      read_rows(store.dialect, driver, key, **args))
    finally:
        conn.close()


def test_reads_from_blocks_equal_reads_of_the_rows_through_every_kind_of_write(
        durable_history_url: str) -> None:
    rng = np.random.default_rng(7)
    store = open_history_store(durable_history_url)
    assert isinstance(store, SqlHistoryStore)
    minute, day = ("AAPL", "import:m", "1Min"), ("AAPL", "import:d", "1Day")
    other = ("MSFT", "import:d", "1Day")
    try:
        t0 = 1_600_000_000 * 1_000_000_000
        block = 1 << block_shift("1Min")
        # ~3 blocks of minute bars with gaps, daily bars back to 1950 (before the epoch)
        _write(store, minute, _bars(np.sort(rng.choice(3 * block // MINUTE, 9_000,
                                                       replace=False)) * MINUTE + t0, rng))
        days = np.arange(-7_300, 20_000, 1, dtype=np.int64) * DAY
        _write(store, day, _bars(days[rng.random(days.size) < 0.7], rng))
        _write(store, other, _bars(days[:50], rng))
        _agrees(store, [minute, day, other], rng)
        # a correction across a block boundary, and new bars inside the range
        edge = (t0 // block + 1) * block
        _write(store, minute, _bars(np.arange(edge - 30 * MINUTE, edge + 30 * MINUTE, MINUTE),
                                    rng))
        # an overlapping import: some bars new, some corrected, some unchanged, a -0.0
        days_again = days[::3][:4_000]
        corrected = _bars(days_again, rng)
        corrected.open[::7] = -0.0
        _write(store, day, corrected)
        _agrees(store, [minute, day, other], rng)
        # a re-import of what is stored changes no block
        _write(store, other, store.read(*other))
        _agrees(store, [minute, day, other], rng)
        assert store.delete("AAPL", "import:d") > 0
        _agrees(store, [minute, day, other], rng)
        assert store.read(*day).size == 0
        assert [s.source for s in store.series("AAPL")] == ["import:m"]
        store.delete("MSFT")
        assert store.series("MSFT") == []
    finally:
        store.close()


def test_the_migration_builds_the_blocks_of_rows_stored_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    try:
        upgrade(engine, "0012")
        rng = np.random.default_rng(3)
        rows = _bars(np.arange(0, 6_000, dtype=np.int64) * DAY, rng)
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO history_bars (symbol, source, timeframe, ts, open, high, low, "
                "close, volume, adj_factor) VALUES ('IBM', 'sample', '1Day', :ts, :o, :h, :l, "
                ":c, :v, :a)"),
                [{"ts": int(t), "o": o, "h": h, "l": lo, "c": c,
                  "v": None if math.isnan(v) else v, "a": None if math.isnan(a) else a}
                 for t, o, h, lo, c, v, a in zip(*(col.tolist() for col in rows), strict=True)])
        upgrade(engine)
    finally:
        engine.dispose()
    store = open_history_store(url)
    try:
        _same(store.read("IBM", "sample", "1Day"), rows)
        assert store.series("IBM")[0].bars == 6_000
    finally:
        store.close()


@pytest.mark.parametrize("timeframe", ["1Min", "5Min", "1Hour", "1Day"])
def test_a_full_block_holds_about_four_thousand_bars(timeframe: str) -> None:
    from mcp_trading.adapters.history.contract import HISTORY_TIMEFRAMES

    bars_per_block = (1 << block_shift(timeframe)) / (HISTORY_TIMEFRAMES[timeframe] * MINUTE)
    assert 2_900 < bars_per_block < 5_800
