"""read_bars: which stored series a read uses, roll-ups through it, adjustment, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcp_trading.adapters.calendars import NyseCalendar
from mcp_trading.adapters.history import (
    BarColumns,
    HistoryStore,
    MemoryHistoryStore,
    SeriesRange,
    choose_series,
    read_bars,
)
from mcp_trading.domain.errors import InvalidError, NotFoundError

DAY = 86_400_000_000_000
MIN = 60_000_000_000
T0 = 1_709_874_000_000_000_000  # 2024-03-08T05:00:00Z, midnight in New York (a Friday)


def cols(ts: list[int], close: float, adj: float = math.nan) -> BarColumns:
    n = len(ts)
    c = np.full(n, close)
    return BarColumns(np.array(ts, dtype=np.int64), c, c + 1, c - 1, c, np.full(n, 100.0),
                      np.full(n, adj))


def put(store: HistoryStore, source: str, timeframe: str, data: BarColumns) -> None:
    with store.writer() as writer:
        writer.add("AAPL", source, timeframe, data)


def s(source: str, timeframe: str, first: int, last: int, bars: int) -> SeriesRange:
    return SeriesRange("AAPL", source, timeframe, first, last, bars)


def test_the_series_covering_the_range_wins_then_the_finest_then_the_name() -> None:
    series = [s("alphavantage", "1Day", 0, 100, 101), s("sample", "1Day", 50, 100, 51),
              s("import:x", "1Min", 0, 100, 10_000), s("zeta", "1Min", 0, 100, 10_000)]

    assert choose_series(series, "1Day", start=0, end=100).source == "import:x"  # type: ignore[union-attr]
    assert choose_series(series, "1Day", start=60, end=100,
                         source="sample").source == "sample"  # type: ignore[union-attr]


def test_when_none_covers_the_most_bars_in_range_wins() -> None:
    series = [s("a", "1Day", 0, 100, 101), s("b", "1Day", 40, 200, 161)]

    assert choose_series(series, "1Day", start=-50, end=250).source == "b"  # type: ignore[union-attr]


def test_the_simulator_and_finer_or_non_dividing_timeframes_are_never_chosen() -> None:
    series = [s("simulator", "1Min", 0, 100, 100), s("x", "15Min", 0, 100, 7),
              s("y", "1Day", 0, 100, 2)]

    assert choose_series(series, "5Min", start=None, end=None) is None
    assert choose_series(series, "1Hour", start=None, end=None).source == "x"  # type: ignore[union-attr]
    assert choose_series(series, "1Min", start=None, end=None) is None


def test_no_qualifying_history_is_none_so_the_live_feed_answers() -> None:
    store = MemoryHistoryStore()
    put(store, "simulator", "1Min", cols([T0], 10))

    assert read_bars(store, "AAPL", "1Min") is None


def test_an_explicit_source_without_bars_is_not_found_naming_the_stored_ones() -> None:
    store = MemoryHistoryStore()
    put(store, "sample", "1Day", cols([T0], 10))

    with pytest.raises(NotFoundError, match="sources stored: sample"):
        read_bars(store, "AAPL", "1Day", source="alphavantage")
    with pytest.raises(NotFoundError, match="has 1Day"):
        read_bars(store, "AAPL", "1Min", source="sample")


def test_daily_bars_roll_up_from_minutes_inside_start_and_end() -> None:
    store = MemoryHistoryStore()
    open_utc = T0 + (9 * 60 + 30) * MIN  # 14:30 UTC
    minutes = [open_utc + i * MIN for i in range(390)]
    put(store, "import:min", "1Min", cols(minutes + [m + 3 * DAY for m in minutes], 10))

    read = read_bars(store, "AAPL", "1Day", start=T0, end=T0 + 3 * DAY,
                     calendar=NyseCalendar(start="2024-01-01", end="2024-12-31"))

    assert read is not None and read.stored_timeframe == "1Min"
    assert read.columns.ts.tolist() == [T0, T0 + 3 * DAY - 3_600_000_000_000]  # Monday is EDT
    # Monday's bars start at 14:30 UTC = 10:30 EDT: the 60 after the 20:00 UTC close drop out
    assert read.columns.volume.tolist() == [39_000, 33_000]


def test_latest_limit_of_a_roll_up_returns_complete_bars() -> None:
    store = MemoryHistoryStore()
    put(store, "x", "1Min", cols([T0 + i * MIN for i in range(60)], 10))

    read = read_bars(store, "AAPL", "15Min", limit=2, latest=True)

    assert read is not None
    assert read.columns.ts.tolist() == [T0 + 30 * MIN, T0 + 45 * MIN]
    assert read.columns.volume.tolist() == [1500, 1500]


def test_adjustment_all_applies_the_factor_or_says_none_is_known() -> None:
    store = MemoryHistoryStore()
    put(store, "adj", "1Day", cols([T0], 100, adj=0.25))
    put(store, "plain", "1Day", cols([T0 + DAY], 100))

    adjusted = read_bars(store, "AAPL", "1Day", adjustment="all", source="adj")
    raw = read_bars(store, "AAPL", "1Day", adjustment="all", source="plain")

    assert adjusted is not None and adjusted.adjusted
    assert adjusted.columns.close.tolist() == [25.0] and adjusted.columns.volume.tolist() == [400]
    assert raw is not None and not raw.adjusted and raw.columns.close.tolist() == [100.0]


def test_a_bad_adjustment_names_the_allowed_ones() -> None:
    with pytest.raises(InvalidError, match=r"raw\|all"):
        read_bars(MemoryHistoryStore(), "AAPL", "1Day", adjustment="split")
