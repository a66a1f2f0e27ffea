"""Strategies: the API a strategy is written against, indicators, built-ins, the loader and
the vectorised fast path. Imports only the standard library, numpy and the domain (a
contract in pyproject), so the backtest runner and the live runner share it unchanged.

A user strategy needs only this package's top level:

    from mcp_trading.strategy import SMA, Strategy, StrategyParams, param
"""

from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyContext, StrategyFill
from mcp_trading.strategy.indicators import ATR, EMA, RSI, SMA, Bollinger
from mcp_trading.strategy.params import StrategyParams, param, parameter_error

__all__ = ["ATR", "EMA", "RSI", "SMA", "Bollinger", "Strategy", "StrategyBar", "StrategyContext",
           "StrategyFill", "StrategyParams", "param", "parameter_error"]
