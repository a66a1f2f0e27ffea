"""Backtests: a strategy driven bar by bar through the real kernel, and the stored results.

    spec.py      BacktestSpec: what to run (checked when made)
    engine.py    run_backtest(spec, history=, registry=, settings=) -> BacktestResult
    result.py    BacktestResult: orders, fills, trades, equity, metrics; summary(), JSON
    store.py     BacktestStore: results by id (memory, SQLite, PostgreSQL)
"""

from mcp_trading.backtest.engine import FILL_RULES, run_backtest
from mcp_trading.backtest.result import BacktestResult, OrderRecord, SymbolRange
from mcp_trading.backtest.spec import TIMEFRAMES, BacktestSpec

__all__ = ["FILL_RULES", "TIMEFRAMES", "BacktestResult", "BacktestSpec", "OrderRecord",
           "SymbolRange", "run_backtest"]
