"""Stress scenarios and concentration against hand computations on the sample's real closes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from tests.risk_sample import adjusted_closes, ns_of

from mcp_trading.analytics.stress import (
    concentration,
    parse_scenarios,
    range_return,
    shock_loss,
    volatility_scaled,
    worst_window,
)
from mcp_trading.domain.errors import InvalidError
from mcp_trading.services.risk.stress import shipped_scenarios

VALUES = {"AAPL": 40_000.0, "IBM": 25_000.0, "MSFT": -15_000.0}


def _ns(day: str) -> int:
    return int(np.datetime64(day, "ns").astype(np.int64))


def test_a_range_return_is_last_close_before_to_last_close_in_range() -> None:
    aapl = adjusted_closes(["AAPL"])["AAPL"]
    ts = ns_of(aapl)
    r = range_return(ts, aapl.to_numpy(), _ns("2008-10-06"), _ns("2008-10-10"))
    # by hand: Friday 2008-10-03's close to Friday 2008-10-10's
    assert r == pytest.approx(aapl["2008-10-10"] / aapl["2008-10-03"] - 1, rel=1e-12)
    assert range_return(ts, aapl.to_numpy(), _ns("1999-01-04"), _ns("1999-01-08")) is None


def test_the_worst_window_is_the_brute_force_minimum() -> None:
    closes = adjusted_closes(sorted(VALUES)).loc["2008-01-01":"2008-12-31"]
    values = np.array([VALUES[s] for s in closes.columns])
    found = worst_window(closes.to_numpy(), values, 5)
    assert found is not None
    m = closes.to_numpy()
    brute = min(((m[i + 5] / m[i] - 1) @ values, i) for i in range(len(m) - 5))
    assert found[2] == pytest.approx(brute[0]) and found[0] == brute[1] and found[1] == brute[1] + 5


def test_shocks_apply_to_every_largest_or_named_position() -> None:
    loss, pnl = shock_loss(VALUES, {"*": -0.10})
    assert loss == pytest.approx(0.10 * (40_000 + 25_000 - 15_000))
    assert pnl["MSFT"] == pytest.approx(1_500)  # a short gains when the price falls
    loss, pnl = shock_loss(VALUES, {"@largest": -0.30})
    assert pnl == {"AAPL": pytest.approx(-12_000)} and loss == pytest.approx(12_000)
    loss, pnl = shock_loss(VALUES, {"IBM": -0.5, "*": 0.0})
    assert loss == pytest.approx(12_500) and set(pnl) == set(VALUES)


def test_volatility_scaling_doubles_deviations_and_keeps_the_mean() -> None:
    r = adjusted_closes(["AAPL", "IBM"]).pct_change().dropna().to_numpy()[-250:]
    shocked = volatility_scaled(r, 2.0)
    np.testing.assert_allclose(shocked.mean(axis=0), r.mean(axis=0), atol=1e-15)
    np.testing.assert_allclose(shocked.std(axis=0), 2 * r.std(axis=0), rtol=1e-12)


def test_concentration_weights_and_hhi_by_hand() -> None:
    c = concentration(VALUES, 100_000.0, top=2)
    assert c.largest == [("AAPL", 40_000.0, 0.4), ("IBM", 25_000.0, 0.25)]
    gross = 80_000.0
    hhi = (40 / 80) ** 2 + (25 / 80) ** 2 + (15 / 80) ** 2
    assert c.hhi == pytest.approx(hhi) and c.effective_names == pytest.approx(1 / hhi)
    assert concentration({"A": 1.0}, gross).hhi == 1.0
    assert concentration({}, gross).hhi == 0.0


def test_the_shipped_scenarios_parse_and_cover_the_issue() -> None:
    scenarios = parse_scenarios(json.loads(shipped_scenarios().read_text()))
    kinds = {s.name: s.kind for s in scenarios}
    assert kinds["worst_week_2008"] == kinds["worst_week_2000_2002"] == "historical"
    assert kinds["equity_down_10"] == kinds["largest_down_30"] == "shock"
    assert kinds["volatility_x2"] == "volatility"


@pytest.mark.parametrize(("doc", "says"), [
    ({"scenarios": [{"name": "x", "kind": "meteor"}]}, "kind must be one of"),
    ({"scenarios": [{"name": "x", "kind": "historical", "start": "2008-13", "end": "2008-12-01"}]},
     "not a date"),
    ({"scenarios": [{"name": "x", "kind": "shock", "shocks": {"*": "-10%"}}]}, "must be a return"),
    ({"scenarios": [{"name": "x", "kind": "volatility", "factor": 0}]}, "factor must be"),
    ({"scenarios": [{"name": "x", "kind": "shock", "shocks": {"*": -0.1}}] * 2}, "names repeat"),
    ([], "must be an object"),
])
def test_a_bad_scenario_file_is_refused_saying_what_is_wrong(doc: object, says: str) -> None:
    with pytest.raises(InvalidError) as caught:
        parse_scenarios(doc)
    assert says in caught.value.message and caught.value.field == "scenarios"
