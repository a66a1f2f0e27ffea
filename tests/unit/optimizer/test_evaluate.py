"""Walk-forward evaluation on real prices (the sample's adjusted closes of AAPL, IBM, MSFT and
GOOG): no look-ahead, the equity and turnover of a rule checked by hand, the learned estimator
beside mean_historical, and ridge_momentum's training on past blocks only."""

from __future__ import annotations

import numpy as np
import pytest
from tests.optimizer_prices import adjusted_closes

from mcp_trading.analytics.equity import EquityCurve
from mcp_trading.analytics.metrics import compute_metrics
from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.estimators import estimate
from mcp_trading.optimizer.evaluate import Candidate, evaluate
from mcp_trading.optimizer.learned import ridge_momentum
from mcp_trading.optimizer.problem import UnsolvableError

WINDOW, EVERY = 252, 21


def _perturbed(prices: np.ndarray, after: int) -> np.ndarray:
    out = prices.copy()
    rng = np.random.default_rng(3)
    shocks = np.exp(np.cumsum(rng.normal(0.0, 0.03, size=(len(out) - after - 1, out.shape[1])),
                              axis=0))
    out[after + 1:] *= shocks
    return out


@pytest.mark.parametrize("candidate", [
    Candidate("min_volatility", covariance="ledoit_wolf"),
    Candidate("max_sharpe", expected_returns="ridge_momentum", covariance="ledoit_wolf"),
    Candidate("hrp"),
])
def test_no_rebalance_sees_a_price_after_its_day(candidate: Candidate) -> None:
    sample = adjusted_closes()
    prices, ts = sample.prices[:1000], sample.ts()[:1000]
    k = WINDOW + 10 * EVERY  # a rebalance row; everything after it is changed
    runs = [evaluate(p, sample.symbols, ts, [candidate], window=WINDOW, rebalance_every=EVERY)
            for p in (prices, _perturbed(prices, k))]
    day = sample.dates[k].isoformat()
    before, after = ([a for a in r.results[0].allocations if a[0] <= day] for r in runs)
    assert before and before == after           # decided on rows <= their day only
    later = [[a for a in r.results[0].allocations if a[0] > day] for r in runs]
    assert later[0] != later[1]                 # the changed future does move later ones
    equity = [r.results[0].equity for r in runs]
    assert equity[0][: k - WINDOW + 1] == equity[1][: k - WINDOW + 1]


def test_equal_weight_equity_and_turnover_match_a_hand_computation() -> None:
    sample = adjusted_closes()
    prices, ts = sample.prices[:800], sample.ts()[:800]
    result = evaluate(prices, sample.symbols, ts, [Candidate("equal_weight")], window=WINDOW,
                      rebalance_every=EVERY).results[0]
    value, curve, turnover = 1.0, [1.0], 0.0
    holdings = np.zeros(4)
    for t in range(WINDOW, len(prices) - 1, EVERY):
        if t > WINDOW:
            drifted = holdings / holdings.sum()
            turnover += float(np.abs(0.25 - drifted).sum())
        holdings = np.full(4, value / 4)
        for s in range(t + 1, min(t + EVERY, len(prices) - 1) + 1):
            curve.append(float(holdings @ (prices[s] / prices[t])))
        holdings = holdings * prices[min(t + EVERY, len(prices) - 1)] / prices[t]
        value = float(holdings.sum())
    assert np.allclose([e for _, e in result.equity], curve, rtol=1e-12)
    assert result.metrics["turnover"] == pytest.approx(turnover, rel=1e-12)
    assert result.metrics["max_drawdown"] == pytest.approx(
        float(np.min(np.array(curve) / np.maximum.accumulate(curve) - 1.0)), abs=1e-12)
    assert result.rebalances == len(range(WINDOW, len(prices) - 1, EVERY))


def test_the_learned_estimator_is_set_beside_mean_historical() -> None:
    sample = adjusted_closes()
    candidates = [Candidate("max_sharpe", covariance="ledoit_wolf"),
                  Candidate("max_sharpe", expected_returns="ridge_momentum",
                            covariance="ledoit_wolf"),
                  Candidate("equal_weight")]
    run = evaluate(sample.prices, sample.symbols, sample.ts(), candidates, window=504,
                   rebalance_every=63, risk_free_rate=0.02)
    assert [r.name for r in run.results] == [c.name for c in candidates]
    (comparison,) = run.comparisons
    assert comparison["versus"] == candidates[0].name
    mine, theirs = comparison["sharpe"], comparison["versus_sharpe"]
    assert comparison["beat_mean_historical"] == (mine > theirs)
    for r in run.results:
        assert r.metrics["sharpe"] is not None and r.metrics["volatility"] > 0
        # the metrics are the analytics module's, over the same out-of-sample curve
        curve = EquityCurve(ts=sample.ts()[504:], equity=np.array([e for _, e in r.equity]))
        assert r.metrics["sharpe"] == compute_metrics(curve, risk_free_rate=0.02).sharpe


def test_a_window_longer_than_the_history_is_refused() -> None:
    sample = adjusted_closes()
    with pytest.raises(InvalidError) as caught:
        evaluate(sample.prices[:100], sample.symbols, sample.ts()[:100], [Candidate("hrp")],
                 window=200, rebalance_every=5)
    assert caught.value.field == "window"


def test_an_unsolvable_rebalance_keeps_the_holdings_and_says_so() -> None:
    sample = adjusted_closes()
    # ridge_momentum needs 126 + 3 x 21 + 1 prices; a 150-period window is too short
    run = evaluate(sample.prices[:400], sample.symbols, sample.ts()[:400],
                   [Candidate("max_sharpe", expected_returns="ridge_momentum")], window=150,
                   rebalance_every=50)
    result = run.results[0]
    assert result.rebalances == 0
    assert any("ridge_momentum needs" in n for n in result.notes)
    assert all(e == 1.0 for _, e in result.equity)


def test_ridge_momentum_learns_only_from_blocks_that_had_ended() -> None:
    sample = adjusted_closes()
    prices = sample.prices[:600]
    mu = ridge_momentum(prices, frequency=252, options={})
    # changing the last price changes the prediction's features but a model trained on
    # targets beyond the data would not exist: the estimate uses rows <= the last only
    assert mu.shape == (4,) and np.all(np.isfinite(mu))
    again = ridge_momentum(_perturbed(sample.prices[:800], 599)[:600], frequency=252, options={})
    assert np.array_equal(mu, again)
    with pytest.raises(UnsolvableError):
        ridge_momentum(prices[:150], frequency=252, options={})


def test_ridge_momentum_runs_through_the_estimators_entry_point() -> None:
    sample = adjusted_closes()
    est = estimate(sample.prices[:600], sample.symbols, expected_returns="ridge_momentum",
                   options={"expected_returns": {"horizon": 10, "alpha": 5.0}})
    assert est.expected_returns_estimator == "ridge_momentum"
    assert np.all(np.isfinite(est.mu))
