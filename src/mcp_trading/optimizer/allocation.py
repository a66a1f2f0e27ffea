"""Allocation methods: equal_weight, inverse_volatility, min_cvar, risk_parity, hrp,
black_litterman.

The rules (equal weight, inverse volatility, risk parity, HRP) fit their weights to the budget
(1 − cash buffer) inside the bounds (`bounds.py`) and say in the notes which constraints they
do not apply; min_cvar is a linear program that honours all of them; black_litterman hands its
posterior returns to a mean-variance method, which applies the constraints.
"""

from __future__ import annotations

import time

import numpy as np

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.blacklitterman import black_litterman
from mcp_trading.optimizer.cvar import min_cvar
from mcp_trading.optimizer.fitting import fit_to_budget, ignored
from mcp_trading.optimizer.hrp import LINKAGES, hrp
from mcp_trading.optimizer.problem import Diagnostics, MethodSpec, Problem, Solution
from mcp_trading.optimizer.riskparity import risk_parity

__all__ = ["SPECS", "equal_weight", "inverse_volatility"]


def _rule(problem: Problem, raw: np.ndarray, method: str, started: float,
          *notes: str) -> Solution:
    w, fitted = fit_to_budget(raw, problem.constraints, problem.estimates.symbols, method)
    return Solution(w, Diagnostics(solver="closed-form", status="optimal",
                                   seconds=time.perf_counter() - started,
                                   notes=(*notes, *fitted, *ignored(problem.constraints,
                                                                    method))))


def equal_weight(problem: Problem) -> Solution:
    """1/N of the budget each (the bounds may move some)."""
    started = time.perf_counter()
    n = len(problem.estimates.symbols)
    return _rule(problem, np.full(n, 1.0 / n), "equal_weight", started)


def inverse_volatility(problem: Problem) -> Solution:
    """Weights proportional to 1/σ_i, σ from the covariance's diagonal."""
    started = time.perf_counter()
    est = problem.estimates
    sigma = np.sqrt(np.clip(np.diag(est.cov), 0.0, None))
    if np.any(sigma <= 0):
        i = int(np.flatnonzero(sigma <= 0)[0])
        raise InvalidError(f"{est.symbols[i]} has zero volatility; inverse_volatility needs "
                           "every asset to vary", field="symbols",
                           extra={"symbol": est.symbols[i]})
    return _rule(problem, 1.0 / sigma, "inverse_volatility", started,
                 f"volatility from the {est.covariance_estimator} covariance")


SPECS: tuple[MethodSpec, ...] = (
    MethodSpec("equal_weight", "Equal weight (1/N)", equal_weight, needs_mu=False),
    MethodSpec("inverse_volatility", "Inverse volatility", inverse_volatility, needs_mu=False),
    MethodSpec("min_cvar", "Minimum CVaR (linear program on the scenario returns)", min_cvar,
               {"confidence": "CVaR confidence level β in (0, 1), default 0.95",
                "target_return": "optional minimum expected annual return (fraction); uses "
                                 "the expected returns"}),
    MethodSpec("risk_parity", "Risk parity (equal risk contribution or risk budgets)",
               risk_parity,
               {"budgets": "optional risk budget per symbol (positive; scaled to sum to 1); "
                           "default equal"}, needs_mu=False),
    MethodSpec("hrp", "Hierarchical risk parity (López de Prado)", hrp,
               {"linkage": f"scipy linkage: {', '.join(LINKAGES)}; default single",
                "distance": "correlation (√((1−ρ)/2), default) or paper (Euclidean distance "
                            "of its columns)"}, needs_mu=False),
    MethodSpec("black_litterman", "Black-Litterman posterior, then a mean-variance method",
               black_litterman,
               {"views": "list of {asset, return[, confidence]} or {long, short, return"
                         "[, confidence]}; returns annual, confidence in (0, 1]; none or [] "
                         "-> the market-implied prior (equilibrium returns) alone",
                "market_weights": "optional symbol -> market weight (prior); default equal",
                "market_caps": "optional symbol -> market capitalisation (prior)",
                "risk_aversion": "δ of the prior π = rf + δΣw, default 2.5",
                "tau": "τ, the prior's uncertainty scale, default 0.05",
                "then": "the mean-variance method for the posterior, default max_sharpe",
                "then_options": "options of that method"}, needs_mu=False),
)
