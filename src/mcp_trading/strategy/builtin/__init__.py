"""The built-in strategies, by name."""

from __future__ import annotations

from mcp_trading.strategy.api import Strategy
from mcp_trading.strategy.builtin.bollinger_breakout import BollingerBreakout
from mcp_trading.strategy.builtin.buy_and_hold import BuyAndHold
from mcp_trading.strategy.builtin.momentum_rotation import MomentumRotation
from mcp_trading.strategy.builtin.rsi_reversion import RsiReversion
from mcp_trading.strategy.builtin.sma_crossover import SmaCrossover

__all__ = ["BUILTINS", "BollingerBreakout", "BuyAndHold", "MomentumRotation", "RsiReversion",
           "SmaCrossover"]

BUILTINS: dict[str, type[Strategy]] = {cls.name: cls for cls in (
    SmaCrossover, RsiReversion, BollingerBreakout, MomentumRotation, BuyAndHold)}
