"""One sweep point on the event-driven engine (`backtest.engine.run_backtest`), on shipped bars.

A worker has the bars in memory (shipped once per worker, never re-read from the platform's
store); they are put into an in-memory history store under the source `sweep`, which the
engine reads like any other store, so the engine runs unchanged. The store is built once per
worker process and bars object, not per point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.analytics.equity import EquityCurve
from mcp_trading.analytics.metrics import Metrics
from mcp_trading.analytics.trades import RoundTrip
from mcp_trading.backtest.engine import run_backtest
from mcp_trading.backtest.spec import BacktestSpec
from mcp_trading.backtest.vector_run import RunCosts
from mcp_trading.config import Settings
from mcp_trading.domain.errors import UnavailableError
from mcp_trading.strategy.loader import StrategyRegistry, load_registry

__all__ = ["SOURCE", "event_run"]

SOURCE = "sweep"
_CACHE: dict[str, Any] = {}  # this process's store of the bars it was shipped


def _store(bars: Mapping[str, BarColumns], timeframe: str) -> MemoryHistoryStore:
    key = (id(bars), timeframe)
    if _CACHE.get("key") != key:
        fresh = MemoryHistoryStore()
        with fresh.writer() as writer:
            for symbol, cols in bars.items():
                writer.add(symbol, SOURCE, timeframe, cols)
        _CACHE.update(key=key, store=fresh, bars=bars)  # holding `bars` keeps id() unique
    store: MemoryHistoryStore = _CACHE["store"]
    return store


def _registry(strategy_dir: str | None) -> StrategyRegistry:
    if _CACHE.get("dir", "") != strategy_dir or "registry" not in _CACHE:
        _CACHE["registry"] = load_registry(Path(strategy_dir) if strategy_dir else None)
        _CACHE["dir"] = strategy_dir
    registry: StrategyRegistry = _CACHE["registry"]
    return registry


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts / 1e9, UTC).date()


def event_run(strategy: str, params: Mapping[str, Any] | None, bars: Mapping[str, BarColumns],
              symbols: Sequence[str], costs: RunCosts, *, timeframe: str,
              strategy_dir: str | None = None) -> tuple[list[RoundTrip], EquityCurve, Metrics]:
    """(trades, daily curve, metrics) of one event-driven backtest on `bars`."""
    used = [s for s in symbols if s in bars and bars[s].size]
    first = min(int(bars[s].ts[0]) for s in used)
    last = max(int(bars[s].ts[-1]) for s in used)
    spec = BacktestSpec(strategy=strategy, symbols=tuple(used), start=_day(first),
                        end=_day(last), timeframe=timeframe, params=dict(params or {}),
                        cash=costs.cash, source=SOURCE, commission=costs.commission,
                        slippage=costs.slippage)
    result = run_backtest(spec, history=_store(bars, timeframe),
                          registry=_registry(strategy_dir), settings=Settings())
    if result.status != "completed":
        raise UnavailableError(f"the {strategy} backtest {result.status}: "
                               f"{dict(result.fault or {})}")
    return list(result.trades), result.equity, result.metrics
