"""Market-data providers: the simulator (default), the replay of stored history, and the
default instrument universe."""

from __future__ import annotations

from mcp_trading.adapters.feeds.replay import ReplayFeed, ReplayState, ReplayStatus
from mcp_trading.adapters.feeds.simulator import SimulatedFeed
from mcp_trading.adapters.feeds.universe import (
    DEFAULT_SYMBOLS,
    InstrumentFileError,
    default_instruments,
    load_instruments,
)

__all__ = [
    "DEFAULT_SYMBOLS",
    "InstrumentFileError",
    "ReplayFeed",
    "ReplayState",
    "ReplayStatus",
    "SimulatedFeed",
    "default_instruments",
    "load_instruments",
]
