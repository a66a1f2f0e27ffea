"""Stored market history: the bar store (memory, SQLite, PostgreSQL), imports and reads."""

from __future__ import annotations

from mcp_trading.adapters.history.contract import (
    ADJUSTMENTS,
    HISTORY_TIMEFRAMES,
    BarColumns,
    HistoryInstrument,
    HistoryStore,
    HistoryWriter,
    SeriesRange,
    UpsertCounts,
)
from mcp_trading.adapters.history.factory import open_history_store
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.reads import PAGE_LIMIT, BarRead, choose_series, read_bars
from mcp_trading.adapters.history.rollup import rollup
from mcp_trading.adapters.history.sql import SqlHistoryStore

__all__ = [
    "ADJUSTMENTS",
    "HISTORY_TIMEFRAMES",
    "PAGE_LIMIT",
    "BarColumns",
    "BarRead",
    "HistoryInstrument",
    "HistoryStore",
    "HistoryWriter",
    "MemoryHistoryStore",
    "SeriesRange",
    "SqlHistoryStore",
    "UpsertCounts",
    "choose_series",
    "open_history_store",
    "read_bars",
    "rollup",
]
