"""orders :8011 over a real platform: listings, filters, paging, history, cancel-all-pending."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.domain.orders import OrderStatus
from mcp_trading.platform.platform import Platform
from mcp_trading.services.orders import rest as orders
from mcp_trading.services.orders.service import find_order_view

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def client(platform: Platform) -> TestClient:
    return TestClient(orders.build(platform))


def _working(place_order: Any, n: int, **fields: object) -> list[str]:
    """n buy limits far below the market: they stay working."""
    return [place_order(type="limit", limit_price="90.00", **fields).id for _ in range(n)]


def test_health_is_public_and_counts_open_orders(client: TestClient, feed_quote: Any,
                                                 place_order: Any) -> None:
    feed_quote()
    _working(place_order, 2)
    body = client.get("/health").json()
    assert body["status"] == "healthy"
    assert body["open_orders"] == 2
    assert body["service"] == "orders"


def test_list_needs_a_credential(client: TestClient) -> None:
    response = client.get("/orders")
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHENTICATED"


def test_list_defaults_to_open_orders_newest_first(client: TestClient, auth: Auth,
                                                   feed_quote: Any, place_order: Any) -> None:
    feed_quote()
    ids = _working(place_order, 3)
    filled = place_order(qty=1)  # market buy: fills at once
    assert filled.status is OrderStatus.FILLED
    body = client.get("/orders", headers=auth("viewer")).json()
    assert [o["id"] for o in body["orders"]] == ids[::-1]
    assert body["next_cursor"] is None
    closed = client.get("/orders", params={"status": "closed"}, headers=auth("viewer")).json()
    assert [o["id"] for o in closed["orders"]] == [filled.id]
    every = client.get("/orders", params={"status": "all"}, headers=auth("viewer")).json()
    assert len(every["orders"]) == 4
    exact = client.get("/orders", params={"status": "filled"}, headers=auth("viewer")).json()
    assert [o["status"] for o in exact["orders"]] == ["filled"]


def test_filters_by_symbol_account_and_time(client: TestClient, auth: Auth, feed_quote: Any,
                                            place_order: Any, platform: Platform) -> None:
    feed_quote()
    feed_quote("MSFT", "200.00", "200.04")
    aapl = _working(place_order, 1)
    msft = place_order(symbol="MSFT", type="limit", limit_price="150.00").id
    by_symbol = client.get("/orders", params={"symbol": "msft"}, headers=auth("viewer")).json()
    assert [o["id"] for o in by_symbol["orders"]] == [msft]
    by_account = client.get("/orders", params={"account_id": "paper"},
                            headers=auth("viewer")).json()
    assert {o["id"] for o in by_account["orders"]} == {*aapl, msft}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    later = client.get("/orders", params={"after": future}, headers=auth("viewer")).json()
    assert later["orders"] == []
    earlier = client.get("/orders", params={"until": future.replace("+00:00", "Z")},
                         headers=auth("viewer")).json()
    assert len(earlier["orders"]) == 2


def test_cursor_pages_through_every_order_once(client: TestClient, auth: Auth, feed_quote: Any,
                                               place_order: Any) -> None:
    feed_quote()
    ids = _working(place_order, 7)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        body = client.get("/orders", params=params, headers=auth("viewer")).json()
        seen += [o["id"] for o in body["orders"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == ids[::-1]
    offset = client.get("/orders", params={"limit": 2, "offset": 5},
                        headers=auth("viewer")).json()
    assert [o["id"] for o in offset["orders"]] == ids[1::-1]


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "bogus"}, "status"),
    ({"limit": 501}, "limit"),
    ({"limit": 0}, "limit"),
    ({"after": "yesterday"}, "after"),
    ({"cursor": "abc"}, "cursor"),
    ({"cursor": "999999"}, "cursor"),
    ({"offset": -1}, "offset"),
])
def test_bad_query_is_a_422_naming_the_field(client: TestClient, auth: Auth,
                                             params: dict[str, Any], field: str) -> None:
    response = client.get("/orders", params=params, headers=auth("viewer"))
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_bad_status_lists_what_is_allowed(client: TestClient, auth: Auth) -> None:
    message = client.get("/orders", params={"status": "bogus"}, headers=auth("viewer")).json()[
        "message"]
    assert "open, closed, all" in message and "partially_filled" in message


def test_internal_accounts_are_listed_only_when_named(client: TestClient, auth: Auth,
                                                      feed_quote: Any, place_order: Any,
                                                      platform: Platform) -> None:
    from decimal import Decimal

    feed_quote()
    platform.kernel_runtime.kernel.open_account("_selftest", Decimal(1_000_000), internal=True)
    hidden = place_order("_selftest", type="limit", limit_price="90.00").id
    assert client.get("/orders", headers=auth("viewer")).json()["orders"] == []
    named = client.get("/orders", params={"account_id": "_selftest"},
                       headers=auth("viewer")).json()
    assert [o["id"] for o in named["orders"]] == [hidden]


def test_account_bound_credential_sees_only_its_account(client: TestClient, auth: Auth,
                                                        feed_quote: Any, place_order: Any) -> None:
    feed_quote()
    _working(place_order, 1)
    other = client.get("/orders", params={"account_id": "paper"}, headers=auth("viewer@other"))
    assert other.status_code == 403
    mine = client.get("/orders", headers=auth("viewer@paper")).json()
    assert len(mine["orders"]) == 1


def test_history_lists_the_orders_journaled_events(client: TestClient, auth: Auth,
                                                   feed_quote: Any, place_order: Any,
                                                   platform: Platform) -> None:
    feed_quote()
    order = place_order(type="limit", limit_price="90.00")
    place_order(type="limit", limit_price="91.00")  # another order's events stay out
    platform.kernel_runtime.kernel.cancel(order.id, reason="test")
    platform.kernel_runtime.journal.flush()
    body = client.get(f"/orders/{order.id}/history", headers=auth("viewer")).json()
    assert body["order_id"] == order.id
    assert body["order"]["status"] == "canceled"
    events = body["events"]
    assert [e["event"] for e in events] == ["OrderAccepted", "OrderCanceled"]
    assert events[0]["seq"] < events[1]["seq"]
    assert events[0]["fields"]["request"]["limit_price"] == "90.00"
    assert events[0]["fields"]["request"]["side"] == "buy"
    assert events[1]["fields"]["reason"] == "test"
    assert events[1]["ts"].endswith("Z")
    # a later call sees events appended since (the index follows the journal)
    again = client.get(f"/orders/{order.id}/history", headers=auth("viewer")).json()
    assert again["events"] == events


def test_history_of_a_filled_order_shows_the_fill(client: TestClient, auth: Auth,
                                                  feed_quote: Any, place_order: Any) -> None:
    feed_quote()
    client.get("/orders/x/history", headers=auth("viewer"))  # build the index early
    order = place_order(qty=5)
    events = client.get(f"/orders/{order.id}/history", headers=auth("viewer")).json()["events"]
    assert [e["event"] for e in events] == ["OrderAccepted", "OrderFilled"]
    assert events[1]["fields"]["qty"] == "5"
    assert events[1]["fields"]["price"] == "100.02"


def test_history_of_an_unknown_order_is_404(client: TestClient, auth: Auth) -> None:
    response = client.get("/orders/nope/history", headers=auth("viewer"))
    assert response.status_code == 404


def test_cancel_all_pending_accepts_an_empty_body(client: TestClient, auth: Auth,
                                                  feed_quote: Any, place_order: Any,
                                                  platform: Platform) -> None:
    feed_quote()
    ids = _working(place_order, 3)
    response = client.post("/orders/cancel-all-pending", headers=auth("operator"))
    assert response.status_code == 200
    body = response.json()
    assert body["canceled_count"] == 3
    assert sorted(body["canceled"]) == sorted(ids)
    state = platform.kernel_runtime.kernel.state
    # read as GET /orders/{id} does: closed orders leave the kernel once projected
    assert all(find_order_view(platform, i, None)["status"] == "canceled" for i in ids)
    assert platform.kernel_runtime.journal.durable_seq == state.seq  # acknowledged = journaled
    entry = json.loads(platform.emergency_log.path.read_text().splitlines()[-1])
    assert entry["action"] == "cancel-all-pending"
    assert entry["canceled_count"] == 3
    assert entry["actor"] == "key:test-operator"
    assert [a.kind for a in platform.alerts.list()] == ["cancel_all"]
    assert client.get("/health").json()["open_orders"] == 0


def test_cancel_all_pending_by_symbol_with_a_reason(client: TestClient, auth: Auth,
                                                    feed_quote: Any, place_order: Any,
                                                    platform: Platform) -> None:
    feed_quote()
    feed_quote("MSFT", "200.00", "200.04")
    aapl = _working(place_order, 2)
    msft = place_order(symbol="MSFT", type="limit", limit_price="150.00")
    body = client.post("/orders/cancel-all-pending", headers=auth("operator"),
                       json={"symbol": "aapl", "reason": "bad prints"}).json()
    assert sorted(body["canceled"]) == sorted(aapl)
    assert body["reason"] == "bad prints"
    assert msft.status is OrderStatus.NEW
    assert find_order_view(platform, aapl[0], None)["status"] == "canceled"


def test_cancel_all_pending_needs_an_operator(client: TestClient, auth: Auth) -> None:
    assert client.post("/orders/cancel-all-pending").status_code == 401
    assert client.post("/orders/cancel-all-pending", headers=auth("trader")).status_code == 403


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"symbol": "NOPE"}, 422, "symbol"),
    ({"account_id": "ghost"}, 404, "account_id"),
    ({"reason": 5}, 422, "reason"),
    ({"everything": True}, 422, "everything"),
])
def test_cancel_all_pending_bad_input_changes_nothing(client: TestClient, auth: Auth,
                                                      feed_quote: Any, place_order: Any,
                                                      body: dict[str, Any], status: int,
                                                      field: str) -> None:
    feed_quote()
    ids = _working(place_order, 1)
    response = client.post("/orders/cancel-all-pending", headers=auth("operator"), json=body)
    assert response.status_code == status
    assert response.json()["field"] == field
    listed = client.get("/orders", headers=auth("viewer")).json()["orders"]
    assert [o["id"] for o in listed] == ids


def test_cancel_all_pending_rejects_invalid_json(client: TestClient, auth: Auth) -> None:
    response = client.post("/orders/cancel-all-pending", headers=auth("operator"),
                           content=b"{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JSON"
