"""ml-portfolio-optimizer :8052 over a real platform and the shipped sample history: every
method optimises real prices, the weights are decimal strings that sum exactly to the
budget, runs are stored with what reproduces them, and every bad input is a 422 naming the
field and the fix."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.optimizer.methods import METHODS
from mcp_trading.platform.platform import Platform
from mcp_trading.services.optimizer import rest

Auth = Callable[[str], dict[str, str]]
BASE = {"symbols": ["AAPL", "MSFT", "IBM", "GOOGL"], "start": "2006-01-01",
        "end": "2012-12-31"}
#: options each method needs on this data (the rest run on their defaults)
OPTIONS: dict[str, dict[str, Any]] = {
    "efficient_return": {"target_return": 0.15},
    "efficient_risk": {"target_volatility": 0.25},
    "black_litterman": {"views": [{"asset": "MSFT", "return": 0.12, "confidence": 0.6},
                                  {"long": "AAPL", "short": "IBM", "return": 0.05}]},
}


@pytest.fixture
def auth() -> Auth:
    return lambda role: {"Authorization": f"Bearer {role}"}


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(rest.build(platform), client=("198.51.100.7", 5000))  # no loopback trust


def _optimize(client: TestClient, auth: Auth, status: int = 200, **changes: Any
              ) -> dict[str, Any]:
    response = client.post("/optimize", headers=auth("viewer"), json={**BASE, **changes})
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_optimises_the_sample_and_its_weights_sum_to_one_exactly(
        client: TestClient, auth: Auth, method: str) -> None:
    body = _optimize(client, auth, method=method, options=OPTIONS.get(method, {}))
    assert body["method"] == method and list(body["weights"]) == BASE["symbols"]
    weights = [Decimal(w) for w in body["weights"].values()]
    assert sum(weights) == Decimal(1)  # exactly, after the stated rounding rule
    assert all(w.as_tuple().exponent == -10 for w in weights)  # 10 decimals, fixed point
    assert all(w >= Decimal("-1e-9") for w in weights)  # long-only by default
    assert "10 decimals" in body["rounding"]
    assert body["volatility"] > 0 and body["expected_return"] is not None
    assert sum(body["risk_contributions"].values()) == pytest.approx(1.0, abs=1e-9)
    assert body["estimators"] == {"expected_returns": "mean_historical", "covariance": "sample"}
    assert body["diagnostics"]["status"] and body["diagnostics"]["solver"]
    assert body["data"]["periods"] > 1500 and body["data"]["first"] >= "2006-01-01"
    assert body["run_id"]


def test_a_cash_buffer_and_bounds_shape_the_weights_and_are_said(
        client: TestClient, auth: Auth) -> None:
    body = _optimize(client, auth, method="min_volatility",
                     constraints={"bounds": [0.05, 0.4], "cash_buffer": 0.1,
                                  "groups": {"tech": {"symbols": ["AAPL", "MSFT", "GOOGL"],
                                                      "max": 0.6}}})
    weights = {s: Decimal(w) for s, w in body["weights"].items()}
    assert sum(weights.values()) == Decimal("0.9") and body["weights_sum"] == "0.9"
    assert all(Decimal("0.05") - Decimal("1e-8") <= w <= Decimal("0.4") + Decimal("1e-8")
               for w in weights.values())
    assert weights["AAPL"] + weights["MSFT"] + weights["GOOGL"] <= Decimal("0.6") + Decimal(
        "1e-8")
    assert any("cash buffer 0.1" in note for note in body["notes"])


def test_the_run_is_stored_with_its_inputs_and_its_report_draws_both_charts(
        client: TestClient, auth: Auth) -> None:
    body = _optimize(client, auth, method="max_sharpe", risk_free_rate=0.02)
    run_id = body["run_id"]
    stored = client.get(f"/runs/{run_id}", headers=auth("viewer")).json()
    assert stored["result"]["weights"] == body["weights"]
    assert stored["request"]["method"] == "max_sharpe"
    assert stored["request"]["risk_free_rate"] == 0.02
    assert stored["inputs"]["symbols"] == BASE["symbols"]
    assert len(stored["inputs"]["table"]) == body["data"]["periods"]
    listed = client.get("/runs", headers=auth("viewer")).json()["runs"]
    assert listed[0]["run_id"] == run_id and listed[0]["method"] == "max_sharpe"
    page = client.get(f"/runs/{run_id}/report.html", headers=auth("viewer"))
    assert page.status_code == 200 and "default-src 'none'" in page.headers[
        "content-security-policy"]
    assert page.text.count('class="weight"') == 4 and 'class="frontier"' in page.text
    assert client.get("/runs/nothere", headers=auth("viewer")).status_code == 404


def test_the_frontier_has_its_points_rising_in_return_and_the_methods_are_listed(
        client: TestClient, auth: Auth) -> None:
    response = client.post("/frontier", headers=auth("viewer"), json={**BASE, "points": 6})
    assert response.status_code == 200, response.text
    points = response.json()["points"]
    assert len(points) == 6
    returns = [p["expected_return"] for p in points]
    assert returns == sorted(returns)
    assert all(sum(p["weights"].values()) == pytest.approx(1.0, abs=1e-6) for p in points)
    methods = client.get("/methods", headers=auth("viewer")).json()
    assert {m["name"] for m in methods["methods"]} == set(METHODS)
    by_name = {m["name"]: m for m in methods["methods"]}
    assert "target_return" in by_name["efficient_return"]["options"]
    assert {"sample", "ledoit_wolf", "oas", "exp_weighted", "semicovariance"} <= {
        e["name"] for e in methods["covariance"]}
    assert "annual" in methods["units"]["risk_free_rate"]


def test_inline_prices_and_returns_are_optimised_too(client: TestClient, auth: Auth) -> None:
    prices = {"A": [100, 101, 99, 102, 104, 103, 105], "B": [50, 50.5, 51, 50.2, 50.8, 51.5, 51]}
    response = client.post("/optimize", headers=auth("viewer"),
                           json={"prices": prices, "method": "min_volatility"})
    assert response.status_code == 200, response.text
    assert sum(Decimal(w) for w in response.json()["weights"].values()) == 1
    returns = {"A": [0.01, -0.02, 0.03, 0.0, 0.01], "B": [0.0, 0.01, -0.01, 0.02, 0.0]}
    response = client.post("/optimize", headers=auth("viewer"),
                           json={"returns": returns, "method": "equal_weight"})
    assert response.json()["weights"] == {"A": "0.5000000000", "B": "0.5000000000"}


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"symbols": ["AAPL", "NOPE"]}, "symbols", "NOPE has no stored history"),
    ({"start": "1990-01-01", "end": "1990-12-31"}, "start", "no daily bars of AAPL"),
    ({"method": "magic"}, "method", "known: black_litterman"),
    ({"covariance": "magic"}, "covariance", "known: exp_weighted"),
    ({"expected_returns": "magic"}, "expected_returns", "known: capm"),
    ({"constraints": {"bounds": [-0.5, 0.1], "long_only": False}}, "constraints.bounds",
     "upper bounds sum to 0.4"),
    ({"constraints": {"bounds": [-0.1, 0.5]}}, "constraints.bounds", "long_only"),
    ({"method": "black_litterman", "options": {"views": [{"asset": "TSLA", "return": 0.1}]}},
     "options.views", "TSLA"),
    ({"method": "max_sharpe", "options": {"nope": 1}}, "options.nope", "takes no options"),
    ({"max_sharpe_typo": 1}, "max_sharpe_typo", "not a field"),
    ({"start": "2012-13-01"}, "start", "YYYY-MM-DD"),
    ({"expected_returns": "capm"}, "benchmark", "capm needs the market"),
    ({"source": "nope"}, "source", "sources stored: sample"),
    ({"constraints": {"bounds": {"ZZZ": [0, 1]}}}, "constraints.bounds.ZZZ", "not one of"),
])
def test_bad_input_is_a_422_naming_the_field_and_the_fix(
        client: TestClient, auth: Auth, changes: dict[str, Any], field: str,
        words: str) -> None:
    body = _optimize(client, auth, status=422, **changes)
    assert body["field"].startswith(field), body
    assert words in body["message"], body


def test_nan_in_inline_prices_is_a_422_naming_the_value(client: TestClient, auth: Auth) -> None:
    raw = b'{"prices": {"A": [1.0, NaN, 1.2, 1.3], "B": [2, 2.1, 2.2, 2.3]}}'
    response = client.post("/optimize", headers={**auth("viewer"),
                                                 "Content-Type": "application/json"},
                           content=raw)
    assert response.status_code in (400, 422), response.text  # the decoder refuses NaN
    response = client.post("/optimize", headers=auth("viewer"),
                           json={"prices": {"A": [1.0, None, 1.2, 1.3], "B": [2, 2.1, 2.2, 2.3]}})
    assert response.status_code == 422 and response.json()["field"] == "prices.A.1"


def test_an_unsolvable_max_sharpe_answers_the_code_and_figures(
        client: TestClient, auth: Auth) -> None:
    body = _optimize(client, auth, status=422, method="max_sharpe", risk_free_rate=0.9)
    assert body["code"] == "NO_EXCESS_RETURN", body
    assert "0.9" in body["message"]


def test_reading_needs_a_credential(client: TestClient) -> None:
    assert client.post("/optimize", json=BASE).status_code == 401
    assert client.get("/methods").status_code == 401


def test_evaluate_walks_methods_and_estimators_forward_side_by_side(
        client: TestClient, auth: Auth) -> None:
    response = client.post("/evaluate", headers=auth("viewer"), json={
        "symbols": ["AAPL", "MSFT", "IBM"], "start": "2005-01-01", "end": "2012-12-31",
        "methods": ["min_volatility", "max_sharpe"],
        "estimators": ["mean_historical", "ridge_momentum"], "window": 252,
        "rebalance_every": 63})
    assert response.status_code == 200, response.text
    body = response.json()
    names = [r["name"] for r in body["results"]]
    assert names == ["min_volatility / mean_historical", "min_volatility / ridge_momentum",
                     "max_sharpe / mean_historical", "max_sharpe / ridge_momentum"]
    for result in body["results"]:
        assert {"annual_return", "volatility", "sharpe", "max_drawdown",
                "turnover"} <= set(result["metrics"])
        assert result["rebalances"] > 20 and result["equity"][0][1] == 1.0
    assert body["start"] > "2005-12-01"  # the first window is estimation only
    learned = [c for c in body["comparisons"] if "ridge_momentum" in c["candidate"]]
    assert len(learned) == 2 and all(isinstance(c["beat_mean_historical"], bool)
                                     for c in learned)
    stored = client.get(f"/runs/{body['run_id']}", headers=auth("viewer")).json()
    assert stored["summary"]["kind"] == "evaluate"
    page = client.get(f"/runs/{body['run_id']}/report.html", headers=auth("viewer")).text
    assert page.count("<polyline") == 4 and page.count("<tr><td>") == 4
    refused = client.post("/evaluate", headers=auth("viewer"), json={
        "symbols": ["AAPL"], "start": "2005-01-01", "end": "2012-12-31", "methods": ["nope"]})
    assert refused.status_code == 422 and refused.json()["field"] == "methods.0"
