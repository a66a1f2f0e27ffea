"""Hand-made bars and a settings object for backtests on an in-memory bar store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.config import Settings

__all__ = ["DAY0", "bar_store", "day_ts", "settings_for"]

DAY0 = date(2024, 1, 2)
_NS = 1_000_000_000


def day_ts(i: int) -> int:
    """The ts of the i-th hand-made daily bar: 05:00 UTC (midnight New York) of DAY0 + i."""
    moment = datetime(DAY0.year, DAY0.month, DAY0.day, 5, tzinfo=UTC) + timedelta(days=i)
    return int(moment.timestamp()) * _NS


def bar_store(bars: dict[str, Sequence[tuple[float, float, float, float]]],
              source: str = "test") -> MemoryHistoryStore:
    """A store holding daily (open, high, low, close) bars per symbol, one a day from DAY0."""
    store = MemoryHistoryStore()
    with store.writer() as w:
        for symbol, rows in bars.items():
            arr = np.asarray(rows, dtype=np.float64)
            n = arr.shape[0]
            w.add(symbol, source, "1Day", BarColumns(
                np.asarray([day_ts(i) for i in range(n)], dtype=np.int64), arr[:, 0].copy(),
                arr[:, 1].copy(), arr[:, 2].copy(), arr[:, 3].copy(), np.full(n, 1000.0),
                np.full(n, np.nan)))
    return store


def settings_for(tmp: Path) -> Settings:
    return Settings(data_dir=tmp)
