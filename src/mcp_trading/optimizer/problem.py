"""The optimizer's contract: what a method is given (`Problem`) and what it answers (`Solution`).

Pure: numpy and the standard library (plus the domain's errors). Every estimator, method and
face of the optimizer speaks these types; nothing here does I/O.

    Estimates      symbols, annualised expected returns `mu` (N,), annualised covariance
                   `cov` (N, N), the periodic `returns` (T, N) they came from (methods such as
                   min_cvar and hrp need them), `frequency` (periods per year) and the annual
                   `risk_free_rate`, and the names of the estimators that made them
    Constraints    bounds (global or per symbol), group caps, long-only, turnover against the
                   current weights, cash buffer (weights then sum to 1 - buffer)
    Problem        Estimates + Constraints + the method's options
    Solution       weights (N,) summing to 1 - cash_buffer, and diagnostics
    UnsolvableError  a 422: the problem has no answer, said with the figures that show why
    Method         `(problem) -> Solution`; METHODS in `methods.py` maps name -> MethodSpec
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.errors import InvalidError

__all__ = ["Constraints", "Diagnostics", "Estimates", "Method", "MethodSpec", "Problem",
           "Solution", "UnsolvableError"]

Vector = npt.NDArray[np.float64]
Matrix = npt.NDArray[np.float64]


class UnsolvableError(InvalidError):
    """The problem as posed has no solution (422). `code` names why, e.g. NO_EXCESS_RETURN,
    INFEASIBLE_BOUNDS, SINGULAR_COVARIANCE, TOO_FEW_OBSERVATIONS, INFEASIBLE_TARGET; the
    message carries the figures ("max_sharpe needs an asset whose expected return exceeds the
    risk-free rate 0.04; the highest is 0.031 (KO)") and `extra` the same as numbers."""

    code = "UNSOLVABLE"


@dataclass(frozen=True, slots=True)
class Estimates:
    symbols: tuple[str, ...]
    mu: Vector                      # annualised expected returns, (N,)
    cov: Matrix                     # annualised covariance, (N, N), symmetric
    returns: Matrix                 # periodic simple returns, (T, N), no NaN
    frequency: int = 252            # periods per year
    risk_free_rate: float = 0.0     # annual, as a fraction (0.04 = 4 %)
    expected_returns_estimator: str = "mean_historical"
    covariance_estimator: str = "sample"


@dataclass(frozen=True, slots=True)
class Constraints:
    lower: Vector | None = None     # per-asset lower bounds (N,); None: 0 if long_only else -1
    upper: Vector | None = None     # per-asset upper bounds (N,); None: 1
    long_only: bool = True
    groups: tuple[tuple[str, tuple[int, ...], float | None, float | None], ...] = ()
    #        (group name, asset indices, min total or None, max total or None)
    current: Vector | None = None   # current weights (N,), for turnover
    max_turnover: float | None = None  # sum |w - current| <= max_turnover
    cash_buffer: float = 0.0        # weights sum to 1 - cash_buffer

    @property
    def budget(self) -> float:
        return 1.0 - self.cash_buffer


@dataclass(frozen=True, slots=True)
class Problem:
    estimates: Estimates
    constraints: Constraints = field(default_factory=Constraints)
    options: Mapping[str, Any] = field(default_factory=dict)  # method options (validated)


@dataclass(frozen=True, slots=True)
class Diagnostics:
    solver: str                     # e.g. "clarabel", "scipy-slsqp", "closed-form"
    status: str                     # "optimal", ...
    iterations: int | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = ()     # said plainly, e.g. "equal market weights used as prior"


@dataclass(frozen=True, slots=True)
class Solution:
    weights: Vector                 # (N,), sum = constraints.budget
    diagnostics: Diagnostics
    mu: Vector | None = None        # the expected returns used, if the method changed them
                                    # (black_litterman's posterior)


Method = Callable[[Problem], Solution]


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    title: str
    run: Method
    options: Mapping[str, str] = field(default_factory=dict)  # option -> description
    needs_mu: bool = True           # False: equal_weight, inverse_volatility, min_volatility, hrp, ...
