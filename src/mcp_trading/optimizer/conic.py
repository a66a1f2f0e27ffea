"""The mean-variance programs in one homogeneous form, and the solver call.

Variables x = [w (N), t, z (N, only with a turnover limit)]. Every constraint is written
homogeneous in the scale t, so one builder serves both kinds of method:
  - fixed scale (min_volatility, efficient_return, efficient_risk, max_utility): t = 1;
  - max_sharpe's convex reformulation (Cornuejols & Tutuncu): y = t·w with the excess
    return normalised, mu'y − rf·t = 1, t ≥ 0; minimising y'Σy maximises the Sharpe ratio,
    and w = y / t. Bounds, groups, the budget and turnover scale with t, so tight bounds and
    hundreds of assets stay one convex QP.
Constraints (homogeneous): sum w = budget·t; lower·t ≤ w ≤ upper·t; gmin·t ≤ Σ_g w ≤ gmax·t;
|w − current·t| ≤ z, Σ z ≤ max_turnover·t.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import clarabel
import numpy as np
import numpy.typing as npt
from scipy import sparse

from mcp_trading.optimizer.problem import Constraints

__all__ = ["Outcome", "Program"]

Array = npt.NDArray[np.float64]

_STATUS = {"Solved": "optimal", "AlmostSolved": "optimal_inaccurate",
           "PrimalInfeasible": "infeasible", "AlmostPrimalInfeasible": "infeasible",
           "DualInfeasible": "unbounded", "AlmostDualInfeasible": "unbounded"}


@dataclass(frozen=True, slots=True)
class Outcome:
    x: Array
    status: str            # optimal, optimal_inaccurate, infeasible, unbounded, or the solver's
    iterations: int
    seconds: float

    @property
    def solved(self) -> bool:
        return self.status in ("optimal", "optimal_inaccurate")


@dataclass(slots=True)
class Program:
    """min ½ x'Px + q'x over x = [w, t, z] subject to the rows added (A x = b, A x ≤ b, SOC)."""

    n: int
    turnover: bool = False
    eq: list[tuple[sparse.spmatrix, Array]] = field(default_factory=list)
    le: list[tuple[sparse.spmatrix, Array]] = field(default_factory=list)
    soc: list[tuple[sparse.spmatrix, Array]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return 2 * self.n + 1 if self.turnover else self.n + 1

    def row(self, w: Array | None = None, t: float = 0.0) -> sparse.csr_matrix:
        """One row: coefficients `w` on the weights and `t` on the scale."""
        dense = np.zeros(self.size)
        if w is not None:
            dense[:self.n] = w
        dense[self.n] = t
        return sparse.csr_matrix(dense)

    def block(self, w: sparse.spmatrix | Array, t: Array, z: sparse.spmatrix | None = None
              ) -> sparse.csr_matrix:
        """Rows `w` (k, N) on the weights, `t` (k,) on the scale, optionally `z` (k, N)."""
        k = w.shape[0]
        parts = [sparse.csr_matrix(w), sparse.csr_matrix(t.reshape(k, 1))]
        if self.turnover:
            parts.append(sparse.csr_matrix(z) if z is not None else sparse.csr_matrix((k, self.n)))
        return sparse.hstack(parts, format="csr")

    def constrain(self, c: Constraints, lower: Array, upper: Array) -> None:
        """The budget, bounds, groups and turnover of `c`, homogeneous in t."""
        n, eye = self.n, sparse.identity(self.n, format="csr")
        self.eq.append((self.row(np.ones(n), -c.budget), np.zeros(1)))
        self.le.append((self.block(eye, -upper), np.zeros(n)))
        self.le.append((self.block(-eye, lower), np.zeros(n)))
        for _name, members, gmin, gmax in c.groups:
            member = np.zeros(n)
            member[list(members)] = 1.0
            if gmax is not None:
                self.le.append((self.row(member, -gmax), np.zeros(1)))
            if gmin is not None:
                self.le.append((self.row(-member, gmin), np.zeros(1)))
        if self.turnover and c.max_turnover is not None:
            current = c.current if c.current is not None else np.zeros(n)
            self.le.append((self.block(eye, -current, -eye), np.zeros(n)))
            self.le.append((self.block(-eye, current, -eye), np.zeros(n)))
            total = np.zeros(self.size)
            total[self.n] = -c.max_turnover
            total[self.n + 1:] = 1.0
            self.le.append((sparse.csr_matrix(total), np.zeros(1)))

    def assemble(self, cov: Array | None, q_w: Array | None = None
                 ) -> tuple[sparse.csc_matrix, Array, sparse.csc_matrix, Array, list[Any]]:
        """(P, q, A, b, cones) of Clarabel's standard form, P's upper triangle from dense cov."""
        size, n = self.size, self.n
        if cov is None:
            p = sparse.csc_matrix((size, size))
        else:
            # the upper triangle in CSC order is the lower triangle read row by row
            rows, cols = np.tril_indices(n)
            counts = np.zeros(size + 1, dtype=np.int64)
            counts[1:n + 1] = np.arange(1, n + 1)
            p = sparse.csc_matrix((cov[rows, cols], cols, np.cumsum(counts)), shape=(size, size))
        q = np.zeros(size)
        if q_w is not None:
            q[:n] = q_w
        groups = [g for g in (self.eq, self.le, self.soc) if g]
        a = sparse.vstack([m for g in groups for m, _ in g], format="csc")
        b = np.concatenate([v for g in groups for _, v in g])
        cones: list[Any] = []
        if self.eq:
            cones.append(clarabel.ZeroConeT(sum(m.shape[0] for m, _ in self.eq)))
        if self.le:
            cones.append(clarabel.NonnegativeConeT(sum(m.shape[0] for m, _ in self.le)))
        cones.extend(clarabel.SecondOrderConeT(m.shape[0]) for m, _ in self.soc)
        return p, q, a, b, cones

    def solve(self, cov: Array | None, q_w: Array | None = None) -> Outcome:
        """Minimise ½ w'(cov)w + q_w'w under the rows; cov is dense (N, N) and symmetric."""
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        solution = clarabel.DefaultSolver(*self.assemble(cov, q_w), settings).solve()
        status = str(solution.status)
        return Outcome(np.asarray(solution.x, dtype=np.float64), _STATUS.get(status, status),
                       int(solution.iterations), float(solution.solve_time))
