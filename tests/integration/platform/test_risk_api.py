"""risk :8012 over a real platform: risk status, limits and their audit, dry run, exposures."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.domain.trading_state import TradingState
from mcp_trading.platform.platform import Platform
from mcp_trading.services.risk import rest as risk

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(risk.build(platform))


def _health(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/health").json()
    return body


def test_health_is_ok_without_limits(client: TestClient) -> None:
    body = _health(client)
    assert body["risk_status"] == "ok"
    assert body["reasons"] == []
    assert body["status"] == "healthy"


def test_health_warns_at_80_percent_and_breaches_above_100(client: TestClient, auth: Auth,
                                                           feed_quote: Any, place_order: Any
                                                           ) -> None:
    feed_quote(last="100.00")
    place_order(qty=85)  # 85 x 100.00 mark = 8,500 gross
    put = client.put("/limits/accounts/paper", headers=auth("operator"),
                     json={"max_gross_exposure": 10_000})
    assert put.status_code == 200
    body = _health(client)
    assert body["risk_status"] == "warning"
    assert "max_gross_exposure at 85.00%" in body["reasons"][0]
    client.put("/limits/accounts/paper", headers=auth("operator"),
               json={"max_gross_exposure": "8000"})
    body = _health(client)
    assert body["risk_status"] == "breach"
    assert "account paper" in body["reasons"][0]


def test_health_breaches_when_a_risk_limit_halted_an_account(client: TestClient, auth: Auth,
                                                             feed_quote: Any, place_order: Any,
                                                             platform: Platform) -> None:
    feed_quote()
    place_order(qty=100)
    client.put("/limits/accounts/paper", headers=auth("operator"), json={"daily_loss_limit": 50})
    feed_quote(bid="98.00", ask="98.02")  # -200 on the position: daily loss limit acts
    account = platform.kernel_runtime.kernel.state.accounts["paper"]
    assert account.state is TradingState.REDUCING
    body = _health(client)
    assert body["risk_status"] == "breach"
    assert any("RISK_DAILY_LOSS" in r for r in body["reasons"])


def test_an_operator_halt_is_not_a_risk_breach(client: TestClient, platform: Platform) -> None:
    platform.kernel_runtime.kernel.halt(reason="operator says so", actor="test")
    assert _health(client)["risk_status"] == "ok"


def test_limits_lists_global_and_accounts(client: TestClient, auth: Auth) -> None:
    assert client.get("/limits").status_code == 401
    body = client.get("/limits", headers=auth("viewer")).json()
    assert set(body["accounts"]) == {"paper"}
    assert body["global"]["max_gross_exposure"] is None
    assert "daily_loss_limit" in body["limit_names"]


def test_put_global_limits_is_journaled_and_audited(client: TestClient, auth: Auth,
                                                    platform: Platform) -> None:
    response = client.put("/limits/global", headers=auth("operator"),
                          json={"max_order_qty": 500, "price_collar_pct": "5", "reason": "policy"})
    assert response.status_code == 200
    body = response.json()
    assert body["limits"]["max_order_qty"] == "500"
    assert body["changed"]["max_order_qty"] == {"from": None, "to": "500"}
    runtime = platform.kernel_runtime
    assert runtime.kernel.state.global_limits.max_order_qty == Decimal(500)
    assert runtime.journal.durable_seq >= body["seq"]
    entry = json.loads(platform.emergency_log.path.read_text().splitlines()[-1])
    assert entry["action"] == "limits-set"
    assert entry["scope"] == "global"
    assert entry["reason"] == "policy"
    alert = platform.alerts.list()[0]
    assert (alert.kind, alert.severity.value) == ("limits", "info")
    client.put("/limits/global", headers=auth("operator"), json={"max_order_qty": None})
    audit = client.get("/limits/audit", headers=auth("viewer")).json()
    assert audit["count"] == 2
    newest, oldest = audit["entries"]
    assert newest["changed"] == {"max_order_qty": {"from": "500", "to": None}}
    assert oldest["changed"]["price_collar_pct"] == {"from": None, "to": "5"}
    assert oldest["actor"] == "key:test-operator"
    assert oldest["scope"] == "global"


def test_put_limits_needs_an_operator(client: TestClient, auth: Auth) -> None:
    assert client.put("/limits/global", json={"max_order_qty": 1}).status_code == 401
    response = client.put("/limits/global", headers=auth("trader"), json={"max_order_qty": 1})
    assert response.status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"max_widgets": 5}, "max_widgets"),
    ({"max_order_qty": -1}, "max_order_qty"),
    ({"max_order_qty": "lots"}, "max_order_qty"),
    ({"max_order_qty": True}, "max_order_qty"),
    ({"max_drawdown_pct": 150}, "max_drawdown_pct"),
    ({"max_orders_per_second": 2.5}, "max_orders_per_second"),
    ({"max_order_qty": 5, "reason": 7}, "reason"),
    ({}, "body"),
])
def test_invalid_limits_are_422_and_change_nothing(client: TestClient, auth: Auth,
                                                   platform: Platform, body: dict[str, Any],
                                                   field: str) -> None:
    seq = platform.kernel_runtime.kernel.seq
    response = client.put("/limits/accounts/paper", headers=auth("operator"), json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["field"] == field
    if field != "reason":
        assert "max_gross_exposure" in error["message"]  # the allowed names are listed
    assert platform.kernel_runtime.kernel.seq == seq
    assert platform.kernel_runtime.kernel.state.accounts["paper"].limits.max_order_qty is None


def test_limits_of_an_unknown_account_is_404(client: TestClient, auth: Auth) -> None:
    response = client.put("/limits/accounts/ghost", headers=auth("operator"),
                          json={"max_order_qty": 1})
    assert response.status_code == 404


def test_check_is_a_dry_run(client: TestClient, auth: Auth, feed_quote: Any,
                            platform: Platform) -> None:
    feed_quote()
    seq = platform.kernel_runtime.kernel.seq
    body = client.post("/check", headers=auth("trader"),
                       json={"symbol": "AAPL", "qty": 10, "side": "buy"}).json()
    assert body["would_accept"] is True
    assert body["code"] is None
    assert body["reference_price"] == "100.02"
    assert body["reserve"] == "1000.20"
    assert platform.kernel_runtime.kernel.seq == seq  # nothing was placed or journaled
    assert platform.kernel_runtime.kernel.state.orders == {}


def test_check_reports_the_refusal_with_its_code(client: TestClient, auth: Auth,
                                                 feed_quote: Any) -> None:
    feed_quote()
    client.put("/limits/global", headers=auth("operator"), json={"max_order_notional": 500})
    body = client.post("/check", headers=auth("trader"),
                       json={"symbol": "AAPL", "qty": 10, "side": "buy"}).json()
    assert body["would_accept"] is False
    assert body["code"] == "RISK_MAX_NOTIONAL"
    assert "500.00" in body["message"]


def test_check_refuses_during_maintenance(client: TestClient, auth: Auth, feed_quote: Any,
                                          platform: Platform) -> None:
    feed_quote()
    platform.kernel_runtime.kernel.set_maintenance(True, reason="upgrade", actor="test")
    body = client.post("/check", headers=auth("trader"),
                       json={"symbol": "AAPL", "qty": 1, "side": "buy"}).json()
    assert (body["would_accept"], body["code"]) == (False, "MAINTENANCE")


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"symbol": "AAPL", "qty": 0, "side": "buy"}, 422, "qty"),
    ({"symbol": "AAPL", "qty": 1, "side": "up"}, 422, "side"),
    ({"symbol": "NOPE", "qty": 1, "side": "buy"}, 422, "symbol"),
    ({"symbol": "AAPL", "qty": 1, "side": "buy", "colour": "red"}, 422, "colour"),
    ({"symbol": "AAPL", "qty": 1, "side": "buy", "account_id": "ghost"}, 404, "account_id"),
])
def test_check_bad_input_is_a_4xx_naming_the_field(client: TestClient, auth: Auth,
                                                   body: dict[str, Any], status: int,
                                                   field: str) -> None:
    response = client.post("/check", headers=auth("trader"), json=body)
    assert response.status_code == status
    assert response.json()["field"] == field


def test_check_needs_a_trader(client: TestClient, auth: Auth) -> None:
    response = client.post("/check", headers=auth("viewer"),
                           json={"symbol": "AAPL", "qty": 1, "side": "buy"})
    assert response.status_code == 403


def test_exposures_per_account_and_total_with_utilisation(client: TestClient, auth: Auth,
                                                          feed_quote: Any, place_order: Any
                                                          ) -> None:
    feed_quote()
    feed_quote("MSFT", "200.00", "200.04")
    place_order(qty=10)
    place_order(symbol="MSFT", qty=5)
    feed_quote(bid="110.00", ask="110.02", last="110.00")
    client.put("/limits/accounts/paper", headers=auth("operator"),
               json={"max_gross_exposure": 4000, "max_position_qty": 20})
    body = client.get("/exposures", headers=auth("viewer")).json()
    (paper,) = body["accounts"]
    # AAPL 10 x 110.00 (last) + MSFT 5 x 200.02 (the mid of its latest quote)
    assert paper["gross_exposure"] == "2100.10"
    assert paper["net_exposure"] == "2100.10"
    assert paper["long_market_value"] == "2100.10"
    assert paper["short_market_value"] == "0.00"
    use = paper["utilisation"]
    assert use["max_gross_exposure"]["pct"] == "52.50"
    assert use["max_position_qty"] == {"value": "10.000000", "limit": "20", "pct": "50.00"}
    assert use["daily_loss_limit"]["limit"] is None
    symbols = {s["symbol"]: s for s in paper["symbols"]}
    assert symbols["AAPL"]["max_position_qty"]["pct"] == "50.00"
    assert symbols["MSFT"]["qty"] == "5"
    assert body["total"]["gross_exposure"] == "2100.10"
    assert {s["symbol"] for s in body["total"]["symbols"]} == {"AAPL", "MSFT"}
    assert body["global"]["utilisation"]["max_gross_exposure"]["pct"] is None


def test_exposures_for_an_unknown_account_is_404(client: TestClient, auth: Auth) -> None:
    response = client.get("/exposures", params={"account_id": "ghost"}, headers=auth("viewer"))
    assert response.status_code == 404
    assert response.json()["field"] == "account_id"
