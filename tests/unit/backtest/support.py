"""The shipped sample (real daily prices, NY-midnight bars) in an in-memory history store."""

from __future__ import annotations

from functools import cache

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.backtest.sweep import load_bars

__all__ = ["sample_history", "sample_sweep_bars"]


@cache
def sample_history() -> MemoryHistoryStore:
    store = MemoryHistoryStore()
    import_sample(store)
    return store


def sample_sweep_bars(*symbols: str, start: str | None = None,
                      end: str | None = None) -> dict[str, BarColumns]:
    """The sample's daily bars of `symbols`, read as a sweep reads them."""
    return load_bars(sample_history(), symbols, "1Day", start=start, end=end)
