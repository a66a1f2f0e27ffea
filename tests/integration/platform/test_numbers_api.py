"""The issue's hostile numbers over REST: a 422 naming the field and the bound, nothing placed.

(Every numeric field of every route and tool is fuzzed in tests/property/test_hostile_numbers.py;
these pin the answers the issue's reproductions get.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.faces.rest.fastpath import serving_app
from mcp_trading.platform.platform import Platform
from mcp_trading.services.risk import rest as risk
from mcp_trading.services.trading_engine import rest as trading_engine

from .conftest import FeedQuote, PlaceOrder

Auth = Callable[[str], dict[str, str]]
LIMIT = {"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit", "limit_price": "90.00",
         "time_in_force": "gtc"}


@pytest.fixture
def engine(platform: Platform, feed_quote: FeedQuote) -> TestClient:
    feed_quote()
    return TestClient(serving_app(trading_engine.build(platform, failing_checks=list)),
                      base_url="http://127.0.0.1")


@pytest.mark.parametrize(("field", "value", "hint"), [
    ("limit_price", "1e-999999999", "has more than 9 decimal places"),
    ("limit_price", "1e400", "is above the maximum 1000000000 for a price"),
    ("limit_price", 1e308, "is above the maximum 1000000000 for a price"),
    ("qty", "1E+999999999999999999", "is above the maximum 1000000000 for a quantity"),
    ("qty", "9" * 5000, "is 5000 characters long; a number has at most 40"),
    ("qty", "1_000", "is not a decimal number"),
])
def test_a_hostile_number_is_a_422_naming_field_and_bound(
        engine: TestClient, auth: Auth, platform: Platform, field: str, value: Any,
        hint: str) -> None:
    seq = platform.kernel_runtime.kernel.seq
    response = engine.post("/orders", headers=auth("trader"), json={**LIMIT, field: value})
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["field"]) == ("INVALID_ORDER", field)
    assert hint in body["message"]
    assert platform.kernel_runtime.kernel.seq == seq  # nothing journaled


@pytest.mark.parametrize(("field", "value"), [("limit_price", "1e-999999999"),
                                              ("qty", "1e400"), ("limit_price", 1e308)])
def test_a_replace_with_a_hostile_number_is_a_422_and_the_order_keeps_working(
        engine: TestClient, auth: Auth, place_order: PlaceOrder, field: str, value: Any) -> None:
    order = place_order(type="limit", limit_price="90.00", time_in_force="gtc")
    response = engine.patch(f"/orders/{order.id}", headers=auth("trader"), json={field: value})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert engine.get(f"/orders/{order.id}", headers=auth("viewer")).json()["status"] == "new"


def test_hostile_limits_are_a_422_naming_the_limit(platform: Platform, auth: Auth) -> None:
    client = TestClient(risk.build(platform))
    for value in ("1E+999999999999999999", "1e-999999999", 1e308, "NaN"):
        response = client.put("/limits/global", headers=auth("operator"),
                              json={"max_order_notional": value})
        assert response.status_code == 422, response.text
        assert (response.json()["code"], response.json()["field"]) == ("INVALID_LIMIT",
                                                                       "max_order_notional")
    assert platform.kernel_runtime.kernel.state.global_limits.max_order_notional is None
