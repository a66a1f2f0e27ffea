"""Every optimisation method by name: `METHODS[name] -> MethodSpec` (see problem.py).

The mean-variance family lives in `meanvar.py`; the allocation rules that need no
optimiser or a special one (equal weight, inverse volatility, min CVaR, risk parity, HRP,
Black-Litterman) in `allocation.py`.
"""

from __future__ import annotations

from mcp_trading.optimizer.allocation import SPECS as _ALLOCATION
from mcp_trading.optimizer.meanvar import SPECS as _MEAN_VARIANCE
from mcp_trading.optimizer.problem import MethodSpec

__all__ = ["METHODS"]

METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in (*_ALLOCATION, *_MEAN_VARIANCE)}
