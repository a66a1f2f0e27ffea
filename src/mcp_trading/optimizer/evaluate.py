"""Walk-forward, out-of-sample evaluation of methods side by side.

    rows 0 … T of `prices` (closes, oldest first); W = `window`, K = `rebalance_every`
    rebalance at rows t = W, W+K, W+2K, … < T:
        estimate on rows t−W … t only (W returns: nothing after row t is read)
        solve the candidate's method on those estimates -> target weights
        hold them (buy and hold, the weights drift) over rows t+1 … min(t+K, T)

- Equity starts at 1 on row W; the part of the budget not invested (the cash buffer) earns
  the risk-free rate, compounded daily as the metrics module converts it.
- Turnover: Σ|w_target − w_drifted| at each rebalance after the first (two-sided, as a
  fraction of equity; the first purchase from cash is not counted); `turnover_annual` is it
  × 252 / out-of-sample periods. A turnover limit is applied from the second rebalance on,
  against the drifted weights.
- A rebalance the method cannot solve (an UnsolvableError: too few observations, no excess
  return, …) keeps the holdings and says so in the candidate's notes with the day.
- Metrics of the out-of-sample equity: `mcp_trading.analytics.metrics.compute_metrics` (the
  platform's one definition, which matches empyrical): annual return = CAGR over 252 trading
  days, volatility, Sharpe at the risk-free rate, max drawdown — so daily data only
  (frequency 252).
- `comparisons`: each candidate whose expected returns are not mean_historical beside the
  candidate with the same method and covariance on mean_historical, if one was asked for —
  whether the learned (or other) estimator beat the historical mean on Sharpe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mcp_trading.analytics.equity import EquityCurve, day_text
from mcp_trading.analytics.metrics import compute_metrics, daily_risk_free
from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.estimators import estimate as default_estimate
from mcp_trading.optimizer.methods import METHODS
from mcp_trading.optimizer.problem import Constraints, Estimates, Problem, UnsolvableError

__all__ = ["Candidate", "CandidateResult", "EstimateFn", "Evaluation", "evaluate"]

Array = npt.NDArray[np.float64]
EstimateFn = Callable[..., Estimates]
"""(prices (W+1, N), symbols, *, expected_returns, covariance, options, frequency,
risk_free_rate, benchmark) -> Estimates — `estimators.estimate`'s signature."""

_MAX_CANDIDATES = 20


@dataclass(frozen=True, slots=True)
class Candidate:
    """One (method, estimators, options) to evaluate."""

    method: str
    expected_returns: str = "mean_historical"
    covariance: str = "sample"
    options: Mapping[str, Any] = field(default_factory=dict)            # the method's
    estimator_options: Mapping[str, Any] = field(default_factory=dict)  # estimate()'s options
    label: str | None = None

    @property
    def name(self) -> str:
        return self.label or f"{self.method} / {self.expected_returns} / {self.covariance}"


@dataclass(frozen=True, slots=True)
class CandidateResult:
    name: str
    candidate: Candidate
    metrics: dict[str, float | int | None]   # annual_return, volatility, sharpe, max_drawdown,
    #                                          total_return, turnover, turnover_annual
    equity: tuple[tuple[str, float], ...]    # (day, equity) from the first rebalance, base 1
    rebalances: int                          # rebalances solved
    allocations: tuple[tuple[str, tuple[float, ...]], ...]  # (day, target) of each solved one
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    symbols: tuple[str, ...]
    window: int
    rebalance_every: int
    start: str                               # the first out-of-sample day's base (row W)
    end: str
    results: tuple[CandidateResult, ...]
    comparisons: tuple[dict[str, Any], ...]
    basis: str = ("walk-forward: estimate on the trailing window only, rebalance every K "
                  "periods, buy and hold between; metrics over 252 trading days a year")


def _check(prices: Array, symbols: Sequence[str], ts: npt.NDArray[np.int64],
           candidates: Sequence[Candidate], *, window: int, every: int, frequency: int) -> None:
    if prices.ndim != 2 or prices.shape[1] != len(symbols):
        raise InvalidError(f"prices must be (periods, {len(symbols)}); got {prices.shape}",
                           field="prices")
    if ts.shape != (prices.shape[0],) or np.any(np.diff(ts) <= 0):
        raise InvalidError("ts needs one increasing time per row of prices", field="ts")
    if not np.all(np.isfinite(prices)) or np.any(prices <= 0):
        raise InvalidError("prices must be finite and > 0 (fill or drop the gaps)",
                           field="prices")
    if frequency != 252:
        raise InvalidError(f"evaluate measures daily closes (frequency 252); got {frequency}",
                           field="frequency")
    if window < 2 or prices.shape[0] < window + 2:
        raise InvalidError(f"window is {window} periods and there are {prices.shape[0]} prices; "
                           f"the window needs at least 2 periods and one more price after it "
                           f"(give at least {max(window, 2) + 2} prices or a shorter window)",
                           field="window")
    if every < 1:
        raise InvalidError(f"rebalance_every is {every}; it must be at least 1 period",
                           field="rebalance_every")
    if not candidates or len(candidates) > _MAX_CANDIDATES:
        raise InvalidError(f"give 1 to {_MAX_CANDIDATES} candidates", field="candidates")
    for i, c in enumerate(candidates):
        if c.method not in METHODS:
            raise InvalidError(f"method {c.method!r} is unknown; choose one of "
                               f"{', '.join(sorted(METHODS))}", field=f"candidates[{i}].method")


@dataclass(slots=True)
class _Book:
    holdings: Array          # value per asset
    cash: float
    turnover: float = 0.0
    solved: int = 0


def _targets(candidate: Candidate, prices: Array, symbols: tuple[str, ...], *, t: int,
             window: int, book: _Book, context: Mapping[str, Any]) -> Array:
    est: Estimates = context["estimate"](
        prices[t - window: t + 1], symbols, expected_returns=candidate.expected_returns,
        covariance=candidate.covariance, options=candidate.estimator_options,
        frequency=context["frequency"], risk_free_rate=context["risk_free_rate"],
        benchmark=None if context["benchmark"] is None else context["benchmark"][t - window:
                                                                                t + 1])
    constraints: Constraints = context["constraints"]
    if constraints.max_turnover is not None:
        equity = book.holdings.sum() + book.cash
        constraints = (dataclasses.replace(constraints, current=book.holdings / equity)
                       if book.solved else dataclasses.replace(constraints, max_turnover=None))
    solution = METHODS[candidate.method].run(Problem(est, constraints, candidate.options))
    return np.asarray(solution.weights, dtype=np.float64)


def _run(candidate: Candidate, prices: Array, symbols: tuple[str, ...], *,
         ts: npt.NDArray[np.int64], window: int, every: int,
         context: Mapping[str, Any]) -> CandidateResult:
    last = prices.shape[0] - 1
    rf_daily = daily_risk_free(context["risk_free_rate"])
    book = _Book(np.zeros(len(symbols)), 1.0)
    equity: list[float] = [1.0]
    notes: list[str] = []
    allocations: list[tuple[str, tuple[float, ...]]] = []
    for t in range(window, last, every):
        total = book.holdings.sum() + book.cash
        try:
            target = _targets(candidate, prices, symbols, t=t, window=window, book=book,
                              context=context)
        except UnsolvableError as exc:
            notes.append(f"{day_text(int(ts[t]))}: kept the holdings — {exc.message}")
        else:
            if book.solved:
                book.turnover += float(np.abs(target - book.holdings / total).sum())
            book.holdings, book.cash = target * total, float(total - target.sum() * total)
            book.solved += 1
            allocations.append((day_text(int(ts[t])), tuple(float(x) for x in target)))
        end = min(t + every, last)
        growth = prices[t + 1: end + 1] / prices[t]
        cash = book.cash * (1.0 + rf_daily) ** np.arange(1, end - t + 1)
        equity.extend((growth @ book.holdings + cash).tolist())
        book.holdings = book.holdings * growth[-1]
        book.cash = float(cash[-1])
    if not book.solved:
        notes.append("no rebalance could be solved: the equity stayed in cash")
    curve = EquityCurve(ts=ts[window:], equity=np.array(equity))
    m = compute_metrics(curve, risk_free_rate=context["risk_free_rate"])
    periods = last - window
    metrics: dict[str, float | int | None] = {
        "annual_return": m.cagr, "volatility": m.annual_volatility, "sharpe": m.sharpe,
        "max_drawdown": m.max_drawdown, "total_return": m.total_return,
        "turnover": book.turnover, "turnover_annual": book.turnover * 252 / periods}
    days = [day_text(int(x)) for x in ts[window:]]
    return CandidateResult(candidate.name, candidate, metrics,
                           tuple(zip(days, equity, strict=True)), book.solved,
                           tuple(allocations),
                           (*(n for n in m.notes if "trade" not in n), *notes))


def _comparisons(results: Sequence[CandidateResult]) -> tuple[dict[str, Any], ...]:
    out = []
    for r in results:
        c = r.candidate
        if c.expected_returns == "mean_historical":
            continue
        for other in results:
            o = other.candidate
            if (o.expected_returns == "mean_historical" and o.method == c.method
                    and o.covariance == c.covariance):
                mine, theirs = r.metrics["sharpe"], other.metrics["sharpe"]
                beat = None if mine is None or theirs is None else bool(mine > theirs)
                out.append({"candidate": r.name, "versus": other.name, "sharpe": mine,
                            "versus_sharpe": theirs, "beat_mean_historical": beat})
                break
    return tuple(out)


def evaluate(prices: npt.ArrayLike, symbols: Sequence[str], ts: npt.ArrayLike,
             candidates: Sequence[Candidate], *, window: int, rebalance_every: int,
             frequency: int = 252, risk_free_rate: float = 0.0,
             constraints: Constraints | None = None, estimate: EstimateFn | None = None,
             benchmark: npt.ArrayLike | None = None) -> Evaluation:
    """Each candidate walked forward over `prices` (module doc), side by side."""
    table = np.asarray(prices, dtype=np.float64)
    times = np.asarray(ts, dtype=np.int64)
    names = tuple(symbols)
    _check(table, names, times, candidates, window=window, every=rebalance_every,
           frequency=frequency)
    context = {"estimate": estimate or default_estimate, "frequency": frequency,
               "risk_free_rate": risk_free_rate, "constraints": constraints or Constraints(),
               "benchmark": None if benchmark is None else np.asarray(benchmark, np.float64)}
    results = tuple(_run(c, table, names, ts=times, window=window, every=rebalance_every,
                         context=context) for c in candidates)
    return Evaluation(names, window, rebalance_every, day_text(int(times[window])),
                      day_text(int(times[-1])), results, _comparisons(results))
