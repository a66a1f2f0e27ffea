"""Rebalances on the paper account: a preview lists whole-lot orders, sells first, each with
the kernel's pre-trade answer, and places nothing; a confirm with the preview's token checks
every order again and places all or none, attributed to the optimizer run; a wrong, foreign,
expired or spent token places nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.platform.platform import Platform
from mcp_trading.services.optimizer import rebalance, rest

Auth = Callable[[str], dict[str, str]]
Quotes = Callable[..., None]
TARGET = {"AAPL": 0.5, "MSFT": 0.3, "GOOGL": 0.2}


@pytest.fixture
def auth() -> Auth:
    return lambda role: {"Authorization": f"Bearer {role}"}


@pytest.fixture
def client(platform: Platform, quotes: Quotes) -> TestClient:
    quotes(AAPL="150.00", MSFT="30.00", GOOGL="120.00")
    return TestClient(rest.build(platform), client=("198.51.100.7", 5000))


def _orders(platform: Platform) -> list[Any]:
    return list(platform.kernel_runtime.kernel.state.orders.values())


def _preview(client: TestClient, auth: Auth, **body: Any) -> dict[str, Any]:
    response = client.post("/rebalance", headers=auth("trader"), json=body or {"weights": TARGET})
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def _confirm(client: TestClient, auth: Auth, preview: dict[str, Any], role: str = "trader",
             token: str | None = None) -> Any:
    return client.post(f"/rebalance/{preview['preview_id']}/confirm", headers=auth(role),
                       json={"confirmation_token": token or preview["confirmation_token"]})


def test_a_preview_lists_whole_lot_orders_with_the_kernels_answer_and_places_nothing(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    preview = _preview(client, auth)
    assert preview["account_id"] == "paper" and preview["would_accept_all"] is True
    assert preview["valid_s"] == 600
    by_symbol = {o["symbol"]: o for o in preview["orders"]}
    assert set(by_symbol) == set(TARGET)
    # 100,000 equity: 50,000 / 150.01 (the quote's mid) = 333.3 -> 333 whole shares
    assert by_symbol["AAPL"]["qty"] == "333" and by_symbol["AAPL"]["side"] == "buy"
    assert all(o["would_accept"] and o["decided_by"] == "kernel" for o in preview["orders"])
    assert all(o["message"] == "the order passes every pre-trade check"
               for o in preview["orders"])
    assert sum(Decimal(o["notional"]) for o in preview["orders"]) <= Decimal(100_000)
    assert _orders(platform) == []


def test_a_confirm_places_every_order_attributed_to_the_run(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    run = client.post("/optimize", headers=auth("viewer"), json={
        "symbols": list(TARGET), "start": "2008-01-01", "end": "2012-12-31",
        "method": "min_volatility"}).json()
    preview = _preview(client, auth, run_id=run["run_id"])
    assert preview["attribution"] == f"optimizer:{run['run_id']}"
    answer = _confirm(client, auth, preview)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "placed" and body["placed"] == len(preview["orders"])
    placed = _orders(platform)
    assert len(placed) == len(preview["orders"])
    assert {o.attribution for o in placed} == {f"optimizer:{run['run_id']}"}
    assert all(o["order"]["status"] == "filled" for o in body["orders"])
    # spent: a second confirm places nothing more
    again = _confirm(client, auth, preview)
    assert again.status_code == 409 and again.json()["code"] == "PREVIEW_USED"
    assert len(_orders(platform)) == len(placed)


def test_moving_from_a_held_portfolio_sells_first(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    first = _preview(client, auth)
    assert _confirm(client, auth, first).status_code == 200
    second = _preview(client, auth, weights={"MSFT": 0.7, "GOOGL": 0.2})
    sides = [o["side"] for o in second["orders"]]
    assert sides == sorted(sides, key=lambda s: s != "sell") and sides[0] == "sell"
    aapl = next(o for o in second["orders"] if o["symbol"] == "AAPL")
    assert aapl["side"] == "sell" and aapl["qty"] == "333"  # unnamed: goes to 0
    body = _confirm(client, auth, second).json()
    assert body["status"] == "placed"
    account = platform.kernel_runtime.kernel.state.accounts["paper"]
    assert account.positions["AAPL"].qty == 0


def test_one_refused_order_at_confirm_places_none_and_says_which(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    preview = _preview(client, auth)
    assert preview["would_accept_all"]
    # between preview and confirm the account's limits tighten: the AAPL order (~50,000)
    # now exceeds the order notional limit, the others do not
    platform.kernel_runtime.kernel.set_limits("paper", {"max_order_notional": "35000"},
                                              actor="test")
    answer = _confirm(client, auth, preview)
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert body["code"] == "REBALANCE_REFUSED" and "AAPL" in body["message"]
    verdicts = {o["symbol"]: o for o in body["orders"]}
    assert verdicts["AAPL"]["would_accept"] is False and verdicts["AAPL"]["code"]
    assert verdicts["MSFT"]["would_accept"] is True
    assert not any(o["placed"] for o in body["orders"])
    assert _orders(platform) == []


def test_a_wrong_foreign_or_expired_token_places_nothing(
        client: TestClient, auth: Auth, platform: Platform,
        monkeypatch: pytest.MonkeyPatch) -> None:
    preview = _preview(client, auth)
    wrong = _confirm(client, auth, preview, token="rbl_not-the-token-at-all")
    assert wrong.status_code == 422 and wrong.json()["code"] == "CONFIRMATION_MISMATCH"
    foreign = _confirm(client, auth, preview, role="operator")
    assert foreign.status_code == 403 and foreign.json()["code"] == "CONFIRMATION_MISMATCH"
    monkeypatch.setattr(rebalance, "PREVIEW_TTL_S", -1.0)
    stale = _preview(client, auth)
    expired = _confirm(client, auth, stale)
    assert expired.status_code == 422 and expired.json()["code"] == "CONFIRMATION_EXPIRED"
    assert _orders(platform) == []
    # the first preview is still good
    assert _confirm(client, auth, preview).status_code == 200


def test_roles_and_bad_targets(client: TestClient, auth: Auth) -> None:
    viewer = client.post("/rebalance", headers=auth("viewer"), json={"weights": TARGET})
    assert viewer.status_code == 403
    for body, field in [({"weights": {"IBM": 0.5}}, "weights.IBM"),  # history only: no trading
                        ({"weights": {"AAPL": 0.9, "MSFT": 0.9}}, "weights"),
                        ({}, "weights"), ({"weights": TARGET, "run_id": "x"}, "run_id"),
                        ({"run_id": "nothere"}, "run_id")]:
        response = client.post("/rebalance", headers=auth("trader"), json=body)
        assert response.status_code in (404, 422), (body, response.text)
        assert response.json()["field"] == field, response.json()
