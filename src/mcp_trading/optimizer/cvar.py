"""Minimum CVaR (Rockafellar & Uryasev, 2000) on the scenario returns, as one linear program
solved by HiGHS (scipy's `linprog`):

    minimise   α + 1/((1 − β)·T) Σ_t u_t
    subject to u_t ≥ −r_tᵀw − α,  u_t ≥ 0          (u_t: the loss beyond α in period t)
               Σw = budget, lower ≤ w ≤ upper, group minimums and caps,
               Σ|w − current| ≤ max_turnover       (through d ≥ |w − current|)
               μᵀw ≥ target_return                 (if given)

The scenarios are the estimates' periodic returns (T periods); β is `confidence` (default
0.95). At the optimum α is the VaR and the objective the CVaR of one period's loss, both as
a fraction of the capital; `cvar_of` computes the same figure of any weights directly.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.bounds import resolved_bounds
from mcp_trading.optimizer.problem import (
    Constraints,
    Diagnostics,
    Matrix,
    Problem,
    Solution,
    UnsolvableError,
    Vector,
)

__all__ = ["cvar_of", "min_cvar"]


def cvar_of(weights: Vector, returns: Matrix, confidence: float) -> float:
    """The CVaR of one period's loss −rᵀw at `confidence`, by the Rockafellar–Uryasev
    formula min_α α + E[(loss − α)⁺]/(1 − β) (α at the β-quantile of the losses)."""
    losses = -(returns @ weights)
    alpha = float(np.quantile(losses, confidence, method="inverted_cdf"))
    return alpha + float(np.mean(np.maximum(losses - alpha, 0.0))) / (1.0 - confidence)


def _confidence(problem: Problem) -> float:
    raw = problem.options.get("confidence", 0.95)
    try:
        beta = float(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidError("confidence must be a number in (0, 1), e.g. 0.95",
                           field="options.confidence") from exc
    if not 0.0 < beta < 1.0:
        raise InvalidError(f"confidence is {beta:g}; it must be in (0, 1), e.g. 0.95",
                           field="options.confidence")
    return beta


def _inequalities(problem: Problem, n: int, t: int, turnover: bool
                  ) -> tuple[sparse.csr_matrix, Vector]:
    est, con = problem.estimates, problem.constraints
    width = n + 1 + t + (n if turnover else 0)
    # −r_tᵀw − α − u_t ≤ 0
    blocks = [sparse.hstack([sparse.csr_matrix(-est.returns), -np.ones((t, 1)),
                             -sparse.eye(t), sparse.csr_matrix((t, width - n - 1 - t))])]
    rhs = [np.zeros(t)]
    for name, members, low, high in con.groups:
        if not members:
            raise InvalidError(f"group {name} has no assets", field="constraints.groups")
        row = np.zeros((1, width))
        row[0, list(members)] = 1.0
        if high is not None:
            blocks.append(sparse.csr_matrix(row))
            rhs.append(np.array([high]))
        if low is not None:
            blocks.append(sparse.csr_matrix(-row))
            rhs.append(np.array([-low]))
    if turnover:
        current = _current(con, n)
        eye, pad = sparse.eye(n), sparse.csr_matrix((n, 1 + t))
        blocks += [sparse.hstack([eye, pad, -eye]), sparse.hstack([-eye, pad, -eye]),
                   sparse.csr_matrix(np.r_[np.zeros(n + 1 + t), np.ones(n)][None, :])]
        rhs += [current, -current, np.array([con.max_turnover])]
    target = problem.options.get("target_return")
    if target is not None:
        blocks.append(sparse.csr_matrix(np.r_[-est.mu, np.zeros(width - n)][None, :]))
        rhs.append(np.array([-float(target)]))
    return sparse.vstack(blocks).tocsr(), np.concatenate(rhs)


def _current(con: Constraints, n: int) -> Vector:
    current = np.zeros(n) if con.current is None else np.asarray(con.current, dtype=np.float64)
    if current.shape != (n,):
        raise InvalidError(f"current weights have shape {current.shape}; give one per symbol",
                           field="constraints.current")
    return current


def _explain(problem: Problem, beta: float) -> UnsolvableError:
    con = problem.constraints
    parts = []
    if con.max_turnover is not None:
        parts.append(f"max_turnover {con.max_turnover:g}")
    if con.groups:
        parts.append(f"{len(con.groups)} group limits")
    if problem.options.get("target_return") is not None:
        best = float(np.max(problem.estimates.mu))
        parts.append(f"target_return {float(problem.options['target_return']):g} "
                     f"(the highest expected return is {best:g})")
    said = ", ".join(parts) or "the bounds"
    return UnsolvableError(f"min_cvar has no portfolio meeting {said} with the weights summing "
                           f"to {con.budget:g}; relax them", code="INFEASIBLE_CONSTRAINTS",
                           field="constraints", extra={"confidence": beta})


def min_cvar(problem: Problem) -> Solution:
    """The `min_cvar` method: the weights of least CVaR at `confidence`."""
    started = time.perf_counter()
    est, con = problem.estimates, problem.constraints
    beta = _confidence(problem)
    t, n = est.returns.shape
    if t < 2 or t * (1.0 - beta) < 1.0:
        raise UnsolvableError(
            f"min_cvar at confidence {beta:g} needs at least {int(np.ceil(1 / (1 - beta)))} "
            f"periods (one in the tail); there are {t}", code="TOO_FEW_OBSERVATIONS",
            field="returns", extra={"periods": t})
    lower, upper = resolved_bounds(con, est.symbols)
    turnover = con.max_turnover is not None
    a_ub, b_ub = _inequalities(problem, n, t, turnover)
    width = a_ub.shape[1]
    cost = np.r_[np.zeros(n), 1.0, np.full(t, 1.0 / ((1.0 - beta) * t)),
                 np.zeros(width - n - 1 - t)]
    a_eq = np.r_[np.ones(n), np.zeros(width - n)][None, :]
    limits: Sequence[tuple[float | None, float | None]] = [
        *zip(lower.tolist(), upper.tolist(), strict=True), (None, None), *[(0.0, None)] * t,
        *[(0.0, None)] * (width - n - 1 - t)]
    result = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[con.budget],
                     bounds=limits, method="highs")
    if result.status == 2:
        raise _explain(problem, beta)
    if result.status != 0:
        raise UnsolvableError(f"min_cvar: HiGHS stopped without a solution ({result.message})",
                              code="SOLVER_FAILED", field="method")
    w = np.clip(np.asarray(result.x[:n]), lower, upper)
    notes = (f"CVaR at {beta:g} of one period's loss: {result.fun:.6g} of capital; "
             f"VaR {result.x[n]:.6g}; {t} scenarios (the estimates' periodic returns)",)
    return Solution(w, Diagnostics(solver="scipy-highs", status="optimal",
                                   iterations=int(result.nit),
                                   seconds=time.perf_counter() - started, notes=notes))
