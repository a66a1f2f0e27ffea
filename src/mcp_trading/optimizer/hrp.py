"""Hierarchical risk parity (López de Prado, "Building Diversified Portfolios that Outperform
Out of Sample", 2016), in its original three steps:

1. tree clustering: the correlation distance d_ij = √((1 − ρ_ij)/2) (clipped to [0, 1] against
   rounding), clustered by scipy's `linkage` (`single` by default, as in the paper) on the
   condensed d — as PyPortfolioOpt and skfolio do. `distance: "paper"` clusters instead on the
   Euclidean distance between the columns of d (the paper's d̃, its code's `linkage(dist)` on
   the square matrix);
2. quasi-diagonalisation: the assets in the order of the dendrogram's leaves;
3. recursive bisection: each list is halved (by position, not by the tree), each half weighted
   by its inverse-variance portfolio's variance, α = 1 − V₁/(V₁ + V₂).

Only the covariance is used (the correlation is derived from it), so the annualisation does
not matter. Measured on 500 assets (benchmarks): the bisection is done on index arrays and
the cluster variances on numpy slices; the Python loop runs ~N times.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist, squareform

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.fitting import fit_to_budget, ignored
from mcp_trading.optimizer.problem import Diagnostics, Matrix, Problem, Solution, Vector

__all__ = ["LINKAGES", "hrp", "hrp_weights"]

LINKAGES = ("single", "complete", "average", "weighted", "centroid", "median", "ward")
_DISTANCES = ("correlation", "paper")


def _cluster_variance(cov: Matrix, items: np.ndarray) -> float:
    sub = cov[np.ix_(items, items)]
    ivp = 1.0 / np.diag(sub)
    ivp /= ivp.sum()
    return float(ivp @ sub @ ivp)


def _order(cov: Matrix, linkage: str, distance: str) -> np.ndarray:
    std = np.sqrt(np.diag(cov))
    corr = cov / np.outer(std, std)
    d = np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, 1.0))
    np.fill_diagonal(d, 0.0)
    condensed = squareform(d, checks=False) if distance == "correlation" else pdist(d)
    return np.asarray(hierarchy.leaves_list(hierarchy.linkage(condensed, linkage)))


def hrp_weights(cov: Matrix, *, linkage: str = "single",
                distance: str = "correlation") -> Vector:
    """HRP weights (summing to 1) of a covariance matrix."""
    n = cov.shape[0]
    if n == 1:
        return np.ones(1)
    order = _order(cov, linkage, distance)
    w = np.ones(n)
    clusters = [order]
    while clusters:
        halves = [half for c in clusters if len(c) > 1
                  for half in (c[: len(c) // 2], c[len(c) // 2:])]
        for left, right in zip(halves[0::2], halves[1::2], strict=True):
            v_left, v_right = _cluster_variance(cov, left), _cluster_variance(cov, right)
            alpha = 1.0 - v_left / (v_left + v_right)
            w[left] *= alpha
            w[right] *= 1.0 - alpha
        clusters = [h for h in halves if len(h) > 1]
    return w


def hrp(problem: Problem) -> Solution:
    """The `hrp` method: HRP weights, fitted to the budget and bounds."""
    started = time.perf_counter()
    options = problem.options
    linkage = str(options.get("linkage", "single"))
    if linkage not in LINKAGES:
        raise InvalidError(f"linkage {linkage!r} is not one of {', '.join(LINKAGES)}",
                           field="options.linkage")
    distance = str(options.get("distance", "correlation"))
    if distance not in _DISTANCES:
        raise InvalidError(f"distance {distance!r} is not one of {', '.join(_DISTANCES)}",
                           field="options.distance")
    est = problem.estimates
    variances = np.diag(est.cov)
    if np.any(variances <= 0):
        i = int(np.flatnonzero(variances <= 0)[0])
        raise InvalidError(f"{est.symbols[i]} has variance {variances[i]:g}; hrp needs every "
                           "asset to vary (drop constant series)", field="symbols",
                           extra={"symbol": est.symbols[i]})
    raw = hrp_weights(est.cov, linkage=linkage, distance=distance)
    w, fitted = fit_to_budget(raw, problem.constraints, est.symbols, "hrp")
    notes = (f"linkage {linkage}, distance "
             + ("√((1−ρ)/2)" if distance == "correlation" else "Euclidean of √((1−ρ)/2) columns"),
             *fitted, *ignored(problem.constraints, "hrp"))
    return Solution(w, Diagnostics(solver="scipy-cluster", status="optimal",
                                   seconds=time.perf_counter() - started, notes=notes))
