"""VaR and ES of each method against independent computations on the shipped sample's real
daily returns: order statistics by hand, scipy's normal, the textbook Cornish-Fisher
formula with scipy's moments and a numerical integral for its ES."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from tests.risk_sample import adjusted_closes, hand_pnl, ns_of

from mcp_trading.analytics.risk import (
    METHODS,
    align_closes,
    cornish_fisher_z,
    portfolio_pnl,
    risk_figures,
    var_es,
)
from mcp_trading.domain.errors import InvalidError

VALUES = {"AAPL": 40_000.0, "IBM": 25_000.0, "MSFT": -15_000.0}
WINDOW = 250


@pytest.fixture(scope="module")
def pnl() -> np.ndarray:
    return hand_pnl(VALUES, WINDOW).to_numpy()


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_historical_var_is_the_interpolated_order_statistic(pnl: np.ndarray,
                                                            confidence: float) -> None:
    ordered = sorted(pnl)
    h = (len(ordered) - 1) * (1 - confidence)  # numpy's linear rule, written out
    k = math.floor(h)
    q = ordered[k] + (h - k) * (ordered[k + 1] - ordered[k])
    var, es, _ = var_es(pnl, "historical", confidence)
    assert var == pytest.approx(-q, rel=1e-12)
    tail = [x for x in ordered if x <= q]
    assert es == pytest.approx(-sum(tail) / len(tail), rel=1e-12)


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_parametric_var_matches_scipy_normal(pnl: np.ndarray, confidence: float) -> None:
    mu, sd = float(np.mean(pnl)), float(np.std(pnl, ddof=1))
    z = stats.norm.ppf(1 - confidence)
    var, es, _ = var_es(pnl, "parametric", confidence)
    assert var == pytest.approx(-(mu + z * sd), rel=1e-9)
    assert es == pytest.approx(-mu + sd * stats.norm.pdf(z) / (1 - confidence), rel=1e-9)


@pytest.mark.parametrize("confidence", [0.95, 0.99])
def test_cornish_fisher_matches_the_textbook_formula(pnl: np.ndarray, confidence: float) -> None:
    mu, sd = float(np.mean(pnl)), float(np.std(pnl, ddof=1))
    s, k = stats.skew(pnl), stats.kurtosis(pnl)  # population (biased) moments, excess kurtosis

    def zcf(p: float) -> float:
        z = stats.norm.ppf(p)
        return float(z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24
                     - (2 * z**3 - 5 * z) * s**2 / 36)

    alpha = 1 - confidence
    var, es, _ = var_es(pnl, "cornish_fisher", confidence)
    assert var == pytest.approx(-(mu + zcf(alpha) * sd), rel=1e-9)
    integral, _ = integrate.quad(zcf, 0, alpha, limit=200)
    assert es == pytest.approx(-(mu + integral / alpha * sd), rel=2e-3)
    assert float(cornish_fisher_z(stats.norm.ppf(alpha), 0.0, 0.0)) == pytest.approx(
        stats.norm.ppf(alpha))


def test_es_is_at_least_var_for_every_method_and_confidence(pnl: np.ndarray) -> None:
    for f in risk_figures(pnl, methods=METHODS, confidences=(0.95, 0.975, 0.99),
                          horizons=(1,)):
        assert f.var > 0
        assert f.es >= f.var, f


def test_ten_days_is_the_one_day_figure_times_root_ten(pnl: np.ndarray) -> None:
    figures = risk_figures(pnl, methods=METHODS, confidences=(0.99,), horizons=(1, 10))
    for one, ten in zip(figures[::2], figures[1::2], strict=True):
        assert ten.horizon_days == 10 and one.horizon_days == 1
        assert ten.var == pytest.approx(one.var * math.sqrt(10))
        assert ten.es == pytest.approx(one.es * math.sqrt(10))


def test_aligned_closes_give_the_same_pnl_as_pandas() -> None:
    closes = adjusted_closes(sorted(VALUES))
    series = {s: (ns_of(closes), closes[s].to_numpy()) for s in VALUES}
    aligned = align_closes(series, WINDOW)
    assert aligned.excluded == () and aligned.returns.shape == (WINDOW, 3)
    values = np.array([VALUES[s] for s in aligned.symbols])
    np.testing.assert_allclose(portfolio_pnl(aligned.returns, values),
                               hand_pnl(VALUES, WINDOW).to_numpy(), rtol=1e-12)


def test_a_symbol_too_short_for_the_window_is_left_out_and_named() -> None:
    both = adjusted_closes(["AAPL"]), adjusted_closes(["META"])
    series = {s: (ns_of(f), f[s].to_numpy()) for f, s in zip(both, ["AAPL", "META"],
                                                                                strict=True)}
    aligned = align_closes(series, WINDOW)
    assert aligned.symbols == ("AAPL",)
    [(symbol, reason)] = aligned.excluded
    assert symbol == "META" and "the window needs 250" in reason
    assert align_closes(series, 150).symbols == ("AAPL", "META")


def test_an_unknown_method_or_confidence_is_refused(pnl: np.ndarray) -> None:
    with pytest.raises(InvalidError) as caught:
        var_es(pnl, "montecarlo", 0.99)
    assert caught.value.field == "method"
    with pytest.raises(InvalidError) as caught:
        var_es(pnl, "historical", 1.0)
    assert caught.value.field == "confidence"
