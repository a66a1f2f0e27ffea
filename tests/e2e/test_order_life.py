"""An order's life over HTTP, as a client of the trading engine sees it."""

from __future__ import annotations

from tests.e2e.harness import RunningPlatform


def test_limit_order_rests_is_replaced_and_canceled(running: RunningPlatform) -> None:
    te = running.client("trading-engine")
    quote = running.client("market-data").get("/quotes/SPY").json()
    far = round(float(quote["bid"]) * 0.9, 2)
    placed = te.post("/orders", json={"symbol": "SPY", "qty": "3", "side": "buy", "type": "limit",
                                      "limit_price": far, "time_in_force": "gtc",
                                      "client_order_id": "life-1"})
    assert placed.status_code == 200, placed.text
    order = placed.json()
    assert order["status"] == "new" and order["qty"] == "3" and order["client_order_id"] == "life-1"

    again = te.post("/orders", json={"symbol": "SPY", "qty": "3", "side": "buy", "type": "limit",
                                     "limit_price": far, "time_in_force": "gtc",
                                     "client_order_id": "life-1"})
    assert again.status_code == 200 and again.json()["id"] == order["id"]  # idempotent retry

    found = te.get("/orders", params={"client_order_id": "life-1"}).json()
    assert found["id"] == order["id"]

    replaced = te.patch(f"/orders/{order['id']}", json={"qty": 5})
    assert replaced.status_code == 200, replaced.text
    new = replaced.json()
    assert new["replaces"] == order["id"] and new["qty"] == "5"
    assert te.get(f"/orders/{order['id']}").json()["status"] == "replaced"

    canceled = te.delete(f"/orders/{new['id']}")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    again_cancel = te.delete(f"/orders/{new['id']}")
    assert again_cancel.status_code == 422
    assert "only working orders" in again_cancel.json()["message"]


def test_market_order_fills_and_moves_position_and_cash(running: RunningPlatform) -> None:
    te = running.client("trading-engine")
    before = te.get("/account").json()
    filled = te.post("/orders", json={"symbol": "SPY", "qty": 2, "side": "buy", "type": "market"})
    assert filled.status_code == 200, filled.text
    order = filled.json()
    assert order["status"] == "filled" and order["filled_qty"] == "2"
    positions = {p["symbol"]: p for p in te.get("/positions").json()}
    assert positions["SPY"]["qty"] == "2"
    after = te.get("/account").json()
    spent = float(before["cash"]) - float(after["cash"])
    assert abs(spent - 2 * float(order["filled_avg_price"])) < 0.01


def test_bad_orders_get_a_clear_4xx_and_change_nothing(running: RunningPlatform) -> None:
    te = running.client("trading-engine")
    cases = [
        ({"symbol": "SPY", "qty": -1, "side": "buy"}, 422, "qty"),
        ({"symbol": "NOPE", "qty": 1, "side": "buy"}, 422, "symbol"),
        ({"symbol": "SPY", "qty": 1, "side": "up"}, 422, "side"),
        ({"symbol": "SPY", "qty": 1, "side": "buy", "type": "limit", "limit_price": "10.001",
          "time_in_force": "gtc"}, 422, "limit_price"),
        ({"symbol": "SPY", "qty": 1, "side": "buy", "limit_prcie": 10}, 422, "limit_prcie"),
    ]
    before = te.get("/account").json()
    for body, status, named in cases:
        response = te.post("/orders", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["field"] == named, response.text
    assert te.post("/orders", content=b"{not json",
                   headers={"Content-Type": "application/json"}).status_code == 400
    assert te.post("/orders", content=b"{not json").status_code == 415  # not declared JSON
    assert te.post("/orders", json=[1, 2]).status_code == 422
    assert te.get("/orders/does-not-exist").status_code == 404
    assert te.get("/account").json()["open_orders"] == before["open_orders"]


def test_risk_refusal_is_403_with_code_and_figures(running: RunningPlatform) -> None:
    te = running.client("trading-engine")
    refused = te.post("/orders", json={"symbol": "SPY", "qty": 1_000_000, "side": "buy",
                                       "type": "market"})
    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert body["code"] == "RISK_BUYING_POWER"
    assert "USD" in body["message"] and body["order"]["status"] == "rejected"


def test_batch_route_places_independent_orders_with_one_acknowledgement(
        running: RunningPlatform) -> None:
    te = running.client("trading-engine")
    batch = te.post("/orders/batch", json={"orders": [
        {"symbol": "SPY", "qty": 1, "side": "buy", "type": "market"},
        {"symbol": "SPY", "qty": -1, "side": "buy"},
        {"symbol": "SPY", "qty": 1_000_000, "side": "buy", "type": "market"},
        "not an order",
    ]})
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["status"] for r in results] == [200, 422, 403, 422]
    assert results[0]["order"]["status"] == "filled"
    assert results[1]["field"] == "qty"
    assert results[2]["code"] == "RISK_BUYING_POWER"
    too_many = te.post("/orders/batch", json={"orders": [
        {"symbol": "SPY", "qty": 1, "side": "buy"}] * 501})
    assert too_many.status_code == 422 and too_many.json()["field"] == "orders"
    assert te.post("/orders/batch", json={"orders": "x"}).status_code == 422
