"""risk :8012 analytics over a real platform with the shipped sample imported: GET /var,
/stress, /concentration — figures checked against pandas on the sample file itself, the
simulator-only position left out and named, bad queries answered 422 naming the field."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient
from tests.risk_sample import adjusted_closes, hand_pnl

from mcp_trading.adapters.history import BarColumns
from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.services.risk import rest as risk

from .conftest import FakeAuthenticator

VIEWER = {"Authorization": "Bearer viewer"}
BUYS = {"AAPL": 100, "MSFT": 200, "GOOGL": 20, "TSLA": 30}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """Positions in AAPL, MSFT, GOOGL (real sample history) and TSLA (simulator bars only)."""
    plat = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("risk")),
                     authenticator=FakeAuthenticator())
    plat.open()
    plat.accepting = True
    store = plat.history.store()
    import_sample(store)
    day = 1_262_581_200_000_000_000
    ts = np.arange(300, dtype=np.int64) * 86_400_000_000_000 + day
    closes = np.linspace(100.0, 130.0, 300)
    with store.writer() as writer:  # simulated bars: never used for risk
        writer.add("TSLA", "simulator", "1Day", BarColumns(ts, closes, closes, closes, closes,
                                                           np.full(300, 1e6), np.full(300, np.nan)))
    kernel = plat.kernel_runtime.kernel
    for symbol, qty in BUYS.items():
        kernel.on_quote(Quote(symbol, Decimal("100.00"), Decimal("100.02"), Decimal(10_000),
                              Decimal(10_000), None, time.time_ns()))
        kernel.submit("paper", OrderRequest.parse(symbol=symbol, side="buy", qty=qty))
    plat.kernel_runtime.journal.flush()
    try:
        yield plat
    finally:
        plat.accepting = False
        if plat.runtime is not None:
            plat.runtime.close()
        if plat.projector is not None:
            plat.projector.stop()


@pytest.fixture(scope="module")
def client(platform: Platform) -> TestClient:
    return TestClient(risk.build(platform))


def _values(platform: Platform) -> dict[str, float]:
    account = platform.kernel_runtime.kernel.state.accounts["paper"]
    return {p.symbol: float(p.market_value) for p in account.positions.values() if p.qty}


def _get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, headers=VIEWER, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_var_by_each_method_names_its_window_and_leaves_the_simulator_symbol_out(
        client: TestClient, platform: Platform) -> None:
    body = _get(client, "/var")
    assert [e["symbol"] for e in body["excluded"]] == ["TSLA"]
    assert "never priced from simulated bars" in body["excluded"][0]["reason"]
    assert {i["symbol"] for i in body["included"]} == {"AAPL", "MSFT", "GOOGL"}
    assert body["window"]["days"] == 250 and body["window"]["last"] == "2013-03-01"
    assert set(body["window"]["sources"].values()) == {"sample"}
    figures = body["figures"]
    assert len(figures) == 3 * 2 * 2
    assert {f["method"] for f in figures} == {"historical", "parametric", "cornish_fisher"}
    for f in figures:
        assert Decimal(f["es"]) >= Decimal(f["var"]) > 0
        assert f["window"] == {"days": 250, "first": body["window"]["first"], "last": "2013-03-01"}
        assert f["horizon_scaling"] == ("none" if f["horizon_days"] == 1
                                        else "sqrt_time: the 1-day figure x sqrt(10)")
    assert set(body["limit_utilisation"]) >= {"max_gross_exposure", "daily_loss_limit"}


def test_historical_var_equals_the_hand_computation_from_the_sample_file(
        client: TestClient, platform: Platform) -> None:
    values = {s: v for s, v in _values(platform).items() if s != "TSLA"}
    pnl = np.sort(hand_pnl(values, 100).to_numpy())
    body = _get(client, "/var", method="historical", confidence="0.99", horizon="1",
                window="100")
    [figure] = body["figures"]
    h = 99 * 0.01  # (n - 1)(1 - c): between the first and second smallest P&L
    expected = -(pnl[0] + h * (pnl[1] - pnl[0]))
    assert Decimal(figure["var"]) == pytest.approx(Decimal(f"{expected:.2f}"), abs=Decimal("0.01"))
    assert Decimal(figure["es"]) == pytest.approx(Decimal(f"{-pnl[0]:.2f}"), abs=Decimal("0.01"))
    equity = float(body["equity"])
    assert figure["var_pct_equity"] == pytest.approx(expected / equity, abs=1e-6)


@pytest.mark.parametrize(("params", "field"), [
    ({"confidence": "1.5"}, "confidence"), ({"confidence": "abc"}, "confidence"),
    ({"horizon": "0"}, "horizon"), ({"method": "montecarlo"}, "method"),
    ({"window": "5"}, "window"), ({"account": "nobody"}, "account"),
])
def test_a_bad_var_query_is_a_4xx_naming_the_field(client: TestClient, params: dict[str, str],
                                                   field: str) -> None:
    response = client.get("/var", headers=VIEWER, params=params)
    assert response.status_code == (404 if field == "account" else 422), response.text
    body = response.json()
    assert body["field"] == field
    assert body["message"].startswith(field if field != "account" else "account 'nobody'")


def test_stress_replays_2008_on_todays_positions_as_computed_by_hand(
        client: TestClient, platform: Platform) -> None:
    values = _values(platform)
    body = _get(client, "/stress")
    by_name = {s["name"]: s for s in body["scenarios"]}
    assert [e["symbol"] for e in body["excluded"]] == ["TSLA"]
    week = by_name["week_of_2008_10_06"]
    closes = adjusted_closes(["AAPL", "GOOGL", "MSFT"])
    hand = -sum(values[s] * (closes[s]["2008-10-10"] / closes[s]["2008-10-03"] - 1)
                for s in ("AAPL", "GOOGL", "MSFT"))
    assert float(week["loss"]) == pytest.approx(hand, abs=0.01)
    assert set(week["pnl_by_symbol"]) == {"AAPL", "GOOGL", "MSFT"}
    shock = by_name["equity_down_10"]
    assert float(shock["loss"]) == pytest.approx(0.10 * sum(values.values()), abs=0.01)
    assert "TSLA" in shock["pnl_by_symbol"]  # a shock needs today's mark only
    worst = by_name["worst_week_2008"]
    year = closes["2008-01-01":"2008-12-31"]  # AAPL, GOOGL, MSFT: TSLA has no real history
    held = [values[s] for s in year.columns]
    brute = min((sum(v * (year.iloc[i + 5, k] / year.iloc[i, k] - 1) for k, v in enumerate(held)), i)
                for i in range(len(year) - 5))
    assert float(worst["loss"]) == pytest.approx(-brute[0], abs=0.01)
    assert worst["start"] == year.index[brute[1] + 1].date().isoformat()
    assert worst["end"] == year.index[brute[1] + 5].date().isoformat()
    assert float(worst["loss"]) >= float(week["loss"])  # the worst week is at least as bad
    bear = by_name["worst_week_2000_2002"]
    assert [e["symbol"] for e in bear["excluded"]] == ["GOOGL"]  # listed in 2004
    vol = by_name["volatility_x2"]
    assert float(vol["stressed_var"]) > float(vol["base_var"]) > 0


def test_stress_names_the_unknown_scenario(client: TestClient) -> None:
    response = client.get("/stress", headers=VIEWER, params={"scenario": "equity_down_10,nope"})
    assert response.status_code == 422
    assert response.json()["field"] == "scenario" and "'nope'" in response.json()["message"]
    one = _get(client, "/stress", scenario="equity_down_10")
    assert [s["name"] for s in one["scenarios"]] == ["equity_down_10"]


def test_a_scenario_file_in_the_data_dir_replaces_the_shipped_set(
        client: TestClient, platform: Platform) -> None:
    path = Path(platform.settings.data_dir) / "risk_scenarios.json"
    try:
        path.write_text(json.dumps({"scenarios": [
            {"name": "msft_halves", "kind": "shock", "shocks": {"MSFT": -0.5}}]}))
        body = _get(client, "/stress")
        [only] = body["scenarios"]
        assert only["name"] == "msft_halves" and body["scenarios_from"] == str(path)
        assert float(only["loss"]) == pytest.approx(0.5 * _values(platform)["MSFT"], abs=0.01)
        path.write_text('{"scenarios": [{"name": "x", "kind": "meteor"}]}')
        bad = client.get("/stress", headers=VIEWER)
        assert bad.status_code == 422 and bad.json()["code"] == "INVALID_SCENARIO"
    finally:
        path.unlink(missing_ok=True)


def test_concentration_gives_the_largest_names_and_the_hhi(client: TestClient,
                                                           platform: Platform) -> None:
    values = _values(platform)
    body = _get(client, "/concentration")
    gross = sum(abs(v) for v in values.values())
    assert body["hhi"] == pytest.approx(sum((abs(v) / gross) ** 2 for v in values.values()),
                                        abs=1e-6)
    assert body["largest"][0]["symbol"] == max(values, key=lambda s: values[s])
    assert body["positions"] == 4
