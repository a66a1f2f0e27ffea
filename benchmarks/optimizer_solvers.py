"""The solver candidates measured to choose the optimizer's (`optimizer.py --candidates`).

Each solves the same long-only min_volatility and max_sharpe (the homogeneous reformulation)
on the same Estimates; a candidate whose package is absent is reported as such. Dense QP
solvers come through `qpsolvers` when it is installed (pip install qpsolvers quadprog daqp
proxsuite piqp — measurement only, not dependencies of the product).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from mcp_trading.optimizer.conic import Program
from mcp_trading.optimizer.problem import Estimates

__all__ = ["candidates"]

Weights = npt.NDArray[np.float64]
Solve = Callable[[Estimates, bool], Weights]   # (estimates, sharpe?) -> weights


def _program(est: Estimates, sharpe: bool) -> Program:
    n = len(est.symbols)
    program = Program(n)
    from mcp_trading.optimizer.problem import Constraints
    program.constrain(Constraints(), np.zeros(n), np.ones(n))
    if sharpe:
        program.eq.append((program.row(est.mu, -est.risk_free_rate), np.ones(1)))
        program.le.append((program.row(None, -1.0), np.zeros(1)))
    else:
        program.eq.append((program.row(None, 1.0), np.ones(1)))
    return program


def _clarabel(method: str) -> Solve:
    def solve(est: Estimates, sharpe: bool) -> Weights:
        import clarabel
        program = _program(est, sharpe)
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        settings.direct_solve_method = method
        x = np.asarray(clarabel.DefaultSolver(*program.assemble(est.cov), settings).solve().x)
        return x[:program.n] / (x[program.n] if sharpe else 1.0)
    return solve


def _cvxpy(solver: str) -> Solve:
    def solve(est: Estimates, sharpe: bool) -> Weights:
        import cvxpy as cp
        n = len(est.symbols)
        w = cp.Variable(n)
        if sharpe:
            k = cp.Variable()
            rows = [(est.mu - est.risk_free_rate) @ w == 1, cp.sum(w) == k, w >= 0, w <= k, k >= 0]
        else:
            rows = [cp.sum(w) == 1, w >= 0, w <= 1]
        cp.Problem(cp.Minimize(cp.quad_form(w, cp.psd_wrap(est.cov))), rows).solve(solver=solver)
        out = np.asarray(w.value)
        return out / out.sum() if sharpe else out
    return solve


def _qpsolvers(name: str) -> Solve:
    def solve(est: Estimates, sharpe: bool) -> Weights:
        import qpsolvers
        n = len(est.symbols)
        if not sharpe:
            return np.asarray(qpsolvers.solve_qp(est.cov, np.zeros(n), A=np.ones((1, n)),
                                                 b=np.ones(1), lb=np.zeros(n), ub=np.ones(n),
                                                 solver=name))
        p = np.zeros((n + 1, n + 1))
        p[:n, :n] = est.cov
        p[n, n] = 1e-12   # quadprog needs P positive definite
        a = np.vstack([np.append(est.mu, -est.risk_free_rate), np.append(np.ones(n), -1.0)])
        g = np.hstack([np.eye(n), -np.ones((n, 1))])   # y <= t
        x = qpsolvers.solve_qp(p, np.zeros(n + 1), G=g, h=np.zeros(n), A=a,
                               b=np.array([1.0, 0.0]), lb=np.zeros(n + 1), solver=name)
        return np.asarray(x[:n] / x[n])
    return solve


def _slsqp(est: Estimates, sharpe: bool) -> Weights:
    from scipy.optimize import minimize
    n = len(est.symbols)
    cov, excess = est.cov, est.mu - est.risk_free_rate

    def objective(w: Weights) -> float:
        risk = float(np.sqrt(w @ cov @ w))
        return -float(excess @ w) / risk if sharpe else risk * risk
    result = minimize(objective, np.full(n, 1 / n), method="SLSQP", bounds=[(0, 1)] * n,
                      constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                      options={"maxiter": 200})
    return np.asarray(result.x)


CANDIDATES: dict[str, Solve] = {
    "clarabel-direct-qdldl": _clarabel("qdldl"),
    "clarabel-direct-faer": _clarabel("faer"),
    "cvxpy+clarabel": _cvxpy("CLARABEL"),
    "cvxpy+osqp": _cvxpy("OSQP"),
    "qpsolvers+quadprog": _qpsolvers("quadprog"),
    "qpsolvers+daqp": _qpsolvers("daqp"),
    "qpsolvers+proxqp": _qpsolvers("proxqp"),
    "qpsolvers+piqp": _qpsolvers("piqp"),
    "scipy-slsqp": _slsqp,
}


def candidates(est: Estimates, repeat: int, log: Callable[[str], None]) -> dict[str, Any]:
    """{candidate: {method: {ms, max_weight_diff vs the first candidate} or error}}."""
    out: dict[str, Any] = {}
    reference: dict[bool, Weights] = {}
    for name, solve in CANDIDATES.items():
        out[name] = {}
        for sharpe in (False, True):
            method = "max_sharpe" if sharpe else "min_volatility"
            times, weights = [], None
            try:
                for _ in range(1 if name == "scipy-slsqp" else repeat):
                    start = time.perf_counter()
                    weights = solve(est, sharpe)
                    times.append(time.perf_counter() - start)
            except Exception as exc:  # an absent package or a failed solve is the finding
                out[name][method] = {"error": f"{type(exc).__name__}: {str(exc)[:120]}"}
                continue
            assert weights is not None
            reference.setdefault(sharpe, weights)
            out[name][method] = {"ms": statistics.median(times) * 1e3,
                                 "max_weight_diff": float(np.max(np.abs(weights - reference[sharpe])))}
        log(f"[candidates] {name}: {out[name]}")
    return out
