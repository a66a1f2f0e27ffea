"""Performance metrics of a daily equity curve and its round-trip trades: one module for
backtests (issue 14) and the end-of-day reports (issue 17).

Basis, stated once (and in every `Metrics.as_dict()` as `basis`):

- **Wealth series** `w`: the curve's `initial` equity (a backtest's starting cash) followed by
  each day's closing equity; without `initial`, the days alone. Daily returns
  `r[t] = w[t] / w[t−1] − 1`, simple (not log), one per day after the base.
- **Annualisation**: 252 trading days a year; a run of `n` daily returns lasts `n / 252`
  years (trading days, not calendar days).
- **Risk-free rate**: a parameter, annual, default 0; converted to a daily rate
  geometrically, `rf_d = (1 + rf)^(1/252) − 1`, and subtracted from each daily return.

Definitions (`DEFINITIONS` holds the same text for JSON schemas and report footers); they
match empyrical-reloaded's functions of the same series, which the tests check:

    total_return       w[-1] / w[0] − 1                          (empyrical cum_returns_final)
    cagr               (w[-1] / w[0])^(252 / n) − 1               (annual_return)
    annual_volatility  std(r, ddof=1) × √252                      (annual_volatility)
    sharpe             mean(r − rf_d) / std(r − rf_d, ddof=1) × √252   (sharpe_ratio)
    sortino            mean(r − rf_d) × 252 / (√mean(min(r − rf_d, 0)²) × √252)  (sortino_ratio)
    max_drawdown       min(w / running max(w) − 1), ≤ 0           (max_drawdown)
    calmar             cagr / |max_drawdown|                      (calmar_ratio)

Ours alone (empyrical has no such function, so the tests use hand-computed cases):

- `max_drawdown_duration_days`: trading days from the peak before the deepest trough to the
  first day the equity is back at or above that peak, or to the last day if it never
  recovers (`max_drawdown_recovered` says which). pyfolio counts calendar days and the
  longest drawdown instead; we count the days of *the* maximum drawdown.
- `win_rate`: trades with pnl > 0 over all closed trades (a pnl of exactly 0 is not a win).
- `profit_factor`: gross profit / gross loss of the closed trades.
- `turnover`: Σ traded notional / mean daily equity over the run (buying with all the cash
  once and holding is ≈ 1); `turnover_annual` = turnover × 252 / days.
- `exposure_time`: fraction of days closing with a position (gross exposure > 0);
  `exposure_average`: mean of gross exposure / equity over the days.
- `best_day`, `worst_day`: the largest and smallest daily return.

Against a benchmark (`benchmark_relation`, over the days both have a return): `beta`
cov(r, b) / var(b) (empyrical `beta`) and `correlation` (Pearson), only from
`MIN_COMMON_DAYS` common daily returns on (fewer gives null: a beta of 5 days is noise).

Undefined is null (None), never NaN or infinity, so the JSON stays valid; `notes` says why:
fewer than 2 returns (no volatility, Sharpe or Sortino); flat returns (std 0: Sharpe null,
where empyrical gives NaN); no losing day (Sortino null, empyrical gives inf); no drawdown
(Calmar null); no trades (trade metrics null); no losing trade (profit factor null rather
than infinity: an infinite factor hides that it rests on winners only — `trades` and
`win_rate` show the sample); equity at or below zero (the returns after a wipe-out mean
nothing, so every return-based metric is null; total return and max drawdown still stand).
A daily std or downside deviation below 1e-12 counts as 0: that is float rounding of a
constant series (~1e-17), where empyrical would give a Sharpe of ~1e14.
A curve whose base equity is not positive is refused (InvalidError).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np

from mcp_trading.analytics.equity import EquityCurve, FloatArray, day_text
from mcp_trading.analytics.trades import RoundTrip
from mcp_trading.domain.errors import InvalidError

__all__ = ["ANNUALISATION", "DEFINITIONS", "MIN_COMMON_DAYS", "RELATION_DEFINITIONS", "Metrics",
           "benchmark_relation", "compute_metrics", "daily_risk_free"]

ANNUALISATION = 252
MIN_COMMON_DAYS = 20
DEFINITIONS = {
    "total_return": "last equity / starting equity - 1",
    "cagr": "(last / starting equity)^(252 / daily returns) - 1",
    "annual_volatility": "sample std (ddof=1) of daily returns x sqrt(252)",
    "sharpe": "mean(daily excess return) / std(daily excess return, ddof=1) x sqrt(252)",
    "sortino": "mean(daily excess) x 252 / (sqrt(mean(min(daily excess, 0)^2)) x sqrt(252))",
    "calmar": "cagr / |max_drawdown|",
    "max_drawdown": "deepest fall from a running peak, as a fraction (<= 0)",
    "max_drawdown_duration_days": "trading days from the max drawdown's peak to recovery "
                                  "(or to the last day when not recovered)",
    "best_day": "largest daily return", "worst_day": "smallest daily return",
    "win_rate": "closed trades with pnl > 0 / closed trades",
    "profit_factor": "gross profit / gross loss of closed trades (null without a loss)",
    "average_trade_return": "mean of the closed trades' pnl / entry notional",
    "turnover": "traded notional / mean daily equity",
    "turnover_annual": "turnover x 252 / days",
    "exposure_time": "fraction of days closing with a position",
    "exposure_average": "mean of gross exposure / equity over the days",
}
#: the definitions of `benchmark_relation`'s figures
RELATION_DEFINITIONS = {
    "beta": "cov(daily return, benchmark daily return) / var(benchmark daily return), "
            "over the common days (null below 20)",
    "correlation": "Pearson correlation of the daily returns with the benchmark's, over the "
                   "common days (null below 20)",
    "common_days": "days on which both the portfolio and the benchmark have a daily return "
                   "between the same two dates",
}
#: a daily std (or downside deviation) below this is 0: what float rounding leaves of a
#: constant-return series is ~1e-17, a real series' daily std is above 1e-5
_FLAT = 1e-12
_START = "start"  # the label of the `initial` point, which has no day of its own


def daily_risk_free(annual: float) -> float:
    """The daily rate equivalent to an annual one, geometrically: (1 + rf)^(1/252) − 1."""
    if not math.isfinite(annual) or annual <= -1:
        raise InvalidError(f"risk_free_rate is {annual}; give an annual rate > -1, such as "
                           "0.04 for 4 %", field="risk_free_rate")
    return float((1.0 + annual) ** (1.0 / ANNUALISATION) - 1.0)


def _clean(value: object) -> object:
    """JSON-safe: non-finite floats become None; floats keep 10 significant digits."""
    if isinstance(value, float):
        return float(f"{value:.10g}") if math.isfinite(value) else None
    return value


@dataclass(frozen=True)
class Metrics:
    """What `compute_metrics` found (definitions: module doc and DEFINITIONS)."""

    start: str | None
    end: str | None
    days: int
    returns: int
    total_return: float | None
    cagr: float | None
    annual_volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float | None
    max_drawdown_duration_days: int | None
    max_drawdown_recovered: bool | None
    max_drawdown_peak: str | None  # a date, or "start" (the initial equity)
    max_drawdown_trough: str | None
    max_drawdown_recovery: str | None
    best_day: float | None
    worst_day: float | None
    trades: int
    win_rate: float | None
    profit_factor: float | None
    average_trade_return: float | None
    turnover: float | None
    turnover_annual: float | None
    exposure_time: float | None
    exposure_average: float | None
    risk_free_rate: float
    notes: tuple[str, ...]
    annualisation: int = ANNUALISATION

    def as_dict(self) -> dict[str, object]:
        """JSON-safe: None where undefined, floats to 10 significant digits, the basis stated."""
        out = {name: _clean(value) for name, value in asdict(self).items()}
        out["notes"] = list(self.notes)
        out["basis"] = {"annualisation_days": ANNUALISATION, "returns": "simple daily",
                        "risk_free_rate": self.risk_free_rate,
                        "risk_free_daily": "(1 + rate)^(1/252) - 1"}
        return out


class _Drawdown(NamedTuple):
    depth: float | None
    duration: int | None
    recovered: bool | None
    peak: int | None
    trough: int | None
    recovery: int | None


def _drawdown(w: FloatArray) -> _Drawdown:
    if w.size == 0:
        return _Drawdown(None, None, None, None, None, None)
    running = np.maximum.accumulate(w)
    depth = w / running - 1.0
    trough = int(np.argmin(depth))
    if depth[trough] >= 0:
        return _Drawdown(0.0, 0, True, None, None, None)
    peak = int(np.flatnonzero(w[:trough + 1] >= running[trough])[-1])
    after = np.flatnonzero(w[trough:] >= running[trough])
    if after.size:
        recovery = trough + int(after[0])
        return _Drawdown(float(depth[trough]), recovery - peak, True, peak, trough, recovery)
    return _Drawdown(float(depth[trough]), int(w.size - 1 - peak), False, peak, trough, None)


class _Ratios(NamedTuple):
    volatility: float | None = None
    sharpe: float | None = None
    sortino: float | None = None


def _ratios(r: FloatArray, rf_daily: float, notes: list[str]) -> _Ratios:
    if r.size < 2:
        notes.append(f"{r.size} daily return(s): volatility, Sharpe and Sortino need at least 2")
        return _Ratios()
    scale = math.sqrt(ANNUALISATION)
    std = float(np.std(r, ddof=1))
    volatility = (std if std >= _FLAT else 0.0) * scale
    excess = r - rf_daily
    sharpe = sortino = None
    excess_std = float(np.std(excess, ddof=1))
    if excess_std < _FLAT:
        notes.append("the daily returns are all equal (std 0): Sharpe is undefined")
    else:
        sharpe = float(np.mean(excess)) / excess_std * scale
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside < _FLAT:
        notes.append("no daily return below the risk-free rate: Sortino is undefined")
    else:
        sortino = float(np.mean(excess)) * ANNUALISATION / (downside * scale)
    return _Ratios(volatility, sharpe, sortino)


class _TradeStats(NamedTuple):
    win_rate: float | None = None
    profit_factor: float | None = None
    average_return: float | None = None


def _trade_stats(trades: Sequence[RoundTrip], notes: list[str]) -> _TradeStats:
    if not trades:
        notes.append("no closed trades: win rate, profit factor and average trade return are null")
        return _TradeStats()
    pnl = np.array([float(t.pnl) for t in trades], dtype=np.float64)
    wins = float(pnl[pnl > 0].sum())
    losses = float(-pnl[pnl < 0].sum())
    factor = wins / losses if losses > 0 else None
    if factor is None:
        notes.append("no losing trade: profit factor is null (not infinity)")
    average = float(np.mean([float(t.return_) for t in trades]))
    return _TradeStats(float(np.mean(pnl > 0)), factor, average)


class _Activity(NamedTuple):
    turnover: float | None = None
    turnover_annual: float | None = None
    exposure_time: float | None = None
    exposure_average: float | None = None


def _activity(curve: EquityCurve) -> _Activity:
    turnover = annual = time = average = None
    size = len(curve)
    mean_equity = float(np.mean(curve.equity)) if size else 0.0
    if curve.traded is not None and mean_equity > 0:
        turnover = float(np.sum(curve.traded)) / mean_equity
        annual = turnover * ANNUALISATION / size
    if curve.gross_exposure is not None and size:
        time = float(np.mean(curve.gross_exposure > 0))
        positive = curve.equity > 0
        if bool(np.any(positive)):
            average = float(np.mean(curve.gross_exposure[positive] / curve.equity[positive]))
    return _Activity(turnover, annual, time, average)


def _wealth(curve: EquityCurve) -> tuple[FloatArray, list[str]]:
    labels = [day_text(ts) for ts in curve.ts.tolist()]
    if curve.initial is None:
        return curve.equity, labels
    return np.concatenate(([curve.initial], curve.equity)), [_START, *labels]


def _label(labels: list[str], index: int | None) -> str | None:
    return None if index is None else labels[index]


def compute_metrics(curve: EquityCurve, trades: Sequence[RoundTrip] = (), *,
                    risk_free_rate: float = 0.0) -> Metrics:
    """The metrics of a daily equity curve and its closed trades (definitions: module doc)."""
    rf_daily = daily_risk_free(risk_free_rate)
    w, labels = _wealth(curve)
    if w.size and w[0] <= 0:
        raise InvalidError(f"the starting equity is {w[0]}; metrics need a positive base "
                           "(give the run's starting cash as initial)", field="initial")
    notes: list[str] = []
    total = float(w[-1] / w[0] - 1.0) if w.size > 1 else None
    r: FloatArray = np.empty(0)
    ratios, cagr, wiped = _Ratios(), None, bool(np.any(w <= 0))
    if wiped:
        first = labels[int(np.flatnonzero(w <= 0)[0])]
        notes.append(f"equity reached zero or below on {first}: return-based metrics are null")
    elif w.size > 1:
        r = w[1:] / w[:-1] - 1.0
        ratios = _ratios(r, rf_daily, notes)
        cagr = float((w[-1] / w[0]) ** (ANNUALISATION / r.size) - 1.0)
    dd = _drawdown(w)
    calmar = cagr / abs(dd.depth) if cagr is not None and dd.depth else None
    if dd.depth == 0:
        notes.append("no drawdown: Calmar is undefined")
    stats, activity = _trade_stats(trades, notes), _activity(curve)
    return Metrics(
        start=day_text(int(curve.ts[0])) if len(curve) else None,
        end=day_text(int(curve.ts[-1])) if len(curve) else None,
        days=len(curve), returns=int(r.size), total_return=total, cagr=cagr,
        annual_volatility=ratios.volatility, sharpe=ratios.sharpe, sortino=ratios.sortino,
        calmar=calmar, max_drawdown=dd.depth, max_drawdown_duration_days=dd.duration,
        max_drawdown_recovered=dd.recovered, max_drawdown_peak=_label(labels, dd.peak),
        max_drawdown_trough=_label(labels, dd.trough),
        max_drawdown_recovery=_label(labels, dd.recovery),
        best_day=float(np.max(r)) if r.size else None,
        worst_day=float(np.min(r)) if r.size else None,
        trades=len(trades), win_rate=stats.win_rate, profit_factor=stats.profit_factor,
        average_trade_return=stats.average_return, turnover=activity.turnover,
        turnover_annual=activity.turnover_annual, exposure_time=activity.exposure_time,
        exposure_average=activity.exposure_average, risk_free_rate=risk_free_rate,
        notes=tuple(notes))


def benchmark_relation(returns: Sequence[float] | FloatArray,
                       benchmark: Sequence[float] | FloatArray) -> dict[str, float | int | None]:
    """Beta and correlation of daily `returns` against the `benchmark`'s of the same days
    (module doc); null below MIN_COMMON_DAYS days or when either series is flat."""
    r = np.asarray(returns, dtype=np.float64)
    b = np.asarray(benchmark, dtype=np.float64)
    if r.shape != b.shape or r.ndim != 1:
        raise InvalidError(f"returns and benchmark returns have shapes {r.shape} and "
                           f"{b.shape}; give one of each per common day", field="benchmark")
    out: dict[str, float | int | None] = {"common_days": int(r.size), "beta": None,
                                          "correlation": None}
    if r.size < MIN_COMMON_DAYS:
        return out
    rd, bd = r - r.mean(), b - b.mean()
    var_b, var_r = float(np.mean(bd * bd)), float(np.mean(rd * rd))
    if var_b < _FLAT**2:
        return out
    cov = float(np.mean(rd * bd))
    out["beta"] = float(f"{cov / var_b:.10g}")
    if var_r >= _FLAT**2:
        out["correlation"] = float(f"{cov / math.sqrt(var_r * var_b):.10g}")
    return out
