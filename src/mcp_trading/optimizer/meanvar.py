"""The mean-variance methods: min_volatility, max_sharpe, efficient_return, efficient_risk,
max_utility, and the efficient frontier."""

from __future__ import annotations

from mcp_trading.optimizer.problem import MethodSpec

__all__ = ["SPECS"]

SPECS: tuple[MethodSpec, ...] = ()
