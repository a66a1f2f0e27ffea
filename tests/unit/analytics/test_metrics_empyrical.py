"""The metrics agree with empyrical-reloaded on real series: buy-and-hold of AAPL, MSFT and IBM
from the shipped sample, built through build_equity_curve, with and without a risk-free rate.
empyrical gets returns computed here independently (pandas pct_change of the equity written
out by hand), so the curve and the metrics are both checked."""

from __future__ import annotations

import math
from decimal import Decimal

import empyrical  # the dev extra; a missing reference fails the run instead of skipping it
import numpy as np
import pandas as pd
import pytest
from tests.analytics_runs import sample_run
from tests.sample_prices import CLOSE_HOUR_UTC, OPEN_HOUR_UTC, Prices, at, sample_prices

from mcp_trading.analytics.equity import EquityCurve, build_equity_curve, day_text
from mcp_trading.analytics.metrics import compute_metrics, daily_risk_free
from mcp_trading.analytics.trades import Fill

CASH = Decimal(100_000)
COMMISSION = Decimal("1.5")
#: symbol -> first date without a split in the unadjusted closes that follow it
SPLIT_FREE_FROM = {"AAPL": "2005-03-01", "MSFT": "2003-03-03", "IBM": "2000-03-01"}


def _window(symbol: str) -> Prices:
    prices = sample_prices(symbol)
    first = next(i for i, d in enumerate(prices.dates) if d.isoformat() >= SPLIT_FREE_FROM[symbol])
    return Prices(symbol, prices.dates[first:], prices.open[first:], prices.close[first:])


def _buy_and_hold(prices: Prices) -> tuple[EquityCurve, pd.Series]:
    """The curve from the module, and the daily returns computed here by hand."""
    shares = (CASH - COMMISSION) // prices.open[0]
    fill = Fill(prices.symbol, "buy", shares, prices.open[0], at(prices.dates[0], OPEN_HOUR_UTC),
                COMMISSION)
    days = [at(d, CLOSE_HOUR_UTC) for d in prices.dates]
    curve = build_equity_curve([fill], days, {prices.symbol: prices.close}, CASH)
    left = CASH - shares * prices.open[0] - COMMISSION
    equity = [float(CASH)] + [float(left + shares * c) for c in prices.close]
    returns = pd.Series(equity, index=pd.RangeIndex(len(equity))).pct_change().iloc[1:]
    return curve, returns


@pytest.mark.parametrize("symbol", sorted(SPLIT_FREE_FROM))
@pytest.mark.parametrize("rate", [0.0, 0.04])
def test_the_metrics_match_empyrical_on_buy_and_hold(symbol: str, rate: float) -> None:
    curve, returns = _buy_and_hold(_window(symbol))
    got = compute_metrics(curve, risk_free_rate=rate)
    rf = daily_risk_free(rate)
    expected = {
        "total_return": empyrical.cum_returns_final(returns),
        "cagr": empyrical.annual_return(returns),
        "annual_volatility": empyrical.annual_volatility(returns),
        "sharpe": empyrical.sharpe_ratio(returns, risk_free=rf),
        "sortino": empyrical.sortino_ratio(returns, required_return=rf),
        "max_drawdown": empyrical.max_drawdown(returns),
        "calmar": empyrical.calmar_ratio(returns),
    }
    assert got.returns == len(returns) == len(curve)
    for name, value in expected.items():
        assert getattr(got, name) == pytest.approx(float(value), rel=1e-9, abs=1e-12), name
    assert got.best_day == pytest.approx(float(returns.max()), rel=1e-12)
    assert got.worst_day == pytest.approx(float(returns.min()), rel=1e-12)


def test_the_equity_curve_is_the_hand_computed_one() -> None:
    curve, returns = _buy_and_hold(_window("AAPL"))
    wealth = np.concatenate(([curve.initial], curve.equity))
    assert np.allclose(wealth[1:] / wealth[:-1] - 1, returns.to_numpy(), rtol=0, atol=1e-15)


def test_the_drawdown_matches_empyrical_drawdown_series_at_its_trough() -> None:
    curve, returns = _buy_and_hold(_window("AAPL"))
    got = compute_metrics(curve)
    series = empyrical.stats.drawdown_series(returns)
    trough = int(np.argmin(series.to_numpy()))
    assert got.max_drawdown_trough == day_text(int(curve.ts[trough]))
    # AAPL 2005-2013: the deepest fall is 2008's (from its December 2007 peak), recovered in
    # 2009; the fall from September 2012, not recovered by March 2013, is shallower
    assert got.max_drawdown_recovered is True
    assert got.max_drawdown_peak is not None and got.max_drawdown_peak.startswith("2007-12")
    assert got.max_drawdown_recovery is not None and got.max_drawdown_recovery.startswith("2009")


def test_a_flat_series_agrees_where_empyrical_is_defined() -> None:
    returns = pd.Series([0.001] * 30)
    equity = 100 * np.cumprod(1 + returns.to_numpy())
    curve = EquityCurve.of([i * 86_400 * 10**9 for i in range(30)], equity, initial=100.0)
    got = compute_metrics(curve)
    assert got.cagr == pytest.approx(empyrical.annual_return(returns), rel=1e-9)
    assert got.annual_volatility == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(empyrical.sharpe_ratio(returns)) or math.isinf(empyrical.sharpe_ratio(returns))
    assert got.sharpe is None  # empyrical: NaN/inf; ours: null with a note
    assert got.sortino is None
    assert got.calmar is None and got.max_drawdown == 0.0


@pytest.mark.parametrize("symbol", ["IBM", "MSFT", "AAPL"])
def test_the_metrics_match_empyrical_on_a_trading_curve(symbol: str) -> None:
    """A moving-average rule in and out of the market: many days of exactly zero return."""
    run = sample_run(symbol)
    wealth = np.concatenate(([run.curve.initial], run.curve.equity))
    returns = pd.Series(wealth).pct_change().iloc[1:]
    assert (returns == 0).sum() > 100  # flat while out of the market
    got = compute_metrics(run.curve, run.trades, risk_free_rate=0.02)
    rf = daily_risk_free(0.02)
    assert got.sharpe == pytest.approx(empyrical.sharpe_ratio(returns, risk_free=rf), rel=1e-9)
    assert got.sortino == pytest.approx(empyrical.sortino_ratio(returns, required_return=rf),
                                        rel=1e-9)
    assert got.annual_volatility == pytest.approx(empyrical.annual_volatility(returns), rel=1e-9)
    assert got.max_drawdown == pytest.approx(empyrical.max_drawdown(returns), rel=1e-9)
    assert got.calmar == pytest.approx(empyrical.calmar_ratio(returns), rel=1e-9)
    assert got.cagr == pytest.approx(empyrical.annual_return(returns), rel=1e-9)


def test_beta_and_correlation_match_empyrical_and_numpy() -> None:
    """Beta against a real benchmark (MSFT against AAPL's buy-and-hold returns, same days)."""
    from mcp_trading.analytics.metrics import benchmark_relation

    aapl = sample_prices("AAPL")
    msft = sample_prices("MSFT")
    common = sorted(set(aapl.dates) & set(msft.dates))[-300:]
    a = dict(zip(aapl.dates, aapl.close, strict=True))
    m = dict(zip(msft.dates, msft.close, strict=True))
    ra = pd.Series([float(a[d]) for d in common]).pct_change().iloc[1:]
    rm = pd.Series([float(m[d]) for d in common]).pct_change().iloc[1:]
    got = benchmark_relation(rm.to_numpy(), ra.to_numpy())
    assert got["common_days"] == 299
    assert got["beta"] == pytest.approx(empyrical.beta(rm.to_numpy(), ra.to_numpy()), rel=1e-9)
    assert got["correlation"] == pytest.approx(float(np.corrcoef(rm, ra)[0, 1]), rel=1e-9)
    few = benchmark_relation(rm.to_numpy()[:19], ra.to_numpy()[:19])
    assert few == {"common_days": 19, "beta": None, "correlation": None}


@pytest.mark.parametrize("symbol", sorted(SPLIT_FREE_FROM))
def test_the_drawdown_duration_is_empyricals_peak_to_recovery(symbol: str) -> None:
    """empyrical has no duration function: it is read off empyrical's drawdown series (the
    last day at 0 before the deepest trough to the first day back at 0, or the last day)."""
    curve, returns = _buy_and_hold(_window(symbol))
    got = compute_metrics(curve)
    series = empyrical.stats.drawdown_series(returns).to_numpy()
    trough = int(np.argmin(series))
    at_peak = np.flatnonzero(series[:trough + 1] >= 0)
    peak = int(at_peak[-1]) if at_peak.size else -1  # -1: the starting cash was the peak
    back = np.flatnonzero(series[trough:] >= 0)
    end = trough + int(back[0]) if back.size else len(series) - 1
    assert got.max_drawdown_duration_days == end - peak
    assert got.max_drawdown_recovered is bool(back.size)

