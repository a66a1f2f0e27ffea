"""Black-Litterman (1992), in He & Litterman's form (1999), then any mean-variance method.

- Prior: the market-implied returns π = rf + δ·Σ·w_mkt (Σ annualised, π annual, the risk-free
  rate added so π is comparable with it, as PyPortfolioOpt does), w_mkt from the options'
  `market_weights` or `market_caps` (scaled to sum to 1), or equal weights — the notes say
  which. δ is `risk_aversion` (default 2.5, He & Litterman's value).
- Views: absolute `{"asset": "AAPL", "return": 0.10}` or relative `{"long": "AAPL" | [..],
  "short": "MSFT" | [..], "return": 0.02}` (each leg equally weighted, +1 and −1 in total: the
  long leg out-performs the short one by `return` a year), each with an optional
  `confidence` in (0, 1].
- Ω (diagonal): a view with a confidence gets Idzorek's uncertainty in Walters' closed form,
  ω = τ·(1 − c)/c·pΣpᵀ (c = 1: certain); a view without one gets He & Litterman's
  ω = τ·pΣpᵀ (which is Idzorek's at c = ½).
- Posterior: μ = π + τΣPᵀ(PτΣPᵀ + Ω)⁻¹(Q − Pπ); the covariance stays Σ. The posterior then
  goes to the method `then` (default max_sharpe) with `then_options`; the Solution's `mu` is
  the posterior.
- No views (`views` absent, null or `[]`): the posterior is the prior itself — the
  market-implied equilibrium returns π go to `then`, and the notes say so. Views that are
  given but malformed (not a list, an unknown asset, no return, ...) are still refused.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.problem import Matrix, Problem, Solution, Vector

__all__ = ["black_litterman", "market_prior", "posterior", "views_matrices"]

_DEFAULT_DELTA, _DEFAULT_TAU = 2.5, 0.05


def market_prior(cov: Matrix, market_weights: Vector, risk_aversion: float,
                 risk_free_rate: float = 0.0) -> Vector:
    """π = rf + δ·Σ·w (w scaled to sum to 1)."""
    w = market_weights / market_weights.sum()
    return np.asarray(risk_free_rate + risk_aversion * cov @ w)


def posterior(cov: Matrix, prior: Vector, p: Matrix, q: Vector, omega: Matrix, *,
              tau: float) -> Vector:
    """He & Litterman's posterior mean, μ = π + τΣPᵀ(PτΣPᵀ + Ω)⁻¹(Q − Pπ)."""
    tau_sigma_p = tau * cov @ p.T
    a = p @ tau_sigma_p + omega
    try:
        solution = np.linalg.solve(a, q - p @ prior)
    except np.linalg.LinAlgError as exc:
        raise InvalidError("the views are not independent (one is a combination of others, "
                           "all certain); drop one or lower a confidence",
                           field="options.views") from exc
    return np.asarray(prior + tau_sigma_p @ solution)


def _leg(raw: object, index: Mapping[str, int], where: str) -> list[int]:
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, Sequence) or not names:
        raise InvalidError(f"{where} must be a symbol or a list of symbols", field=where)
    out = []
    for name in names:
        if name not in index:
            raise InvalidError(f"{where}: {name!r} is not among the problem's symbols "
                               f"({', '.join(index)}); a view may only name those",
                               field=where, extra={"symbol": str(name)})
        out.append(index[name])
    return out


def _view_row(view: object, index: Mapping[str, int], where: str) -> tuple[Vector, float]:
    if not isinstance(view, Mapping):
        raise InvalidError(f"{where} must be an object with asset (or long/short) and return",
                           field=where)
    row = np.zeros(len(index))
    if "asset" in view:
        row[_leg(view["asset"], index, f"{where}.asset")] = 1.0
    elif "long" in view and "short" in view:
        long, short = (_leg(view[k], index, f"{where}.{k}") for k in ("long", "short"))
        if set(long) & set(short):
            raise InvalidError(f"{where}: an asset is on both legs", field=where)
        row[long] = 1.0 / len(long)
        row[short] = -1.0 / len(short)
    else:
        raise InvalidError(f"{where} needs `asset` (absolute) or `long` and `short` (relative)",
                           field=where)
    try:
        q = float(view["return"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidError(f"{where}.return must be an annual return (0.05 = 5 %)",
                           field=f"{where}.return") from exc
    if not np.isfinite(q):
        raise InvalidError(f"{where}.return must be finite", field=f"{where}.return")
    return row, q


def views_matrices(views: object, symbols: Sequence[str], cov: Matrix, tau: float
                   ) -> tuple[Matrix, Vector, Matrix]:
    """(P, Q, Ω) of the options' views (module doc)."""
    if not isinstance(views, Sequence) or isinstance(views, str) or not views:
        raise InvalidError("views must be a list of views, e.g. [{\"asset\": \"AAPL\", "
                           "\"return\": 0.1}]; leave it out (or give []) for the market "
                           "prior alone", field="options.views")
    index = {s: i for i, s in enumerate(symbols)}
    rows, qs, omegas = [], [], []
    for k, view in enumerate(views):
        where = f"options.views[{k}]"
        row, q = _view_row(view, index, where)
        variance = float(row @ cov @ row)
        confidence = view.get("confidence")
        if confidence is None:
            omegas.append(tau * variance)
        else:
            try:
                c = float(confidence)
            except (TypeError, ValueError) as exc:
                raise InvalidError(f"{where}.confidence must be a number in (0, 1]",
                                   field=f"{where}.confidence") from exc
            if not 0.0 < c <= 1.0:
                raise InvalidError(f"{where}.confidence is {c:g}; it must be in (0, 1] "
                                   "(1: certain)", field=f"{where}.confidence")
            omegas.append(tau * (1.0 - c) / c * variance)
        rows.append(row)
        qs.append(q)
    return np.array(rows), np.array(qs), np.diag(omegas)


def _number(options: Mapping[str, Any], name: str, default: float) -> float:
    try:
        value = float(options.get(name, default))
    except (TypeError, ValueError) as exc:
        raise InvalidError(f"{name} must be a positive number", field=f"options.{name}") from exc
    if not value > 0 or not np.isfinite(value):
        raise InvalidError(f"{name} is {value:g}; it must be positive", field=f"options.{name}")
    return value


def _market_weights(options: Mapping[str, Any], symbols: Sequence[str]) -> tuple[Vector, str]:
    given = [k for k in ("market_weights", "market_caps") if options.get(k) is not None]
    if not given:
        return np.full(len(symbols), 1.0 / len(symbols)), (
            "prior: equal market weights (no market_weights or market_caps given)")
    if len(given) == 2:
        raise InvalidError("give market_weights or market_caps, not both",
                           field="options.market_caps")
    name, raw = given[0], options[given[0]]
    if not isinstance(raw, Mapping):
        raise InvalidError(f"{name} must map each symbol to a number", field=f"options.{name}")
    unknown = sorted(set(map(str, raw)) - set(symbols))
    missing = [s for s in symbols if s not in raw]
    if unknown or missing:
        raise InvalidError(f"{name} must name exactly the problem's symbols; unknown: "
                           f"{', '.join(unknown) or 'none'}, missing: {', '.join(missing) or 'none'}",
                           field=f"options.{name}")
    try:
        w = np.array([float(raw[s]) for s in symbols])
    except (TypeError, ValueError) as exc:
        raise InvalidError(f"{name} must be numbers", field=f"options.{name}") from exc
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise InvalidError(f"{name} must be non-negative with a positive total",
                           field=f"options.{name}")
    return w / w.sum(), f"prior: market-implied from the given {name.replace('_', ' ')}"


def _returns(views: object, symbols: Sequence[str], cov: Matrix, prior: Vector, tau: float
             ) -> tuple[Vector, str]:
    """(the returns handed on, what the notes say of them): the posterior, or the prior."""
    if views is None or (isinstance(views, Sequence) and not isinstance(views, str)
                         and len(views) == 0):
        return prior, ("no views given: the expected returns are the market-implied prior "
                       "(the equilibrium returns π = rf + δ·Σ·w_mkt), unchanged")
    p, q, omega = views_matrices(views, symbols, cov, tau)
    return posterior(cov, prior, p, q, omega, tau=tau), (
        f"{len(p)} view(s); Ω: Idzorek for views with a confidence, He-Litterman τ·pΣpᵀ for "
        "those without")


def black_litterman(problem: Problem) -> Solution:
    """The `black_litterman` method: the posterior returns, then the method `then`."""
    from mcp_trading.optimizer.methods import METHODS

    started = time.perf_counter()
    est, options = problem.estimates, problem.options
    then = str(options.get("then", "max_sharpe"))
    spec = METHODS.get(then)
    if spec is None or not spec.needs_mu or then == "black_litterman":
        usable = sorted(name for name, s in METHODS.items() if s.needs_mu
                        and name != "black_litterman")
        raise InvalidError(f"then {then!r} is not a method that uses expected returns; choose "
                           f"one of {', '.join(usable) or '(none installed)'}",
                           field="options.then")
    then_options = options.get("then_options") or {}
    if not isinstance(then_options, Mapping):
        raise InvalidError("then_options must be an object", field="options.then_options")
    delta = _number(options, "risk_aversion", _DEFAULT_DELTA)
    tau = _number(options, "tau", _DEFAULT_TAU)
    weights, said = _market_weights(options, est.symbols)
    prior = market_prior(est.cov, weights, delta, est.risk_free_rate)
    mu, said_views = _returns(options.get("views"), est.symbols, est.cov, prior, tau)
    inner = dataclasses.replace(problem, options=then_options,
                                estimates=dataclasses.replace(
                                    est, mu=mu, expected_returns_estimator="black_litterman"))
    solved = spec.run(inner)
    notes = (said, said_views, f"risk aversion δ {delta:g}, τ {tau:g}",
             f"the {'posterior' if mu is not prior else 'prior'} returns then went to {then}",
             *solved.diagnostics.notes)
    return Solution(solved.weights, dataclasses.replace(
        solved.diagnostics, seconds=time.perf_counter() - started, notes=notes), mu=mu)
