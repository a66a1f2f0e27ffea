"""The mean-variance methods: min_volatility, max_sharpe, efficient_return, efficient_risk,
max_utility, and the efficient frontier.

Units: expected returns, volatilities, targets and the risk-free rate are annual fractions
(0.10 = 10 %), as the Estimates carry them. A cash buffer is held as cash that earns nothing
in the expected return: the portfolio's expected return is mu'w, its excess return
mu'w − rf, its Sharpe ratio (mu'w − rf) / sqrt(w'Σw).

Every method is one convex program solved by Clarabel called directly (conic.py; the choice
was measured, see benchmarks/optimizer.py). When a problem has no answer the error says which
and with what figures (UnsolvableError codes: NO_EXCESS_RETURN, INFEASIBLE_BOUNDS,
INFEASIBLE_CONSTRAINTS, INFEASIBLE_TARGET, SINGULAR_COVARIANCE, SOLVER_FAILED).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.linalg import lapack

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.bounds import resolved_bounds
from mcp_trading.optimizer.conic import Outcome, Program
from mcp_trading.optimizer.problem import Diagnostics, MethodSpec, Problem, Solution, UnsolvableError

__all__ = ["SPECS", "efficient_return", "efficient_risk", "frontier", "max_sharpe", "max_utility",
           "min_volatility"]

Array = npt.NDArray[np.float64]
_SINGULAR = 1e-10  # a Cholesky pivot below this share of the largest variance: singular


def _option(options: Mapping[str, Any], name: str, *, default: float | None = None,
            positive: bool = False) -> float:
    value = options.get(name, default)
    if value is None:
        raise InvalidError(f"option {name} is required (an annual fraction, e.g. 0.10 = 10 %)",
                           field=f"options.{name}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidError(f"option {name} must be a finite number; got {value!r}",
                           field=f"options.{name}")
    if positive and value <= 0:
        raise InvalidError(f"option {name} must be > 0; got {value:g}", field=f"options.{name}")
    return float(value)


def _cholesky(problem: Problem) -> Array:
    """The Cholesky factor of the covariance, or SINGULAR_COVARIANCE naming the asset."""
    est = problem.estimates
    cov = est.cov
    scale = float(np.max(np.diag(cov))) if cov.size else 0.0
    factor, info = lapack.dpotrf(cov, lower=1, clean=1)
    # info > 0: the leading minor of that order is not positive definite, so that asset is
    # the first whose returns the ones before it span
    first = info - 1 if info > 0 else None
    if first is None:
        pivots = np.diag(factor) ** 2
        small = pivots <= _SINGULAR * scale
        first = int(np.argmax(small)) if small.any() or scale <= 0 else None
    if first is None:
        out: Array = factor
        return out
    raise UnsolvableError(
        f"the {est.covariance_estimator} covariance is singular: the returns of "
        f"{est.symbols[first]} are (nearly) a combination of the assets before it, or there are "
        "too few observations; drop a duplicate asset, widen the range, or use the ledoit_wolf "
        "or oas covariance", code="SINGULAR_COVARIANCE", field="covariance",
        extra={"symbol": est.symbols[first]})


def _program(problem: Problem, *, scaled: bool = False) -> tuple[Program, Array, Array]:
    est, c = problem.estimates, problem.constraints
    n = len(est.symbols)
    lower, upper = resolved_bounds(c, est.symbols)
    program = Program(n, turnover=c.max_turnover is not None)
    program.constrain(c, lower, upper)
    if scaled:   # max_sharpe: mu'y − rf·t = 1, t ≥ 0
        program.eq.append((program.row(est.mu, -est.risk_free_rate), np.ones(1)))
        program.le.append((program.row(None, -1.0), np.zeros(1)))
    else:
        program.eq.append((program.row(None, 1.0), np.ones(1)))
    return program, lower, upper


def _solution(problem: Problem, outcome: Outcome, lower: Array, upper: Array,
              scaled: bool = False) -> Solution:
    n = len(problem.estimates.symbols)
    weights = outcome.x[:n] / (outcome.x[n] if scaled else 1.0)
    weights = np.clip(weights, lower, upper)
    budget = problem.constraints.budget
    notes: tuple[str, ...] = ()
    if problem.constraints.cash_buffer > 0:
        notes = (f"weights sum to {budget:g}: a cash buffer of "
                 f"{problem.constraints.cash_buffer:g} is held as cash",)
    return Solution(weights=weights, diagnostics=Diagnostics(
        solver="clarabel", status=outcome.status, iterations=outcome.iterations,
        seconds=outcome.seconds, notes=notes))


def _max_return(problem: Problem) -> float | None:
    """The highest expected return the constraints allow (an LP), or None if they allow none."""
    program, _, _ = _program(problem)
    outcome = program.solve(None, -problem.estimates.mu)
    if not outcome.solved:
        return None
    return float(problem.estimates.mu @ outcome.x[:program.n])


def _infeasible(problem: Problem, outcome: Outcome, method: str) -> UnsolvableError:
    """Why a program came back unsolved: the constraints themselves, or the solver."""
    if outcome.status == "infeasible" and _max_return(problem) is None:
        return UnsolvableError(
            f"{method}: the constraints (bounds, groups, turnover, cash buffer) admit no "
            "portfolio; loosen a group cap or the turnover limit", code="INFEASIBLE_CONSTRAINTS",
            field="constraints")
    return UnsolvableError(f"{method}: the solver stopped with status {outcome.status} after "
                           f"{outcome.iterations} iterations", code="SOLVER_FAILED",
                           extra={"status": outcome.status})


def min_volatility(problem: Problem) -> Solution:
    """The portfolio of least variance w'Σw under the constraints."""
    _cholesky(problem)
    program, lower, upper = _program(problem)
    outcome = program.solve(problem.estimates.cov)
    if not outcome.solved:
        raise _infeasible(problem, outcome, "min_volatility")
    return _solution(problem, outcome, lower, upper)


def max_sharpe(problem: Problem) -> Solution:
    """The tangency portfolio: the highest (mu'w − rf) / σ, by the convex reformulation."""
    est, c = problem.estimates, problem.constraints
    rf = est.risk_free_rate
    best = int(np.argmax(est.mu))
    if c.long_only and est.mu[best] <= rf:
        raise UnsolvableError(
            f"max_sharpe needs an asset whose expected return exceeds the risk-free rate {rf:g}; "
            f"the highest is {est.mu[best]:.3g} ({est.symbols[best]})", code="NO_EXCESS_RETURN",
            extra={"risk_free_rate": rf, "highest_return": float(est.mu[best]),
                   "symbol": est.symbols[best]})
    _cholesky(problem)
    program, lower, upper = _program(problem, scaled=True)
    outcome = program.solve(est.cov)
    if outcome.solved and outcome.x[program.n] > 0:
        return _solution(problem, outcome, lower, upper, scaled=True)
    highest = _max_return(problem)
    if highest is not None and highest <= rf:
        raise UnsolvableError(
            f"max_sharpe needs a portfolio whose expected return exceeds the risk-free rate "
            f"{rf:g}; under these constraints the highest is {highest:.3g}",
            code="NO_EXCESS_RETURN", extra={"risk_free_rate": rf, "highest_return": highest})
    raise _infeasible(problem, outcome, "max_sharpe")


def efficient_return(problem: Problem) -> Solution:
    """The least-variance portfolio whose expected return is at least `target_return`."""
    target = _option(problem.options, "target_return")
    est = problem.estimates
    _cholesky(problem)
    program, lower, upper = _program(problem)
    program.le.append((program.row(-est.mu), np.array([-target])))
    outcome = program.solve(est.cov)
    if outcome.solved:
        return _solution(problem, outcome, lower, upper)
    highest = _max_return(problem)
    if highest is not None and target > highest:
        raise UnsolvableError(
            f"target_return {target:g} is above the highest expected return these constraints "
            f"allow, {highest:.4g}; lower the target", code="INFEASIBLE_TARGET",
            field="options.target_return", extra={"target_return": target, "max_return": highest})
    raise _infeasible(problem, outcome, "efficient_return")


def efficient_risk(problem: Problem) -> Solution:
    """The highest expected return whose volatility is at most `target_volatility`."""
    target = _option(problem.options, "target_volatility", positive=True)
    est = problem.estimates
    factor = _cholesky(problem)
    program, lower, upper = _program(problem)
    n = program.n
    # ||L'w|| <= target·t: the cone's first row is target·t, the rest L'w
    head = program.row(None, -target)
    body = program.block(-factor.T, np.zeros(n))
    program.soc.append((sparse.vstack([head, body], format="csr"), np.zeros(n + 1)))
    outcome = program.solve(None, -est.mu)
    if outcome.solved:
        return _solution(problem, outcome, lower, upper)
    if outcome.status == "infeasible":
        floor = min_volatility(Problem(est, problem.constraints)).weights
        lowest = float(np.sqrt(floor @ est.cov @ floor))
        if target < lowest:
            raise UnsolvableError(
                f"target_volatility {target:g} is below the lowest volatility these constraints "
                f"allow, {lowest:.4g}; raise the target", code="INFEASIBLE_TARGET",
                field="options.target_volatility",
                extra={"target_volatility": target, "min_volatility": lowest})
    raise _infeasible(problem, outcome, "efficient_risk")


def max_utility(problem: Problem) -> Solution:
    """The highest quadratic utility mu'w − (risk_aversion / 2)·w'Σw."""
    aversion = _option(problem.options, "risk_aversion", default=1.0, positive=True)
    est = problem.estimates
    _cholesky(problem)
    program, lower, upper = _program(problem)
    outcome = program.solve(aversion * est.cov, -est.mu)
    if not outcome.solved:
        raise _infeasible(problem, outcome, "max_utility")
    return _solution(problem, outcome, lower, upper)


def frontier(problem: Problem, points: int = 20) -> list[tuple[float, float, Array]]:
    """`points` efficient portfolios (expected return, volatility, weights), from the least
    volatile to the highest return the constraints allow, evenly spaced in return."""
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= 200:
        raise InvalidError(f"points must be an integer from 2 to 200; got {points!r}",
                           field="points")
    est = problem.estimates
    low = min_volatility(Problem(est, problem.constraints)).weights
    start = float(est.mu @ low)
    highest = _max_return(problem)
    end = start if highest is None else max(highest, start)
    out: list[tuple[float, float, Array]] = []
    for i, target in enumerate(np.linspace(start, end, points)):
        # a hair below the end, so the last point is not lost to the solver's tolerance
        goal = float(target) - 1e-9 * max(1.0, abs(float(target)))
        weights = low if i == 0 else efficient_return(
            Problem(est, problem.constraints, {"target_return": goal})).weights
        out.append((float(est.mu @ weights), float(np.sqrt(weights @ est.cov @ weights)), weights))
    return out


SPECS: tuple[MethodSpec, ...] = (
    MethodSpec("min_volatility", "Minimum volatility", min_volatility, {}, needs_mu=False),
    MethodSpec("max_sharpe", "Maximum Sharpe ratio (convex reformulation)", max_sharpe, {}),
    MethodSpec("efficient_return", "Least volatility for a target return", efficient_return,
               {"target_return": "required: the minimum expected return, an annual fraction "
                                 "(0.12 = 12 %)"}),
    MethodSpec("efficient_risk", "Highest return for a target volatility", efficient_risk,
               {"target_volatility": "required: the maximum annual volatility, a fraction "
                                     "(0.20 = 20 %)"}),
    MethodSpec("max_utility", "Maximum quadratic utility", max_utility,
               {"risk_aversion": "delta in mu'w − delta/2 · w'Σw, > 0, default 1"}),
)
