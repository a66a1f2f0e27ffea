"""The estimators agree with PyPortfolioOpt and scikit-learn on real prices (the shipped
sample), and refuse bad input with the field and the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pypfopt import expected_returns as pexp
from pypfopt import risk_models as prisk
from sklearn.covariance import OAS, LedoitWolf
from tests.unit.optimizer.sample import FOUR, adjusted_closes

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.estimators import COVARIANCE, EXPECTED_RETURNS, estimate, from_returns
from mcp_trading.optimizer.problem import UnsolvableError

TOL = 1e-10


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    dates, closes = adjusted_closes(FOUR, start="2008-01-01")
    return pd.DataFrame(closes, index=pd.to_datetime(dates), columns=list(FOUR))


def _mu(frame: pd.DataFrame, name: str, **options: object) -> np.ndarray:
    return estimate(frame.to_numpy(), FOUR, expected_returns=name,
                    options={"expected_returns": options}).mu


def _cov(frame: pd.DataFrame, name: str, **options: object) -> np.ndarray:
    return estimate(frame.to_numpy(), FOUR, covariance=name,
                    options={"covariance": options}).cov


def test_mean_historical_is_the_arithmetic_mean_unless_compounded(frame: pd.DataFrame) -> None:
    arithmetic = pexp.mean_historical_return(frame, compounding=False).to_numpy()
    geometric = pexp.mean_historical_return(frame, compounding=True).to_numpy()
    np.testing.assert_allclose(_mu(frame, "mean_historical"), arithmetic, rtol=TOL)
    np.testing.assert_allclose(_mu(frame, "mean_historical", compounded=True), geometric, rtol=TOL)


def test_ema_historical_agrees_with_pypfopt_for_a_span(frame: pd.DataFrame) -> None:
    for compounded in (False, True):
        expected = pexp.ema_historical_return(frame, span=120, compounding=compounded).to_numpy()
        got = _mu(frame, "ema_historical", span=120, compounded=compounded)
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_capm_uses_the_beta_to_the_benchmark_and_its_mean(frame: pd.DataFrame) -> None:
    assets, market = frame[["AAPL", "GOOG", "IBM"]], frame[["MSFT"]]
    expected = pexp.capm_return(assets, market_prices=market, risk_free_rate=0.03,
                                compounding=False).to_numpy()
    got = estimate(assets.to_numpy(), ("AAPL", "GOOG", "IBM"), expected_returns="capm",
                   risk_free_rate=0.03, benchmark=market.to_numpy()[:, 0]).mu
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_capm_without_a_benchmark_names_the_field(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidError) as caught:
        estimate(frame.to_numpy(), FOUR, expected_returns="capm")
    assert caught.value.field == "benchmark"


def test_sample_and_shrunk_covariances_agree_with_pypfopt_and_sklearn(frame: pd.DataFrame) -> None:
    returns = frame.pct_change().dropna().to_numpy()
    np.testing.assert_allclose(_cov(frame, "sample"), prisk.sample_cov(frame).to_numpy(), rtol=TOL)
    shrink = prisk.CovarianceShrinkage(frame)
    np.testing.assert_allclose(_cov(frame, "ledoit_wolf"), shrink.ledoit_wolf().to_numpy(), rtol=TOL)
    np.testing.assert_allclose(_cov(frame, "oas"), shrink.oracle_approximating().to_numpy(), rtol=TOL)
    np.testing.assert_allclose(_cov(frame, "ledoit_wolf"),
                               LedoitWolf().fit(returns).covariance_ * 252, rtol=TOL)
    np.testing.assert_allclose(_cov(frame, "oas"), OAS().fit(returns).covariance_ * 252, rtol=TOL)


def test_exp_weighted_and_semicovariance_agree_with_pypfopt(frame: pd.DataFrame) -> None:
    np.testing.assert_allclose(_cov(frame, "exp_weighted", span=90),
                               prisk.exp_cov(frame, span=90).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(_cov(frame, "semicovariance"),
                               prisk.semicovariance(frame, benchmark=0).to_numpy(), rtol=TOL)
    np.testing.assert_allclose(_cov(frame, "semicovariance", benchmark_return=0.05),
                               prisk.semicovariance(frame, benchmark=0.05 / 252).to_numpy(),
                               rtol=TOL)


def test_estimates_name_their_estimators_and_units(frame: pd.DataFrame) -> None:
    est = estimate(frame.to_numpy(), FOUR, expected_returns="ema_historical",
                   covariance="oas", frequency=252, risk_free_rate=0.02)
    assert (est.expected_returns_estimator, est.covariance_estimator) == ("ema_historical", "oas")
    assert est.returns.shape == (len(frame) - 1, 4) and est.risk_free_rate == 0.02
    assert np.array_equal(est.cov, est.cov.T)


def test_from_returns_equals_estimate_on_the_prices(frame: pd.DataFrame) -> None:
    prices = frame.to_numpy()
    returns = prices[1:] / prices[:-1] - 1
    direct = estimate(prices, FOUR, covariance="ledoit_wolf")
    inline = from_returns(returns, FOUR, covariance="ledoit_wolf")
    np.testing.assert_allclose(inline.mu, direct.mu, rtol=1e-9)
    np.testing.assert_allclose(inline.cov, direct.cov, rtol=1e-9)


def test_every_estimator_is_registered_with_its_options() -> None:
    assert set(EXPECTED_RETURNS) == {"mean_historical", "ema_historical", "capm", "ridge_momentum"}
    assert set(COVARIANCE) == {"sample", "ledoit_wolf", "oas", "exp_weighted", "semicovariance"}
    assert "span" in EXPECTED_RETURNS["ema_historical"].options
    assert "benchmark_return" in COVARIANCE["semicovariance"].options


@pytest.mark.parametrize(("bad", "word"), [(np.nan, "not a number"), (0.0, "is 0"),
                                           (-3.0, "is -3"), (np.inf, "is inf")])
def test_a_bad_price_names_the_field_the_symbol_and_the_row(bad: float, word: str) -> None:
    _, closes = adjusted_closes(FOUR, start="2010-01-01", end="2010-12-31")
    closes[7, 2] = bad
    with pytest.raises(InvalidError) as caught:
        estimate(closes, FOUR)
    assert caught.value.field == "prices"
    assert "IBM" in caught.value.message and "row 7" in caught.value.message
    assert word in caught.value.message


def test_an_inline_return_at_or_below_minus_one_is_refused() -> None:
    returns = np.full((10, 2), 0.01)
    returns[3, 1] = -1.0
    with pytest.raises(InvalidError) as caught:
        from_returns(returns, ("A", "B"))
    assert caught.value.field == "returns" and "B" in caught.value.message


def test_too_few_observations_for_a_full_rank_covariance_says_how_many() -> None:
    _, closes = adjusted_closes(FOUR, start="2010-01-04", end="2010-01-08")  # 5 closes, 4 returns
    with pytest.raises(UnsolvableError) as caught:
        estimate(closes, FOUR, covariance="sample")
    assert caught.value.code == "TOO_FEW_OBSERVATIONS"
    assert caught.value.extra == {"observations": 4, "needed": 5}
    assert "needs at least 5 returns" in caught.value.message and "got 4" in caught.value.message
    assert estimate(closes, FOUR, covariance="ledoit_wolf").cov.shape == (4, 4)  # shrinkage copes
    with pytest.raises(UnsolvableError) as one:
        estimate(closes[:2], FOUR, covariance="oas")
    assert one.value.extra == {"observations": 1, "needed": 2}


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"expected_returns": "median"}, "expected_returns"),
    ({"covariance": "shrunk"}, "covariance"),
    ({"options": {"covariance": {"spam": 1}}}, "options.covariance.spam"),
    ({"options": {"covariance": {"span": -2}}, "covariance": "exp_weighted"},
     "options.covariance.span"),
    ({"options": {"expected_returns": {"compounded": "yes"}}}, "options.expected_returns.compounded"),
    ({"frequency": 0}, "frequency"),
    ({"risk_free_rate": 4.0}, "risk_free_rate"),
])
def test_bad_names_and_options_name_their_field(kwargs: dict[str, object], field: str) -> None:
    _, closes = adjusted_closes(FOUR, start="2010-01-01", end="2010-12-31")
    with pytest.raises(InvalidError) as caught:
        estimate(closes, FOUR, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
