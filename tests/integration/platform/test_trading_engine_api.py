"""trading-engine :8010 over a real platform: emergency resume."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.platform.platform import Platform
from mcp_trading.services.trading_engine import rest as trading_engine

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(trading_engine.build(platform, failing_checks=list))


def _log_lines(platform: Platform) -> list[str]:
    path = platform.emergency_log.path
    return path.read_text().splitlines() if path.exists() else []


def test_resume_on_an_active_platform_is_a_no_op_answer(client: TestClient, auth: Auth,
                                                        platform: Platform) -> None:
    seq = platform.kernel_runtime.kernel.seq
    response = client.post("/emergency/resume-trading", json={"reason": "just in case"},
                           headers=auth("operator"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "already_active"
    assert body["trading_status"] == "active"
    assert set(body) >= {"trading_status", "reason", "forced"}  # the fields resume returns
    assert platform.kernel_runtime.kernel.seq == seq  # nothing journaled
    assert _log_lines(platform) == []  # no emergency entry
    assert platform.alerts.list() == []  # no alert


def test_resume_after_a_halt_resumes_and_is_logged(client: TestClient, auth: Auth,
                                                   platform: Platform) -> None:
    assert client.post("/emergency/halt-new-orders", headers=auth("operator")).status_code == 200
    response = client.post("/emergency/resume-trading", json={"reason": "drill over"},
                           headers=auth("operator"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "resumed"
    assert response.json()["trading_status"] == "active"
    assert [line for line in _log_lines(platform) if '"action": "resume"' in line]
    seq = platform.kernel_runtime.kernel.seq
    again = client.post("/emergency/resume-trading", headers=auth("operator")).json()
    assert again["status"] == "already_active"
    assert platform.kernel_runtime.kernel.seq == seq
    assert sum('"action": "resume"' in line for line in _log_lines(platform)) == 1


def test_resume_on_an_active_platform_still_needs_an_operator(client: TestClient,
                                                              auth: Auth) -> None:
    assert client.post("/emergency/resume-trading", headers=auth("trader")).status_code == 403


# ---- accounts -------------------------------------------------------------------------------


def test_an_operator_opens_an_account_and_it_is_journaled(client: TestClient, auth: Auth,
                                                          platform: Platform) -> None:
    response = client.post("/accounts", json={"account_id": "swing-1", "cash": "250000"},
                           headers=auth("operator"))
    assert response.status_code == 201, response.text
    assert response.json()["id"] == "swing-1" and response.json()["cash"] == "250000.00"
    runtime = platform.kernel_runtime
    assert runtime.journal.durable_seq == runtime.kernel.seq  # acknowledged = journaled
    assert "swing-1" in runtime.kernel.state.accounts
    listed = client.get("/accounts", headers=auth("viewer")).json()["accounts"]
    assert [a["id"] for a in listed] == ["paper", "swing-1"]
    one = client.get("/accounts/swing-1", headers=auth("viewer"))
    assert one.status_code == 200 and one.json()["cash"] == "250000.00"


def test_a_duplicate_account_is_a_409_and_changes_nothing(client: TestClient, auth: Auth,
                                                          platform: Platform) -> None:
    seq = platform.kernel_runtime.kernel.seq
    response = client.post("/accounts", json={"account_id": "paper", "cash": "1"},
                           headers=auth("operator"))
    assert response.status_code == 409
    assert response.json()["code"] == "ACCOUNT_EXISTS" and "paper" in response.json()["message"]
    assert platform.kernel_runtime.kernel.seq == seq


@pytest.mark.parametrize(("body", "field"), [
    ({"account_id": "_selftest", "cash": "1"}, "account_id"),
    ({"account_id": "x" * 33, "cash": "1"}, "account_id"),
    ({"account_id": 7, "cash": "1"}, "account_id"),
    ({"account_id": "ok", "cash": "1e-999999999"}, "cash"),
    ({"account_id": "ok", "cash": "1E+999999999999999999"}, "cash"),
    ({"account_id": "ok", "cash": 1e308}, "cash"),
    ({"account_id": "ok", "cash": "9" * 5000}, "cash"),
    ({"account_id": "ok", "cash": -1}, "cash"),
    ({"account_id": "ok", "cash": True}, "cash"),
    ({"account_id": "ok"}, "cash"),
    ({"account_id": "ok", "cash": "1", "currency": "EUR"}, "currency"),
])
def test_a_bad_account_is_a_422_naming_the_field(client: TestClient, auth: Auth,
                                                 platform: Platform, body: dict[str, object],
                                                 field: str) -> None:
    seq = platform.kernel_runtime.kernel.seq
    response = client.post("/accounts", json=body, headers=auth("operator"))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert len(response.content) < 1000  # a hostile value is never echoed whole
    assert platform.kernel_runtime.kernel.seq == seq


def test_only_operators_open_accounts(client: TestClient, auth: Auth) -> None:
    body = {"account_id": "mine", "cash": "1000"}
    assert client.post("/accounts", json=body).status_code == 401
    assert client.post("/accounts", json=body, headers=auth("trader")).status_code == 403
    assert client.post("/accounts", json=body, headers=auth("admin")).status_code == 201


def test_a_bound_key_sees_only_its_account(client: TestClient, auth: Auth,
                                           platform: Platform) -> None:
    platform.kernel_runtime.kernel.open_account("other", Decimal(5000))
    mine = client.get("/accounts", headers=auth("trader@paper")).json()["accounts"]
    assert [a["id"] for a in mine] == ["paper"]
    assert client.get("/accounts/other", headers=auth("trader@paper")).status_code == 403
    assert client.get("/accounts/paper", headers=auth("viewer@paper")).status_code == 200
    assert client.get("/accounts/nope", headers=auth("operator")).status_code == 404
    every = client.get("/accounts", headers=auth("operator")).json()["accounts"]
    assert [a["id"] for a in every] == ["other", "paper"]


def test_the_self_test_passes_its_stages_and_leaves_no_order_open(
        client: TestClient, auth: Auth, platform: Platform,
        feed_quote: Callable[..., object]) -> None:
    feed_quote()
    response = client.post("/orders/test", headers=auth("operator"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["result"] == "pass", report
    assert [s["stage"] for s in report["stages"] if s["ok"]] == [
        "submit_risk_journal", "working_at_venue", "cancel_journal"]
    assert not platform.kernel_runtime.kernel.state.accounts["_selftest"].open_orders


def test_the_self_test_without_a_quote_fails_with_503_saying_why(client: TestClient,
                                                                 auth: Auth) -> None:
    response = client.post("/orders/test", headers=auth("operator"))
    assert response.status_code == 503
    assert response.json()["result"] == "fail"
    assert "no quote has arrived yet" in response.json()["detail"]
    assert client.post("/orders/test", headers=auth("trader")).status_code == 403


# ---- health ---------------------------------------------------------------------------------


def test_health_says_orders_are_refused_while_halted_or_in_maintenance(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    body = client.get("/health").json()
    assert (body["accepting_orders"], body["accepting_orders_reason"]) == (True, None)
    client.post("/emergency/halt-new-orders", json={"reason": "drill"}, headers=auth("operator"))
    halted = client.get("/health").json()
    assert halted["accepting_orders"] is False
    assert halted["accepting_orders_reason"] == "trading is halted_new_orders (drill)"
    client.post("/emergency/resume-trading", headers=auth("operator"))
    assert client.get("/health").json()["accepting_orders"] is True
    kernel = platform.kernel_runtime.kernel
    kernel.set_maintenance(True, reason="patching", actor="test")
    during = client.get("/health").json()
    assert during["accepting_orders"] is False
    assert "maintenance (patching)" in during["accepting_orders_reason"]
    kernel.set_maintenance(False, reason="done", actor="test")
    assert client.get("/health").json()["accepting_orders"] is True


# ---- GET /orders: one by client_order_id, else the listing -----------------------------------


def test_get_orders_without_client_order_id_lists_as_the_orders_service(
        client: TestClient, auth: Auth, platform: Platform, feed_quote: Any) -> None:
    from mcp_trading.services.orders import rest as orders

    feed_quote()
    for n in range(3):
        body = {"symbol": "AAPL", "side": "buy", "qty": "1", "type": "limit",
                "limit_price": "99.00", "client_order_id": f"list-{n}"}
        assert client.post("/orders", json=body, headers=auth("trader")).status_code == 200
    listed = client.get("/orders", headers=auth("viewer"))
    assert listed.status_code == 200, listed.text
    same = TestClient(orders.build(platform)).get("/orders", headers=auth("viewer")).json()
    assert listed.json() == same
    assert [o["client_order_id"] for o in listed.json()["orders"]] == ["list-2", "list-1", "list-0"]
    page = client.get("/orders", params={"limit": 2}, headers=auth("viewer")).json()
    assert len(page["orders"]) == 2 and page["next_cursor"]
    one = client.get("/orders", params={"client_order_id": "list-1"}, headers=auth("viewer"))
    assert one.status_code == 200 and one.json()["client_order_id"] == "list-1"
    assert client.get("/orders", headers=auth("viewer@other")).status_code in (403, 404)
    both = client.get("/orders", params={"client_order_id": "list-1", "status": "all"},
                      headers=auth("viewer"))
    assert both.status_code == 422 and both.json()["field"] == "status"
    assert client.get("/orders").status_code == 401


# ---- OpenAPI: the real response models --------------------------------------------------------


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = spec
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


@pytest.mark.parametrize(("method", "path", "status", "fields"), [
    ("post", "/orders", "200", {"id", "symbol", "status", "filled_avg_price", "reject_code"}),
    ("post", "/orders", "403", {"code", "message", "order"}),
    ("get", "/orders/{order_id}", "200", {"id", "status"}),
    ("delete", "/orders/{order_id}", "200", {"id", "status"}),
    ("post", "/orders/test", "200", {"result", "total_ms", "stages"}),
    ("post", "/orders/test", "503", {"result", "stages"}),
    ("post", "/orders/batch", "200", {"results"}),
])
def test_openapi_documents_the_order_responses(client: TestClient, method: str, path: str,
                                               status: str, fields: set[str]) -> None:
    spec = client.get("/openapi.json").json()
    answer = spec["paths"][path][method]["responses"][status]
    schema = _resolve(spec, answer["content"]["application/json"]["schema"])
    assert schema.get("type") != "string"
    assert fields <= set(schema["properties"]), sorted(schema["properties"])
