"""The allocation methods on real prices (the shipped sample's adjusted closes of AAPL, IBM,
MSFT and GOOG, 2004-2013): HRP against PyPortfolioOpt, risk parity's risk shares, min CVaR
against a direct computation of the CVaR, and the constraints the rules honour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pypfopt import EfficientCVaR, HRPOpt  # the dev extra: a missing reference fails the run
from tests.optimizer_prices import adjusted_closes

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.cvar import cvar_of
from mcp_trading.optimizer.methods import METHODS
from mcp_trading.optimizer.problem import Constraints, Estimates, Problem, UnsolvableError
from mcp_trading.optimizer.riskparity import risk_contributions


def _estimates() -> Estimates:
    sample = adjusted_closes()
    r = sample.returns
    return Estimates(sample.symbols, r.mean(axis=0) * 252, np.cov(r, rowvar=False) * 252, r)


def _run(method: str, constraints: Constraints | None = None, **options: object) -> np.ndarray:
    problem = Problem(_estimates(), constraints or Constraints(), options)
    return METHODS[method].run(problem).weights


@pytest.mark.parametrize("linkage", ["single", "complete", "average", "ward"])
def test_hrp_agrees_with_pyportfolioopt(linkage: str) -> None:
    sample = adjusted_closes()
    frame = pd.DataFrame(sample.returns, columns=list(sample.symbols))
    reference = HRPOpt(frame).optimize(linkage_method=linkage)
    ours = _run("hrp", linkage=linkage)
    expected = np.array([reference[s] for s in sample.symbols])
    assert np.max(np.abs(ours - expected)) < 1e-4
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)


def test_hrp_on_many_assets_agrees_with_pyportfolioopt() -> None:
    # 40 "assets": the four real series and lagged copies, so the tree has depth
    sample = adjusted_closes()
    r = np.hstack([sample.returns[k:k + 2000] for k in range(10)])
    names = [f"{s}{k}" for k in range(10) for s in sample.symbols]
    reference = HRPOpt(pd.DataFrame(r, columns=names)).optimize()
    est = Estimates(tuple(names), r.mean(axis=0), np.cov(r, rowvar=False), r)
    ours = METHODS["hrp"].run(Problem(est)).weights
    assert np.max(np.abs(ours - np.array([reference[s] for s in names]))) < 1e-4


def test_hrp_honours_the_cash_buffer_and_a_cap() -> None:
    w = _run("hrp", Constraints(upper=np.full(4, 0.35), cash_buffer=0.1))
    assert w.sum() == pytest.approx(0.9, abs=1e-12)
    assert w.max() <= 0.35 + 1e-12


def test_risk_parity_risk_contributions_are_equal() -> None:
    est = _estimates()
    w = _run("risk_parity")
    shares = risk_contributions(w, est.cov)
    assert np.max(np.abs(shares - 0.25)) < 1e-6
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(w > 0)


def test_risk_parity_honours_given_budgets() -> None:
    est = _estimates()
    budgets = {"AAPL": 0.4, "IBM": 0.1, "MSFT": 0.2, "GOOG": 0.3}
    w = _run("risk_parity", budgets=budgets)
    shares = risk_contributions(w, est.cov)
    assert np.max(np.abs(shares - np.array(list(budgets.values())))) < 1e-6


def test_risk_parity_refuses_a_budget_for_an_unknown_symbol() -> None:
    with pytest.raises(InvalidError) as caught:
        _run("risk_parity", budgets={"AAPL": 1, "XOM": 1})
    assert caught.value.field == "options.budgets"


def test_min_cvar_is_the_least_cvar_by_direct_computation() -> None:
    est = _estimates()
    solution = METHODS["min_cvar"].run(Problem(est, options={"confidence": 0.95}))
    w = solution.weights
    ours = cvar_of(w, est.returns, 0.95)
    # the LP's objective is the CVaR of its weights
    reported = float(solution.diagnostics.notes[0].split(": ")[1].split(" ")[0])
    assert reported == pytest.approx(ours, rel=1e-5)
    # no other long-only portfolio does better: the equal, the corners, random ones
    rng = np.random.default_rng(7)
    others = [np.full(4, 0.25), *np.eye(4), *rng.dirichlet(np.ones(4), size=200)]
    assert all(cvar_of(o, est.returns, 0.95) >= ours - 1e-9 for o in others)
    # and PyPortfolioOpt's cvxpy formulation reaches the same CVaR
    frame = pd.DataFrame(est.returns, columns=list(est.symbols))
    reference = EfficientCVaR(pd.Series(est.mu, index=list(est.symbols)), frame, beta=0.95)
    reference.min_cvar()
    theirs = np.array([reference.weights[i] for i in range(4)])
    assert cvar_of(theirs, est.returns, 0.95) == pytest.approx(ours, rel=1e-4)


def test_min_cvar_honours_bounds_groups_turnover_and_cash() -> None:
    current = np.full(4, 0.25)
    constraints = Constraints(upper=np.full(4, 0.5), cash_buffer=0.05,
                              groups=(("tech-hw", (0, 1), None, 0.3),), current=current,
                              max_turnover=0.4)
    w = _run("min_cvar", constraints)
    assert w.sum() == pytest.approx(0.95, abs=1e-9)
    assert w.max() <= 0.5 + 1e-9
    assert w[0] + w[1] <= 0.3 + 1e-9
    assert np.abs(w - current).sum() <= 0.4 + 1e-9


def test_min_cvar_says_why_a_target_return_is_out_of_reach() -> None:
    with pytest.raises(UnsolvableError) as caught:
        _run("min_cvar", target_return=5.0)
    assert "highest expected return" in caught.value.message


def test_bounds_that_cannot_sum_to_the_budget_are_refused_with_the_figures() -> None:
    with pytest.raises(UnsolvableError) as caught:
        _run("equal_weight", Constraints(upper=np.full(4, 0.2)))
    assert caught.value.code == "INFEASIBLE_BOUNDS"
    assert caught.value.extra["upper_sum"] == pytest.approx(0.8)


def test_rules_say_which_constraints_they_do_not_apply() -> None:
    problem = Problem(_estimates(), Constraints(groups=(("g", (0, 1), None, 0.3),)))
    notes = METHODS["inverse_volatility"].run(problem).diagnostics.notes
    assert any("group caps" in n for n in notes)


def test_inverse_volatility_weights_are_proportional_to_one_over_sigma() -> None:
    est = _estimates()
    w = _run("inverse_volatility")
    sigma = np.sqrt(np.diag(est.cov))
    assert np.allclose(w * sigma, (w * sigma)[0], rtol=1e-12)
