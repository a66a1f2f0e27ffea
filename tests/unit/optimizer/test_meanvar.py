"""The mean-variance methods agree with PyPortfolioOpt's weights on real prices (the shipped
sample) within 1e-4, hold their constraints, and say why a problem cannot be solved."""

from __future__ import annotations

import numpy as np
import pytest
from pypfopt.efficient_frontier import EfficientFrontier
from tests.unit.optimizer.sample import FOUR, adjusted_closes

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer import meanvar
from mcp_trading.optimizer.estimators import estimate
from mcp_trading.optimizer.methods import METHODS
from mcp_trading.optimizer.problem import Constraints, Estimates, Problem, UnsolvableError

AGREE = 1e-4


@pytest.fixture(scope="module")
def est() -> Estimates:
    _, closes = adjusted_closes(FOUR, start="2005-01-01")
    return estimate(closes, FOUR, covariance="ledoit_wolf", risk_free_rate=0.02)


def _reference(est: Estimates, bounds: tuple[float, float] = (0.0, 1.0)) -> EfficientFrontier:
    return EfficientFrontier(est.mu, est.cov, weight_bounds=bounds)


def _weights(ef: EfficientFrontier) -> np.ndarray:
    return np.array([ef.clean_weights(cutoff=0, rounding=None)[i] for i in range(len(FOUR))])


def _run(name: str, est: Estimates, constraints: Constraints | None = None,
         **options: float) -> np.ndarray:
    problem = Problem(est, constraints or Constraints(), options)
    weights: np.ndarray = METHODS[name].run(problem).weights
    return weights


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (0.05, 0.4)])
def test_min_volatility_and_max_sharpe_agree_with_pypfopt(est: Estimates,
                                                          bounds: tuple[float, float]) -> None:
    limits = Constraints(lower=np.full(4, bounds[0]), upper=np.full(4, bounds[1]))
    ef = _reference(est, bounds)
    ef.min_volatility()
    np.testing.assert_allclose(_run("min_volatility", est, limits), _weights(ef), atol=AGREE)
    ef = _reference(est, bounds)
    ef.max_sharpe(risk_free_rate=0.02)
    np.testing.assert_allclose(_run("max_sharpe", est, limits), _weights(ef), atol=AGREE)


def test_efficient_return_risk_and_utility_agree_with_pypfopt(est: Estimates) -> None:
    ef = _reference(est)
    ef.efficient_return(target_return=0.2)
    np.testing.assert_allclose(_run("efficient_return", est, target_return=0.2), _weights(ef),
                               atol=AGREE)
    ef = _reference(est)
    ef.efficient_risk(target_volatility=0.22)
    np.testing.assert_allclose(_run("efficient_risk", est, target_volatility=0.22), _weights(ef),
                               atol=AGREE)
    ef = _reference(est)
    ef.max_quadratic_utility(risk_aversion=4.0)
    np.testing.assert_allclose(_run("max_utility", est, risk_aversion=4.0), _weights(ef),
                               atol=AGREE)


def _capped_reference(est: Estimates, cap: float) -> EfficientFrontier:
    # keyed by PyPortfolioOpt's tickers (positions, for arrays); one sector, because its
    # constraint lambdas bind the loop variables late
    ef = _reference(est)
    ef.add_sector_constraints({0: "tech", 1: "tech", 2: "other", 3: "tech"}, {}, {"tech": cap})
    return ef


def test_a_group_cap_holds_and_agrees_with_pypfopt_sector_constraints(est: Estimates) -> None:
    capped = Constraints(groups=(("tech", (0, 1, 3), None, 0.5),))
    for name, options in (("efficient_return", {"target_return": 0.25}), ("max_sharpe", {})):
        free = _run(name, est, **options)
        assert free[[0, 1, 3]].sum() > 0.55
        weights = _run(name, est, capped, **options)
        ef = _capped_reference(est, 0.5)
        getattr(ef, name)(**options, **({"risk_free_rate": 0.02} if name == "max_sharpe" else {}))
        np.testing.assert_allclose(weights, _weights(ef), atol=AGREE)
        assert weights[[0, 1, 3]].sum() == pytest.approx(0.5, abs=1e-7)  # the cap binds, holds


def test_the_turnover_limit_holds_against_the_current_weights(est: Estimates) -> None:
    current = np.full(4, 0.25)
    free = _run("max_sharpe", est)
    assert np.abs(free - current).sum() > 0.5
    for name in ("max_sharpe", "min_volatility", "max_utility"):
        limited = _run(name, est, Constraints(current=current, max_turnover=0.3))
        assert np.abs(limited - current).sum() <= 0.3 + 1e-7
        assert limited.sum() == pytest.approx(1.0, abs=1e-8)


def test_a_cash_buffer_leaves_the_weights_summing_to_one_less_it(est: Estimates) -> None:
    buffered = Constraints(cash_buffer=0.1, upper=np.full(4, 0.5))
    for name in ("min_volatility", "max_sharpe", "max_utility"):
        solution = METHODS[name].run(Problem(est, buffered))
        assert solution.weights.sum() == pytest.approx(0.9, abs=1e-8)
        assert solution.weights.max() <= 0.5 + 1e-9
        assert "cash buffer of 0.1" in solution.diagnostics.notes[0]


def test_long_short_max_sharpe_may_go_short(est: Estimates) -> None:
    weights = _run("max_sharpe", est, Constraints(long_only=False))
    ef = EfficientFrontier(est.mu, est.cov, weight_bounds=(-1, 1))
    ef.max_sharpe(risk_free_rate=0.02)
    np.testing.assert_allclose(weights, _weights(ef), atol=AGREE)


def test_no_excess_return_names_the_rate_and_the_best_asset(est: Estimates) -> None:
    high_rf = Estimates(est.symbols, est.mu, est.cov, est.returns, risk_free_rate=0.9)
    with pytest.raises(UnsolvableError) as caught:
        meanvar.max_sharpe(Problem(high_rf))
    best = int(np.argmax(est.mu))
    assert caught.value.code == "NO_EXCESS_RETURN"
    assert caught.value.message == (
        "max_sharpe needs an asset whose expected return exceeds the risk-free rate 0.9; "
        f"the highest is {est.mu[best]:.3g} ({FOUR[best]})")


def test_bounds_that_cannot_meet_the_budget_give_their_sums(est: Estimates) -> None:
    with pytest.raises(UnsolvableError) as caught:
        meanvar.min_volatility(Problem(est, Constraints(upper=np.full(4, 0.2))))
    assert caught.value.code == "INFEASIBLE_BOUNDS"
    assert "upper bounds sum to 0.8, below the budget 1" in caught.value.message
    assert caught.value.extra["upper_sum"] == pytest.approx(0.8)
    with pytest.raises(UnsolvableError) as low:
        meanvar.max_sharpe(Problem(est, Constraints(lower=np.full(4, 0.3), cash_buffer=0.1)))
    assert "lower bounds sum to 1.2, above the budget 0.9" in low.value.message


def test_a_negative_lower_bound_under_long_only_is_refused(est: Estimates) -> None:
    with pytest.raises(InvalidError) as caught:
        meanvar.min_volatility(Problem(est, Constraints(lower=np.full(4, -0.5))))
    assert caught.value.field == "constraints.lower" and "long_only" in caught.value.message


def test_a_singular_covariance_is_named() -> None:
    _, closes = adjusted_closes(("AAPL", "MSFT"), start="2010-01-01")
    twice = np.column_stack([closes, closes[:, 0]])
    est = estimate(twice, ("AAPL", "MSFT", "AAPL_COPY"))
    for method in (meanvar.min_volatility, meanvar.max_sharpe):
        with pytest.raises(UnsolvableError) as caught:
            method(Problem(est))
        assert caught.value.code == "SINGULAR_COVARIANCE"
        assert "AAPL_COPY" in caught.value.message


def test_targets_beyond_reach_give_both_figures(est: Estimates) -> None:
    with pytest.raises(UnsolvableError) as high:
        meanvar.efficient_return(Problem(est, options={"target_return": 5.0}))
    best = float(est.mu.max())
    assert high.value.code == "INFEASIBLE_TARGET"
    assert high.value.extra["max_return"] == pytest.approx(best, abs=1e-6)
    assert f"target_return 5 is above the highest expected return these constraints allow, " \
           f"{best:.4g}" in high.value.message
    lowest = meanvar.min_volatility(Problem(est)).weights
    floor = float(np.sqrt(lowest @ est.cov @ lowest))
    with pytest.raises(UnsolvableError) as low:
        meanvar.efficient_risk(Problem(est, options={"target_volatility": 0.05}))
    assert low.value.code == "INFEASIBLE_TARGET"
    assert low.value.extra["min_volatility"] == pytest.approx(floor, rel=1e-5)


def test_a_missing_target_names_the_option(est: Estimates) -> None:
    with pytest.raises(InvalidError) as caught:
        meanvar.efficient_return(Problem(est))
    assert caught.value.field == "options.target_return"


def test_the_frontier_runs_from_least_volatile_to_highest_return(est: Estimates) -> None:
    points = meanvar.frontier(Problem(est), points=8)
    assert len(points) == 8
    returns = [r for r, _, _ in points]
    vols = [v for _, v, _ in points]
    assert returns == sorted(returns) and vols == sorted(vols)
    lowest = meanvar.min_volatility(Problem(est)).weights
    np.testing.assert_allclose(points[0][2], lowest, atol=1e-9)
    assert returns[-1] == pytest.approx(float(est.mu.max()), abs=1e-6)


def test_every_mean_variance_method_is_registered() -> None:
    assert {"min_volatility", "max_sharpe", "efficient_return", "efficient_risk",
            "max_utility"} <= set(METHODS)
    assert "annual fraction" in METHODS["efficient_return"].options["target_return"]
