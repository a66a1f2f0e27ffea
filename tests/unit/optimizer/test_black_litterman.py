"""Black-Litterman's posterior on real prices agrees with PyPortfolioOpt's
BlackLittermanModel (market prior from caps, absolute and relative views, Idzorek and
He-Litterman uncertainties), and bad views are refused naming the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pypfopt import BlackLittermanModel, market_implied_prior_returns
from tests.optimizer_prices import adjusted_closes

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.methods import METHODS
from mcp_trading.optimizer.problem import Estimates, Problem

CAPS = {"AAPL": 420e9, "IBM": 210e9, "MSFT": 230e9, "GOOG": 260e9}  # early-2013, rounded
VIEWS = [{"asset": "AAPL", "return": 0.12, "confidence": 0.6},
         {"long": "MSFT", "short": "IBM", "return": 0.03, "confidence": 0.3}]


def _estimates(rf: float = 0.02) -> Estimates:
    sample = adjusted_closes()
    r = sample.returns
    return Estimates(sample.symbols, r.mean(axis=0) * 252, np.cov(r, rowvar=False) * 252, r,
                     risk_free_rate=rf)


def _reference(est: Estimates, *, confidences: bool) -> np.ndarray:
    names = list(est.symbols)
    cov = pd.DataFrame(est.cov, index=names, columns=names)
    prior = market_implied_prior_returns(pd.Series(CAPS), 2.5, cov, est.risk_free_rate)
    p = np.array([[1.0, 0, 0, 0], [0, -1.0, 1.0, 0]])
    model = BlackLittermanModel(cov, pi=prior, P=p, Q=np.array([0.12, 0.03]), tau=0.05,
                                omega="idzorek" if confidences else None,
                                view_confidences=[0.6, 0.3] if confidences else None)
    return np.asarray(model.bl_returns().to_numpy())


def _solve(est: Estimates, views: list[dict[str, object]], **options: object) -> np.ndarray:
    opts = {"views": views, "market_caps": CAPS, "then": "min_cvar", **options}
    solution = METHODS["black_litterman"].run(Problem(est, options=opts))
    assert solution.mu is not None
    return solution.mu


def test_posterior_agrees_with_pyportfolioopt_with_idzorek_confidences() -> None:
    est = _estimates()
    assert np.max(np.abs(_solve(est, VIEWS) - _reference(est, confidences=True))) < 1e-10


def test_posterior_agrees_with_pyportfolioopt_with_he_litterman_omega() -> None:
    est = _estimates()
    views = [{k: v for k, v in view.items() if k != "confidence"} for view in VIEWS]
    assert np.max(np.abs(_solve(est, views) - _reference(est, confidences=False))) < 1e-10


def test_a_certain_view_is_met_exactly() -> None:
    mu = _solve(_estimates(), [{"asset": "GOOG", "return": 0.2, "confidence": 1.0}])
    assert mu[3] == pytest.approx(0.2, abs=1e-12)


def test_equal_market_weights_are_said_when_none_are_given() -> None:
    problem = Problem(_estimates(), options={"views": VIEWS, "then": "min_cvar"})
    notes = METHODS["black_litterman"].run(problem).diagnostics.notes
    assert "equal market weights" in notes[0]


def test_a_view_on_an_unknown_asset_names_the_field() -> None:
    views = [VIEWS[0], {"long": "XOM", "short": "IBM", "return": 0.01}]
    with pytest.raises(InvalidError) as caught:
        _solve(_estimates(), views)
    assert caught.value.field == "options.views[1].long"
    assert "XOM" in caught.value.message


def test_a_then_method_without_expected_returns_is_refused() -> None:
    with pytest.raises(InvalidError) as caught:
        _solve(_estimates(), VIEWS, then="hrp")
    assert caught.value.field == "options.then"


@pytest.mark.parametrize("views", [None, []])
def test_no_views_hands_on_the_market_implied_prior_and_says_so(views: object) -> None:
    est = _estimates()
    options: dict[str, object] = {"market_caps": CAPS, "then": "max_sharpe"}
    if views is not None:
        options["views"] = views
    solution = METHODS["black_litterman"].run(Problem(est, options=options))
    names = list(est.symbols)
    cov = pd.DataFrame(est.cov, index=names, columns=names)
    prior = market_implied_prior_returns(pd.Series(CAPS), 2.5, cov, est.risk_free_rate)
    assert solution.mu is not None
    assert np.max(np.abs(solution.mu - prior[names].to_numpy())) < 1e-12
    notes = " ".join(solution.diagnostics.notes)
    assert "no views given" in notes and "market-implied prior" in notes
    assert "prior returns then went to max_sharpe" in notes
    direct = METHODS["max_sharpe"].run(Problem(
        Estimates(est.symbols, solution.mu, est.cov, est.returns, risk_free_rate=0.02)))
    assert np.max(np.abs(solution.weights - direct.weights)) < 1e-9


@pytest.mark.parametrize("views", ["AAPL up", {"asset": "AAPL", "return": 0.1}, [42]])
def test_malformed_views_are_still_refused(views: object) -> None:
    with pytest.raises(InvalidError) as caught:
        _solve(_estimates(), views)  # type: ignore[arg-type]
    assert caught.value.field is not None and caught.value.field.startswith("options.views")
