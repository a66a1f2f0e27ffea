"""The estimators: expected returns and covariance from daily closes, annualised.

    EXPECTED_RETURNS  name -> Estimator of mu (N,):  mean_historical, ema_historical, capm,
                      ridge_momentum (learned.py)
    COVARIANCE        name -> Estimator of cov (N, N):  sample, ledoit_wolf, oas,
                      exp_weighted, semicovariance
    estimate(...)     validates the prices and the names, runs one of each -> Estimates
    from_returns(...) the same from periodic simple returns (inline `returns`)

Units: returns are simple period returns; `frequency` is periods per year (252 for daily);
every output is annual (mu × frequency, cov × frequency), as fractions (0.08 = 8 %). The
formulas follow PyPortfolioOpt's (tests/unit/optimizer/test_estimators.py agrees with it and
with scikit-learn), except that `mean_historical` and `ema_historical` are arithmetic unless
`compounded: true` (PyPortfolioOpt compounds by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.covariance import OAS, LedoitWolf

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer import learned
from mcp_trading.optimizer.problem import Estimates, UnsolvableError

__all__ = ["COVARIANCE", "EXPECTED_RETURNS", "Estimator", "capm", "ema_historical", "estimate",
           "exp_weighted", "from_returns", "ledoit_wolf", "mean_historical", "oas", "sample",
           "semicovariance"]

Array = npt.NDArray[np.float64]
ReturnsFn = Callable[..., Array]   # (prices, *, frequency, options, benchmark) -> mu (N,)
CovFn = Callable[..., Array]       # (returns, *, frequency, options) -> cov (N, N)


@dataclass(frozen=True, slots=True)
class Estimator:
    name: str
    title: str
    run: Callable[..., Array]
    options: Mapping[str, str] = field(default_factory=dict)   # option -> description
    full_rank: bool = False        # needs more observations than assets (an unshrunk estimate)
    needs_benchmark: bool = False  # capm: a benchmark price series


def _returns(prices: Array) -> Array:
    out: Array = prices[1:] / prices[:-1] - 1.0
    return out


def _flag(options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name, default)
    if not isinstance(value, bool):
        raise InvalidError(f"option {name} must be true or false; got {value!r}",
                           field=f"options.{name}")
    return value


def _number(options: Mapping[str, Any], name: str, default: float, *,
            minimum: float | None = None) -> float:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidError(f"option {name} must be a finite number; got {value!r}",
                           field=f"options.{name}")
    if minimum is not None and value < minimum:
        raise InvalidError(f"option {name} must be at least {minimum:g}; got {value:g}",
                           field=f"options.{name}")
    return float(value)


def _annualise(periodic: Array, frequency: int, compounded: bool) -> Array:
    out: Array = (1.0 + periodic) ** frequency - 1.0 if compounded else periodic * frequency
    return out


def _geometric(returns: Array, frequency: int) -> Array:
    growth = np.prod(1.0 + returns, axis=0)
    out: Array = growth ** (frequency / returns.shape[0]) - 1.0
    return out


def _ema_weights(count: int, span: float) -> Array:
    """pandas' `ewm(span=span, adjust=True)` weights of the last row, oldest first, summing to 1."""
    alpha = 2.0 / (span + 1.0)
    weights: Array = (1.0 - alpha) ** np.arange(count - 1, -1, -1, dtype=np.float64)
    return weights / weights.sum()


# ---- expected returns ----------------------------------------------------------------------
def mean_historical(prices: Array, *, frequency: int, options: Mapping[str, Any],
                    benchmark: Array | None = None) -> Array:
    returns = _returns(prices)
    if _flag(options, "compounded", False):
        return _geometric(returns, frequency)
    out: Array = returns.mean(axis=0) * frequency
    return out


def ema_historical(prices: Array, *, frequency: int, options: Mapping[str, Any],
                   benchmark: Array | None = None) -> Array:
    returns = _returns(prices)
    span = _number(options, "span", 500.0, minimum=1.0)
    periodic: Array = _ema_weights(returns.shape[0], span) @ returns
    return _annualise(periodic, frequency, _flag(options, "compounded", False))


def capm(prices: Array, *, frequency: int, options: Mapping[str, Any],
         benchmark: Array | None = None) -> Array:
    if benchmark is None:
        raise InvalidError("capm needs a benchmark price series (the market): give the "
                           "benchmark symbol", field="benchmark")
    returns = _returns(prices)
    market = _returns(benchmark.reshape(-1, 1))[:, 0]
    rf = _number(options, "risk_free_rate", 0.0)
    centred = market - market.mean()
    betas: Array = (returns - returns.mean(axis=0)).T @ centred / (centred @ centred)
    if _flag(options, "compounded", False):
        market_return = float(_geometric(market.reshape(-1, 1), frequency)[0])
    else:
        market_return = float(market.mean() * frequency)
    out: Array = rf + betas * (market_return - rf)
    return out


# ---- covariance ----------------------------------------------------------------------------
def sample(returns: Array, *, frequency: int, options: Mapping[str, Any]) -> Array:
    out: Array = np.cov(returns, rowvar=False, ddof=1).reshape(returns.shape[1], -1) * frequency
    return out


def ledoit_wolf(returns: Array, *, frequency: int, options: Mapping[str, Any]) -> Array:
    out: Array = LedoitWolf().fit(returns).covariance_ * frequency
    return out


def oas(returns: Array, *, frequency: int, options: Mapping[str, Any]) -> Array:
    out: Array = OAS().fit(returns).covariance_ * frequency
    return out


def exp_weighted(returns: Array, *, frequency: int, options: Mapping[str, Any]) -> Array:
    span = _number(options, "span", 180.0, minimum=1.0)
    deviations = returns - returns.mean(axis=0)
    weights = _ema_weights(returns.shape[0], span)
    out: Array = (deviations * weights[:, None]).T @ deviations * frequency
    return out


def semicovariance(returns: Array, *, frequency: int, options: Mapping[str, Any]) -> Array:
    threshold = _number(options, "benchmark_return", 0.0) / frequency
    drops = np.minimum(returns - threshold, 0.0)
    out: Array = drops.T @ drops / returns.shape[0] * frequency
    return out


_COMPOUNDED = "false (default): arithmetic mean × frequency; true: the geometric (compounded) rate"
EXPECTED_RETURNS: dict[str, Estimator] = {e.name: e for e in (
    Estimator("mean_historical", "Historical mean of simple returns", mean_historical,
              {"compounded": _COMPOUNDED}),
    Estimator("ema_historical", "Exponentially weighted mean of simple returns", ema_historical,
              {"span": "periods of the exponential weighting (pandas' span), default 500",
               "compounded": _COMPOUNDED}),
    Estimator("capm", "CAPM: rf + beta × (market return − rf), beta to the benchmark", capm,
              {"risk_free_rate": "annual fraction; defaults to the problem's risk_free_rate",
               "compounded": "false (default): market return = arithmetic mean × frequency; "
                             "true: its geometric rate"},
              needs_benchmark=True),
    Estimator("ridge_momentum", "Ridge regression on trailing momentum and volatility, "
              "fitted on past data only", learned.ridge_momentum),
)}

COVARIANCE: dict[str, Estimator] = {e.name: e for e in (
    Estimator("sample", "Sample covariance (ddof 1)", sample, full_rank=True),
    Estimator("ledoit_wolf", "Ledoit-Wolf shrinkage to a scaled identity (scikit-learn)",
              ledoit_wolf),
    Estimator("oas", "Oracle approximating shrinkage (scikit-learn)", oas),
    Estimator("exp_weighted", "Exponentially weighted covariance about the sample mean",
              exp_weighted, {"span": "periods of the exponential weighting, default 180"},
              full_rank=True),
    Estimator("semicovariance", "Semicovariance of returns below a benchmark return",
              semicovariance,
              {"benchmark_return": "annual fraction, default 0; returns below "
                                   "benchmark_return / frequency per period count"},
              full_rank=True),
)}


# ---- the entry points ----------------------------------------------------------------------
def _check_finite_positive(values: Array, name: str, symbols: tuple[str, ...],
                           returns: bool = False) -> None:
    bad = ~np.isfinite(values) | (values <= 0.0)
    if not bad.any():
        return
    row, col = (int(i) for i in np.argwhere(bad)[0])
    value = float(values[row, col]) - (1.0 if returns else 0.0)
    what = "is not a number" if math.isnan(value) else f"is {value:g}"
    rule = "returns must be finite and > -1" if returns else "prices must be finite and > 0"
    raise InvalidError(f"{name}: the {'return' if returns else 'price'} of {symbols[col]} at row "
                       f"{row} {what}; {rule} (fill or drop the gap, or shorten the range)",
                       field=name, extra={"symbol": symbols[col], "row": row})


def _validate(prices: Array, symbols: tuple[str, ...], benchmark: Array | None,
              frequency: int, risk_free_rate: float) -> None:
    if len(set(symbols)) != len(symbols) or not symbols:
        raise InvalidError("symbols must be one or more distinct names", field="symbols")
    if prices.ndim != 2 or prices.shape[1] != len(symbols):
        raise InvalidError(f"prices must be a (periods, {len(symbols)}) table, one column per "
                           f"symbol; got shape {prices.shape}", field="prices")
    _check_finite_positive(prices, "prices", symbols)
    if benchmark is not None:
        if benchmark.shape != (prices.shape[0],):
            raise InvalidError(f"the benchmark needs one price per period ({prices.shape[0]}); "
                               f"got {benchmark.shape[0] if benchmark.ndim else 0}",
                               field="benchmark")
        _check_finite_positive(benchmark.reshape(-1, 1), "benchmark", ("benchmark",))
    if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
        raise InvalidError(f"frequency is periods per year (252 for daily), an integer >= 1; "
                           f"got {frequency!r}", field="frequency")
    if not math.isfinite(risk_free_rate) or abs(risk_free_rate) >= 1.0:
        raise InvalidError("risk_free_rate is an annual fraction (0.04 = 4 %), between -1 and 1; "
                           f"got {risk_free_rate!r}", field="risk_free_rate")


def _lookup(registry: Mapping[str, Estimator], name: str, field_name: str) -> Estimator:
    try:
        return registry[name]
    except KeyError:
        raise InvalidError(f"{field_name} {name!r} is unknown; choose one of "
                           f"{', '.join(sorted(registry))}", field=field_name,
                           extra={"allowed": sorted(registry)}) from None


def _options_of(options: Mapping[str, Any], key: str, estimator: Estimator) -> Mapping[str, Any]:
    given = options.get(key) or {}
    if not isinstance(given, Mapping):
        raise InvalidError(f"options.{key} must be an object of {estimator.name}'s options",
                           field=f"options.{key}")
    # learned.py may declare its options as OPTIONS; until it does, they pass through to it
    declared = (getattr(learned, "OPTIONS", None) if estimator.run is learned.ridge_momentum
                else estimator.options)
    unknown = sorted(set(given) - set(declared)) if declared is not None else []
    if unknown:
        raise InvalidError(f"{estimator.name} has no option {unknown[0]!r}; its options are "
                           f"{', '.join(sorted(declared or {})) or 'none'}",
                           field=f"options.{key}.{unknown[0]}")
    return given


def _too_few(observations: int, needed: int, why: str) -> UnsolvableError:
    return UnsolvableError(f"{why} needs at least {needed} returns ({needed + 1} prices); got "
                           f"{observations} — widen the date range" +
                           (" or use ledoit_wolf or oas, which shrink" if "covariance" in why else ""),
                           code="TOO_FEW_OBSERVATIONS",
                           extra={"observations": observations, "needed": needed})


def _run(estimator: Estimator, key: str, **kwargs: Any) -> Array:
    try:
        out: Array = np.asarray(estimator.run(**kwargs), dtype=np.float64)
    except InvalidError as exc:
        if exc.field and exc.field.startswith("options."):
            exc.field = f"options.{key}.{exc.field.removeprefix('options.')}"
        raise
    if not np.isfinite(out).all():
        raise UnsolvableError(f"{estimator.name} gave a non-finite estimate (the prices may "
                              "hold an extreme jump); check the history or choose another "
                              f"{key} estimator", code="NON_FINITE_ESTIMATE", field=key)
    return out


def estimate(prices: npt.ArrayLike, symbols: tuple[str, ...] | list[str], *,
             expected_returns: str = "mean_historical", covariance: str = "sample",
             options: Mapping[str, Any] | None = None, frequency: int = 252,
             risk_free_rate: float = 0.0, benchmark: npt.ArrayLike | None = None) -> Estimates:
    """Estimates of closes `prices` (T+1, N), oldest first, one column per symbol.

    `options` = {"expected_returns": {...}, "covariance": {...}}, each the estimator's own.
    """
    table = np.asarray(prices, dtype=np.float64)
    names = tuple(symbols)
    market = None if benchmark is None else np.asarray(benchmark, dtype=np.float64).ravel()
    _validate(table, names, market, frequency, risk_free_rate)
    options = options or {}
    if unknown := sorted(set(options) - {"expected_returns", "covariance"}):
        raise InvalidError(f"options has expected_returns and covariance; not {unknown[0]!r}",
                           field=f"options.{unknown[0]}")
    mu_est = _lookup(EXPECTED_RETURNS, expected_returns, "expected_returns")
    cov_est = _lookup(COVARIANCE, covariance, "covariance")
    mu_options = dict(_options_of(options, "expected_returns", mu_est))
    cov_options = _options_of(options, "covariance", cov_est)
    observations, count = table.shape[0] - 1, len(names)
    if observations < 2:
        raise _too_few(observations, 2, "an estimate")
    if cov_est.full_rank and observations <= count:
        raise _too_few(observations, count + 1, f"the {cov_est.name} covariance of {count} assets")
    if mu_est.name == "capm":
        mu_options.setdefault("risk_free_rate", risk_free_rate)
    returns = _returns(table)
    mu = _run(mu_est, "expected_returns", prices=table, frequency=frequency, options=mu_options,
              benchmark=market)
    cov = _run(cov_est, "covariance", returns=returns, frequency=frequency, options=cov_options)
    return Estimates(symbols=names, mu=mu, cov=(cov + cov.T) / 2.0, returns=returns,
                     frequency=frequency, risk_free_rate=risk_free_rate,
                     expected_returns_estimator=mu_est.name, covariance_estimator=cov_est.name)


def _as_prices(returns: Array, name: str, symbols: tuple[str, ...]) -> Array:
    if returns.ndim != 2 or returns.shape[1] != len(symbols):
        raise InvalidError(f"{name} must be a (periods, {len(symbols)}) table, one column per "
                           f"symbol; got shape {returns.shape}", field=name)
    _check_finite_positive(1.0 + returns, name, symbols, returns=True)
    growth: Array = np.vstack([np.ones((1, returns.shape[1])), np.cumprod(1.0 + returns, axis=0)])
    return growth


def from_returns(returns: npt.ArrayLike, symbols: tuple[str, ...] | list[str], *,
                 benchmark: npt.ArrayLike | None = None, **kwargs: Any) -> Estimates:
    """`estimate` of periodic simple returns (T, N): prices are their compounded growth of 1."""
    names = tuple(symbols)
    table = _as_prices(np.asarray(returns, dtype=np.float64), "returns", names)
    market = None
    if benchmark is not None:
        market = _as_prices(np.asarray(benchmark, dtype=np.float64).reshape(-1, 1), "benchmark",
                            ("benchmark",))[:, 0]
    return estimate(table, names, benchmark=market, **kwargs)
