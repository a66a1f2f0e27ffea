"""Issue 17's risk analytics as an operator meets them: the sample imported by the CLI, the
platform started, market buys of AAPL (real sample history) and SPY (simulator only), then
GET :8012/var, /stress and /concentration — SPY left out and named, never priced from
simulated bars."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tests.e2e.harness import RunningPlatform


def test_var_and_stress_on_the_sample_leave_the_simulator_symbol_out(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory(start=False)
    assert p.cli("data", "import", "--sample").returncode == 0
    p.start()
    engine = p.client("trading-engine")
    for symbol in ("AAPL", "SPY"):
        placed = engine.post("/orders", json={"symbol": symbol, "qty": 10, "side": "buy",
                                              "type": "market", "time_in_force": "day"})
        assert placed.status_code == 200, placed.text

    def held() -> bool:
        return {x["symbol"] for x in engine.get("/positions").json()} >= {"AAPL", "SPY"}

    p.wait_for(held)
    risk = p.client("risk")
    var = risk.get("/var", params={"confidence": "0.99", "horizon": "1,10"})
    assert var.status_code == 200, var.text
    body = var.json()
    assert [e["symbol"] for e in body["excluded"]] == ["SPY"]
    assert [i["symbol"] for i in body["included"]] == ["AAPL"]
    assert body["window"]["sources"] == {"AAPL": "sample"}
    assert {(f["method"], f["horizon_days"]) for f in body["figures"]} == {
        (m, h) for m in ("historical", "parametric", "cornish_fisher") for h in (1, 10)}
    assert all(Decimal(f["es"]) >= Decimal(f["var"]) > 0 for f in body["figures"])
    stress = risk.get("/stress")
    assert stress.status_code == 200, stress.text
    names = {s["name"] for s in stress.json()["scenarios"]}
    assert {"worst_week_2008", "worst_week_2000_2002", "equity_down_10"} <= names
    assert risk.get("/var", params={"window": "abc"}).json()["field"] == "window"
    assert risk.get("/concentration").json()["positions"] == 2
