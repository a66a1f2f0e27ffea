"""From a checked request and its prices to the optimizer core's `Problem`, and from its
`Solution` to the answer: pure (no I/O), shared by optimize, frontier, rebalance and the CLI.

The weights rule (stated in every answer, `rounding`): each weight is rounded half-even to
10 decimals, then the remainder — the budget (1 − cash_buffer) minus their sum — is added
to the largest weight by magnitude, so the decimal strings sum to the budget exactly.

Figures: `expected_return` = mu'w and `volatility` = sqrt(w'Σw), annual fractions, from the
estimates the method used (black_litterman's posterior mu); `sharpe` = (mu'w − rf) / vol;
`risk_contributions` = w_i (Σw)_i / w'Σw, fractions of the portfolio's variance summing to 1.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.estimators import COVARIANCE, EXPECTED_RETURNS, estimate, from_returns
from mcp_trading.optimizer.methods import METHODS
from mcp_trading.optimizer.problem import (
    Constraints,
    Estimates,
    MethodSpec,
    Problem,
    Solution,
    UnsolvableError,
)
from mcp_trading.services.optimizer.inputs import ConstraintsBody, OptimizeBody
from mcp_trading.services.optimizer.prices import Closes

__all__ = ["DECIMALS", "ROUNDING_RULE", "build_constraints", "estimates_check", "estimates_of", "figures",
           "method_spec", "problem_of", "round_weights", "solve"]

Array = npt.NDArray[np.float64]
DECIMALS = 10
_QUANTUM = Decimal(1).scaleb(-DECIMALS)
ROUNDING_RULE = (f"each weight rounded half-even to {DECIMALS} decimals; the remainder (the "
                 "budget 1 - cash_buffer minus their sum) added to the largest weight by "
                 "magnitude, so the weights sum to the budget exactly")


def _invalid(field: str, message: str, **extra: Any) -> InvalidError:
    return InvalidError(f"{field}: {message}", code="INVALID_OPTIMIZATION", field=field,
                        extra=extra)


def method_spec(name: str, field: str = "method") -> MethodSpec:
    spec = METHODS.get(name)
    if spec is None:
        known = sorted(METHODS)
        raise _invalid(field, f"{name!r} is not a method; known: {', '.join(known)}",
                       allowed=known)
    return spec


def _check_estimator(name: str, field: str, registry: Mapping[str, Any]) -> None:
    if name not in registry:
        known = sorted(registry)
        raise _invalid(field, f"{name!r} is not an estimator; known: {', '.join(known)}",
                       allowed=known)


def estimates_check(name: str, field: str = "estimators") -> None:
    """An expected-returns estimator's name, or a 422 listing the known ones."""
    _check_estimator(name, field, EXPECTED_RETURNS)


def estimates_of(body: OptimizeBody | Any, closes: Closes) -> Estimates:
    """The estimates of the request's estimators on its prices (or inline returns)."""
    _check_estimator(body.expected_returns, "expected_returns", EXPECTED_RETURNS)
    _check_estimator(body.covariance, "covariance", COVARIANCE)
    if body.expected_returns == "capm" and closes.benchmark is None and not closes.is_returns:
        raise _invalid("benchmark", "capm needs the market: name a benchmark symbol with "
                                    "stored history (e.g. \"benchmark\": \"IBM\")")
    args: dict[str, Any] = {"expected_returns": body.expected_returns,
                            "covariance": body.covariance, "options": body.estimator_options,
                            "frequency": body.frequency, "risk_free_rate": body.risk_free_rate,
                            "benchmark": closes.benchmark}
    if closes.is_returns:
        return from_returns(closes.table, closes.symbols, **args)
    return estimate(closes.table, closes.symbols, **args)


def _bounds(c: ConstraintsBody, symbols: tuple[str, ...]) -> tuple[Array | None, Array | None]:
    if c.bounds is None:
        return None, None
    n = len(symbols)
    default_low = 0.0 if c.long_only else -1.0
    if isinstance(c.bounds, tuple):
        lower, upper = np.full(n, c.bounds[0]), np.full(n, c.bounds[1])
    else:
        lower, upper = np.full(n, default_low), np.ones(n)
        index = {s: i for i, s in enumerate(symbols)}
        for raw, (lo, hi) in c.bounds.items():
            i = index.get(raw.strip().upper())
            if i is None:
                raise _invalid(f"constraints.bounds.{raw}", f"{raw} is not one of the "
                               f"problem's symbols ({', '.join(symbols)})")
            lower[i], upper[i] = lo, hi
    for i, symbol in enumerate(symbols):
        if lower[i] > upper[i]:
            raise _invalid("constraints.bounds", f"{symbol}'s lower bound {lower[i]:g} is above "
                           f"its upper bound {upper[i]:g}")
        if c.long_only and lower[i] < 0:
            raise _invalid("constraints.bounds", f"{symbol}'s lower bound {lower[i]:g} is "
                           "negative but long_only is true: raise it to 0 or set long_only "
                           "false")
    budget = 1.0 - c.cash_buffer
    if upper.sum() < budget - 1e-9 or lower.sum() > budget + 1e-9:
        raise UnsolvableError(
            f"constraints.bounds: the upper bounds sum to {upper.sum():.6g} and the lower "
            f"bounds to {lower.sum():.6g}, but the weights must sum to {budget:g} "
            "(1 - cash_buffer): widen the bounds or add symbols", code="INFEASIBLE_BOUNDS",
            field="constraints.bounds",
            extra={"upper_sum": float(upper.sum()), "lower_sum": float(lower.sum()),
                   "budget": budget})
    return lower, upper


def _groups(c: ConstraintsBody, symbols: tuple[str, ...]
            ) -> tuple[tuple[str, tuple[int, ...], float | None, float | None], ...]:
    index = {s: i for i, s in enumerate(symbols)}
    out = []
    for name, group in c.groups.items():
        members = []
        for raw in group.symbols:
            i = index.get(raw.strip().upper())
            if i is None:
                raise _invalid(f"constraints.groups.{name}.symbols", f"{raw} is not one of the "
                               f"problem's symbols ({', '.join(symbols)})")
            members.append(i)
        if group.min is not None and group.max is not None and group.min > group.max:
            raise _invalid(f"constraints.groups.{name}", f"min {group.min:g} is above max "
                           f"{group.max:g}")
        out.append((name, tuple(members), group.min, group.max))
    return tuple(out)


def build_constraints(c: ConstraintsBody, symbols: tuple[str, ...],
                      current: Mapping[str, float] | None) -> Constraints:
    """The core's Constraints of the request's, with the current weights for turnover."""
    lower, upper = _bounds(c, symbols)
    now = None
    if current is not None:
        unknown = sorted(set(current) - set(symbols))
        if unknown:
            raise _invalid(f"current_weights.{unknown[0]}", f"{unknown[0]} is not one of the "
                           f"problem's symbols ({', '.join(symbols)}); a turnover limit "
                           "compares weights of the same symbols")
        now = np.array([current.get(s, 0.0) for s in symbols], dtype=np.float64)
    if c.max_turnover is not None and now is None:
        raise _invalid("constraints.max_turnover", "needs the current weights: give "
                       "current_weights or an account whose positions give them")
    return Constraints(lower=lower, upper=upper, long_only=c.long_only,
                       groups=_groups(c, symbols), current=now, max_turnover=c.max_turnover,
                       cash_buffer=c.cash_buffer)


def problem_of(spec: MethodSpec, estimates: Estimates, constraints: Constraints,
               options: Mapping[str, Any]) -> Problem:
    if spec.options:
        unknown = sorted(set(options) - set(spec.options))
        if unknown:
            raise _invalid(f"options.{unknown[0]}", f"{spec.name} has no option "
                           f"{unknown[0]!r}; its options: {', '.join(sorted(spec.options))}",
                           allowed=sorted(spec.options))
    elif options:
        raise _invalid(f"options.{next(iter(options))}", f"{spec.name} takes no options")
    return Problem(estimates, constraints, dict(options))


def solve(spec: MethodSpec, problem: Problem) -> Solution:
    """The method's solution; a numerical failure is an UnsolvableError (422), never a 500."""
    started = time.perf_counter()
    try:
        solution = spec.run(problem)
    except (InvalidError, UnsolvableError):
        raise
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        raise UnsolvableError(f"{spec.name} could not solve this problem ({type(exc).__name__}: "
                              f"{exc}); try another covariance estimator (ledoit_wolf) or "
                              "looser constraints", code="SOLVER_FAILED", field="method") from None
    weights = np.asarray(solution.weights, dtype=np.float64)
    if weights.shape != (len(problem.estimates.symbols),) or not np.isfinite(weights).all():
        raise UnsolvableError(f"{spec.name} returned no usable weights", code="SOLVER_FAILED",
                              field="method")
    if solution.diagnostics.seconds == 0.0:
        solution = replace(solution, diagnostics=replace(
            solution.diagnostics, seconds=time.perf_counter() - started))
    return solution


def round_weights(weights: Array, symbols: tuple[str, ...], budget: Decimal) -> dict[str, str]:
    """Decimal strings by symbol, summing to `budget` exactly (ROUNDING_RULE)."""
    rounded = [Decimal(repr(float(w))).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
               for w in weights]
    if rounded:
        largest = max(range(len(rounded)), key=lambda i: (abs(rounded[i]), -i))
        rounded[largest] += budget - sum(rounded, Decimal(0))
    return {s: f"{w + 0:.{DECIMALS}f}" for s, w in zip(symbols, rounded, strict=True)}


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def figures(estimates: Estimates, solution: Solution) -> dict[str, Any]:
    """expected_return, volatility, sharpe and risk_contributions (module docstring)."""
    w = np.asarray(solution.weights, dtype=np.float64)
    mu = estimates.mu if solution.mu is None else np.asarray(solution.mu, dtype=np.float64)
    marginal = estimates.cov @ w
    variance = float(w @ marginal)
    vol = math.sqrt(max(variance, 0.0))
    ret = float(mu @ w)
    sharpe = (ret - estimates.risk_free_rate) / vol if vol > 0 else float("nan")
    contributions = (w * marginal / variance) if variance > 0 else np.zeros_like(w)
    return {"expected_return": _finite(ret), "volatility": _finite(vol),
            "sharpe": _finite(sharpe),
            "risk_contributions": {s: float(c) for s, c in
                                   zip(estimates.symbols, contributions, strict=True)}}
