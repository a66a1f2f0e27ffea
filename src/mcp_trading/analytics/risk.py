"""Value at risk and expected shortfall of a portfolio from its positions' daily returns.

Pure: numpy and the standard library. The caller aligns the positions' daily closes on common
dates (`align_closes`), values today's positions (signed market value per symbol, account
currency) and asks for figures (`risk_figures`). The portfolio's daily P&L series is
`returns @ values`: today's positions held through each past day of the window.

Definitions (losses positive, in account currency; c is the confidence, α = 1 − c):

- historical: VaR = −q_α(P&L), the empirical α-quantile with linear interpolation between
  order statistics (numpy's default); ES = −mean of the P&L values ≤ −VaR.
- parametric (normal): μ and σ (ddof=1) of the P&L; VaR = −(μ + z_α σ); ES = −μ + σ φ(z_α)/α.
- cornish_fisher: the normal quantile adjusted by the P&L's skewness S and excess kurtosis K
  (population moments), z_cf = z + (z²−1)S/6 + (z³−3z)K/24 − (2z³−5z)S²/36; VaR =
  −(μ + z_cf σ); ES = −(μ + σ · mean of z_cf(p) over p in (0, α)), the average of the adjusted
  quantile function below α (midpoint rule, 4,000 points). Where the expansion is not
  monotone in the tail (large |S| or K) the figure carries a note: it is outside the
  expansion's domain of validity.

Horizon: a figure for h days is the 1-day figure × √h (the square-root-of-time rule, for every
method, the historical one included — the window's overlapping h-day returns are not used).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.errors import InvalidError

__all__ = [
    "HORIZON_SCALING",
    "METHODS",
    "Aligned",
    "RiskFigure",
    "align_closes",
    "cornish_fisher_z",
    "portfolio_pnl",
    "risk_figures",
    "var_es",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

METHODS = ("historical", "parametric", "cornish_fisher")
HORIZON_SCALING = "sqrt_time"  # h-day figure = 1-day figure x sqrt(h)
_NORMAL = NormalDist()
_CF_GRID = 4_000


@dataclass(frozen=True, slots=True)
class RiskFigure:
    """One VaR/ES figure: positive losses in account currency."""

    method: str
    confidence: float
    horizon_days: int
    var: float
    es: float
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Aligned:
    """Daily closes of the kept symbols on common dates: `closes[d, i]` is symbol i on ts[d]."""

    symbols: tuple[str, ...]
    ts: I64
    closes: F64
    excluded: tuple[tuple[str, str], ...]  # (symbol, reason)

    @property
    def returns(self) -> F64:
        """Simple daily returns, shape (len(ts) − 1, len(symbols))."""
        out: F64 = self.closes[1:] / self.closes[:-1] - 1.0
        return out


def align_closes(series: Mapping[str, tuple[I64, F64]], window: int) -> Aligned:
    """The last `window` + 1 common dates of the symbols' closes (`window` daily returns).

    Symbols are taken longest history first; one whose dates, intersected with those already
    kept, leave fewer than `window` + 1 common closes is excluded and named, so the figures
    of every method rest on one window of one length.
    """
    need = window + 1
    kept: list[str] = []
    excluded: list[tuple[str, str]] = []
    common: I64 | None = None
    for symbol in sorted(series, key=lambda s: (-int(series[s][0].shape[0]), s)):
        ts, close = series[symbol]
        ok = np.isfinite(close) & (close > 0)
        dates: I64 = ts[ok]
        merged: I64 = dates if common is None else _common(common, dates)
        if merged.shape[0] < need:
            excluded.append((symbol, f"{merged.shape[0] - 1} daily returns in common with the "
                                     f"other positions' history; the window needs {window} "
                                     "(ask a shorter window)"))
            continue
        kept.append(symbol)
        common = merged
    if common is None:
        return Aligned((), np.empty(0, np.int64), np.empty((0, 0)), tuple(excluded))
    dates = common[-need:]
    closes = np.empty((need, len(kept)))
    for i, symbol in enumerate(kept):
        ts, close = series[symbol]
        if ts.shape[0] >= need and np.array_equal(ts[-need:], dates):
            closes[:, i] = close[-need:]
        else:
            closes[:, i] = close[np.searchsorted(ts, dates)]
    return Aligned(tuple(kept), dates, closes, tuple(excluded))


def _common(kept: I64, dates: I64) -> I64:
    """The values of ascending `kept` that are in ascending `dates`. Measured: 30x faster
    than np.intersect1d here (which sorts both again), 500 series of 2,500 days."""
    if kept.shape == dates.shape and np.array_equal(kept, dates):
        return kept  # the usual case: series of one calendar
    at = np.searchsorted(dates, kept)
    hit = at < dates.shape[0]
    hit[hit] = dates[at[hit]] == kept[hit]
    out: I64 = kept[hit]
    return out


def portfolio_pnl(returns: F64, values: F64) -> F64:
    """Daily P&L of holding `values` (signed market value per column) through each day."""
    out: F64 = returns @ values
    return out


def _moments(pnl: F64) -> tuple[float, float, float, float]:
    """Mean, standard deviation (ddof=1), skewness and excess kurtosis (population moments)."""
    mu = float(pnl.mean())
    dev = pnl - mu
    m2 = float(np.mean(dev ** 2))
    sd = float(pnl.std(ddof=1))
    if m2 == 0.0:
        return mu, sd, 0.0, 0.0
    skew = float(np.mean(dev ** 3)) / m2 ** 1.5
    kurt = float(np.mean(dev ** 4)) / m2 ** 2 - 3.0
    return mu, sd, skew, kurt


def cornish_fisher_z(z: float | F64, skew: float, kurt: float) -> float | F64:
    """The Cornish-Fisher adjusted standard quantile (kurt is the excess kurtosis)."""
    return (z + (z ** 2 - 1) * skew / 6 + (z ** 3 - 3 * z) * kurt / 24
            - (2 * z ** 3 - 5 * z) * skew ** 2 / 36)


@functools.lru_cache(maxsize=32)
def _tail_grid(alpha: float) -> F64:
    """Standard normal quantiles at the midpoints of _CF_GRID equal steps of (0, alpha)."""
    grid = (np.arange(_CF_GRID) + 0.5) * (alpha / _CF_GRID)
    out: F64 = np.array([_NORMAL.inv_cdf(float(p)) for p in grid])
    out.setflags(write=False)
    return out


def _historical(pnl: F64, alpha: float) -> tuple[float, float, str | None]:
    q = float(np.quantile(pnl, alpha))
    return -q, -float(pnl[pnl <= q].mean()), None


def _parametric(pnl: F64, alpha: float) -> tuple[float, float, str | None]:
    mu, sd, _, _ = _moments(pnl)
    z = _NORMAL.inv_cdf(alpha)
    return -(mu + z * sd), -mu + sd * _NORMAL.pdf(z) / alpha, None


def _cornish_fisher(pnl: F64, alpha: float) -> tuple[float, float, str | None]:
    mu, sd, skew, kurt = _moments(pnl)
    z = _NORMAL.inv_cdf(alpha)
    zcf = np.asarray(cornish_fisher_z(_tail_grid(alpha), skew, kurt))
    note = None
    if bool(np.any(np.diff(zcf) < 0)):
        note = (f"the Cornish-Fisher expansion is not monotone in the tail (skewness {skew:.2f}, "
                f"excess kurtosis {kurt:.2f}): outside its domain of validity")
    return -(mu + float(cornish_fisher_z(z, skew, kurt)) * sd), -(mu + float(zcf.mean()) * sd), note


_BY_METHOD = {"historical": _historical, "parametric": _parametric,
              "cornish_fisher": _cornish_fisher}


def var_es(pnl: F64, method: str, confidence: float) -> tuple[float, float, str | None]:
    """1-day (VaR, ES, note) of a daily P&L series by one named method."""
    if method not in _BY_METHOD:
        raise InvalidError(f"method: {method!r} is not one of {', '.join(METHODS)}",
                           code="INVALID_QUERY", field="method")
    if not 0.0 < confidence < 1.0:
        raise InvalidError(f"confidence: must be in (0, 1), got {confidence}",
                           code="INVALID_QUERY", field="confidence")
    if pnl.shape[0] < 2:
        raise InvalidError("window: at least 2 daily P&L values are needed", code="INVALID_QUERY",
                           field="window")
    return _BY_METHOD[method](pnl, 1.0 - confidence)


def risk_figures(pnl: F64, *, methods: Sequence[str], confidences: Sequence[float],
                 horizons: Sequence[int]) -> list[RiskFigure]:
    """Every (method, confidence, horizon) figure; h days = the 1-day figure × √h."""
    out: list[RiskFigure] = []
    for method in methods:
        for confidence in confidences:
            var, es, note = var_es(pnl, method, confidence)
            for h in horizons:
                scale = math.sqrt(h)
                out.append(RiskFigure(method, confidence, h, var * scale, es * scale, note))
    return out
