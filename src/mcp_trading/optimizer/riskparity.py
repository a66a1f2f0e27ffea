"""Risk parity (equal risk contribution, or given risk budgets) by Spinu's convex
formulation ("An algorithm for computing risk parity weights", 2013):

    minimise  f(y) = ½ yᵀΣy − Σ b_i log y_i      over y > 0,  then w = y / Σy

At the optimum Σy = b / y, so y_i(Σy)_i = b_i: each asset's share of the variance is its
budget b_i (Σb = 1). f is strictly convex for a positive-definite Σ, so Newton's method with a
backtracking line search that keeps y > 0 converges in a handful of steps; it stops when the
largest gap between a risk share and its budget is below 1e-12. Long-only by construction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.fitting import fit_to_budget, ignored
from mcp_trading.optimizer.problem import Diagnostics, Matrix, Problem, Solution, UnsolvableError, Vector

__all__ = ["risk_budget_weights", "risk_contributions", "risk_parity"]

_MAX_ITERATIONS = 100
_TOLERANCE = 1e-12


def risk_contributions(weights: Vector, cov: Matrix) -> Vector:
    """Each asset's share of the portfolio variance, w_i(Σw)_i / wᵀΣw (sums to 1)."""
    marginal = cov @ weights
    return np.asarray(weights * marginal / float(weights @ marginal))


def _budgets(raw: object, symbols: Sequence[str]) -> Vector:
    if raw is None:
        return np.full(len(symbols), 1.0 / len(symbols))
    if isinstance(raw, Mapping):
        unknown = sorted(set(map(str, raw)) - set(symbols))
        if unknown:
            raise InvalidError(f"budgets name {', '.join(unknown)}, not among the symbols; give "
                               "a budget per symbol of the problem", field="options.budgets")
        missing = [s for s in symbols if s not in raw]
        if missing:
            raise InvalidError(f"budgets miss {', '.join(missing)}; give every symbol a budget",
                               field="options.budgets")
        values = [raw[s] for s in symbols]
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        values = list(raw)
    else:
        raise InvalidError("budgets must map each symbol to a positive number",
                           field="options.budgets")
    try:
        b = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidError("budgets must be numbers", field="options.budgets") from exc
    if b.shape != (len(symbols),) or not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise InvalidError(f"budgets must be {len(symbols)} positive numbers, one per symbol "
                           "(they are scaled to sum to 1)", field="options.budgets")
    return np.asarray(b / b.sum())


def risk_budget_weights(cov: Matrix, budgets: Vector) -> tuple[Vector, int]:
    """Weights (summing to 1) whose risk shares are `budgets`, and the Newton iterations."""
    scale = float(np.mean(np.diag(cov)))
    sigma = cov / scale  # conditioning only: the weights do not depend on Σ's scale
    y = budgets / np.sqrt(np.diag(sigma))
    y /= np.sqrt(float(y @ sigma @ y))

    def f(v: Vector) -> float:
        return float(0.5 * v @ sigma @ v - budgets @ np.log(v))

    for iteration in range(1, _MAX_ITERATIONS + 1):
        sy = sigma @ y
        gradient = sy - budgets / y
        hessian = sigma + np.diag(budgets / y**2)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        t, current = 1.0, f(y)
        while np.any(y - t * step <= 0) or f(y - t * step) > current - 0.25 * t * (
                gradient @ step):
            t *= 0.5
            if t < 1e-12:
                break
        y = y - t * step
        w = y / y.sum()
        if float(np.max(np.abs(risk_contributions(w, sigma) - budgets))) < _TOLERANCE:
            return w, iteration
    w = y / y.sum()
    gap = float(np.max(np.abs(risk_contributions(w, sigma) - budgets)))
    if gap < 1e-9:
        return w, _MAX_ITERATIONS
    raise UnsolvableError(f"risk_parity did not converge: the risk shares are {gap:.3g} from "
                          "their budgets; the covariance is likely singular (an asset a "
                          "combination of others) — drop it or use ledoit_wolf",
                          code="SINGULAR_COVARIANCE", field="covariance", extra={"gap": gap})


def risk_parity(problem: Problem) -> Solution:
    """The `risk_parity` method: equal risk contributions, or the given `budgets`."""
    started = time.perf_counter()
    est = problem.estimates
    options: Mapping[str, Any] = problem.options
    budgets = _budgets(options.get("budgets"), est.symbols)
    if np.any(np.diag(est.cov) <= 0):
        raise InvalidError("risk_parity needs every asset to vary (a variance is 0)",
                           field="symbols")
    raw, iterations = risk_budget_weights(est.cov, budgets)
    w, fitted = fit_to_budget(raw, problem.constraints, est.symbols, "risk_parity")
    notes = ["risk budgets " + ("given" if options.get("budgets") is not None else "equal"),
             *ignored(problem.constraints, "risk_parity")]
    if fitted:
        notes += [*fitted, "bounds moved weights, so the risk shares differ from the budgets"]
    return Solution(w, Diagnostics(solver="newton-spinu", status="optimal",
                                   iterations=iterations, seconds=time.perf_counter() - started,
                                   notes=tuple(notes)))
