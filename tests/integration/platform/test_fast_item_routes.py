"""GET and DELETE /orders/{id} on the trading engine's fast path answer as its FastAPI routes do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.faces.rest.fastpath import serving_app
from mcp_trading.platform.platform import Platform
from mcp_trading.services.trading_engine import rest as trading_engine

from .conftest import FeedQuote

Auth = Callable[[str], dict[str, str]]
LIMIT = {"symbol": "AAPL", "qty": 1, "side": "buy", "type": "limit", "limit_price": "1.00",
         "time_in_force": "gtc"}


@pytest.fixture
def clients(platform: Platform, feed_quote: FeedQuote) -> tuple[TestClient, TestClient]:
    """(served as the platform serves it: fast routes in front; the bare FastAPI app)."""
    feed_quote()
    app = trading_engine.build(platform, failing_checks=list)
    return (TestClient(serving_app(app), base_url="http://127.0.0.1"),
            TestClient(app, base_url="http://127.0.0.1"))


def _answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.json()


def test_read_and_cancel_answer_alike_on_both_paths(clients: tuple[TestClient, TestClient],
                                                    auth: Auth, platform: Platform) -> None:
    fast, bare = clients
    ids = [fast.post("/orders", headers=auth("trader"), json=LIMIT).json()["id"]
           for _ in range(2)]
    for order_id in ids:
        assert _answer(fast.get(f"/orders/{order_id}", headers=auth("viewer"))) == _answer(
            bare.get(f"/orders/{order_id}", headers=auth("viewer")))
    status, body = _answer(fast.delete(f"/orders/{ids[0]}", headers=auth("trader")))
    assert (status, body["status"]) == (200, "canceled")
    status, other = _answer(bare.delete(f"/orders/{ids[1]}", headers=auth("trader")))
    assert (status, other["status"]) == (200, "canceled")
    assert platform.kernel_runtime.journal.durable_seq == platform.kernel_runtime.kernel.seq
    assert fast.get(f"/orders/{ids[0]}", headers=auth("viewer")).json()["status"] == "canceled"
    # canceling it again: the same refusal either way
    assert _answer(fast.delete(f"/orders/{ids[0]}", headers=auth("trader"))) == _answer(
        bare.delete(f"/orders/{ids[0]}", headers=auth("trader")))


@pytest.mark.parametrize(("method", "path", "role"), [
    ("GET", "/orders/no-such-order", "viewer"),      # 404 ORDER_NOT_FOUND
    ("DELETE", "/orders/no-such-order", "trader"),   # 404
    ("DELETE", "/orders/no-such-order", "viewer"),   # 403: a viewer cannot cancel
    ("GET", "/orders/no-such-order", ""),            # 401: no credential
    ("GET", "/orders/batch", "viewer"),              # FastAPI's own: 405, not an order id
    ("DELETE", "/orders/test", "trader"),            # 405
    ("GET", "/orders/a/b", "viewer"),                # 404 from the router
])
def test_refusals_are_the_same_on_both_paths(clients: tuple[TestClient, TestClient], auth: Auth,
                                             method: str, path: str, role: str) -> None:
    fast, bare = clients
    headers = auth(role) if role else {}
    got, want = (c.request(method, path, headers=headers) for c in (fast, bare))
    assert got.status_code == want.status_code
    assert got.json() == want.json()
    if got.status_code == 401:
        assert got.headers.get("www-authenticate") == "Bearer"
