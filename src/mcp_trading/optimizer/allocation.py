"""Allocation methods: equal_weight, inverse_volatility, min_cvar, risk_parity, hrp,
black_litterman."""

from __future__ import annotations

from mcp_trading.optimizer.problem import MethodSpec

__all__ = ["SPECS"]

SPECS: tuple[MethodSpec, ...] = ()
