"""Live instances over REST (:8090) and MCP: start (201, journaled), list, read, stop with
cancel_orders; roles and account scope as for orders; MCP start through preview → confirm."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from starlette.testclient import TestClient
from tests.integration.mcp.conftest import call, connect, mcp_app, tool_map

from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.platform import Platform
from mcp_trading.services.strategies import rest

BODY = {"symbols": ["AAPL"], "timeframe": "1Min", "params": {"fast": 3, "slow": 5}}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _client(platform: Platform) -> TestClient:
    return TestClient(rest.build(platform), client=("198.51.100.7", 5000))


def test_start_list_read_and_stop_with_its_orders_canceled(platform: Platform) -> None:
    client = _client(platform)
    started = client.post("/strategies/sma_crossover/instances", headers=_auth("trader@paper"),
                          json=BODY)
    assert started.status_code == 201, started.text
    instance = started.json()
    iid = instance["id"]
    assert (instance["status"], instance["account"], instance["attribution"]) == (
        "running", "paper", f"strategy:{iid}")
    assert instance["params"] == {"fast": 3, "slow": 5, "qty": "100"}
    kernel = platform.kernel_runtime.kernel
    assert kernel.state.instances[iid].started_by == "key:test-trader"
    # an order of the instance (as the runner places them), working at the venue
    kernel.on_quote(Quote("AAPL", Decimal("100"), Decimal("100.02"), Decimal(100),
                          Decimal(100), None, kernel.clock.now_ns()))
    order = kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty=1, side="buy",
                                                      type="limit", limit_price="90",
                                                      time_in_force="gtc"),
                          attribution=f"strategy:{iid}")
    listed = client.get("/strategies/instances", headers=_auth("viewer")).json()
    assert [i["id"] for i in listed["instances"]] == [iid]
    one = client.get(f"/strategies/instances/{iid}", headers=_auth("viewer")).json()
    assert [o["id"] for o in one["orders"]] == [order.id]
    stopped = client.delete(f"/strategies/instances/{iid}?cancel_orders=true",
                            headers=_auth("trader@paper"))
    assert stopped.status_code == 200, stopped.text
    body = stopped.json()
    assert body["status"] == "stopped" and body["canceled"] == [order.id]
    assert body["stop_reason"] == "stopped by key:test-trader"
    assert kernel.state.orders[order.id].status.value == "canceled"
    again = client.delete(f"/strategies/instances/{iid}", headers=_auth("operator"))
    assert again.status_code == 409


def test_a_dry_run_answers_what_would_start_and_starts_nothing(platform: Platform) -> None:
    client = _client(platform)
    path = "/strategies/sma_crossover/instances?dry_run=true"
    plan = client.post(path, headers=_auth("trader@paper"), json=BODY)
    assert plan.status_code == 200, plan.text
    assert (plan.json()["account"], plan.json()["warmup_bars"]) == ("paper", 6)
    assert platform.kernel_runtime.kernel.state.instances == {}
    assert client.post(path, headers=_auth("viewer"), json=BODY).status_code == 403
    bad = client.post(path, headers=_auth("trader"), json={**BODY, "timeframe": "5Min"})
    assert (bad.status_code, bad.json()["field"]) == (422, "timeframe"), bad.text


def test_roles_and_account_scope_as_for_orders(platform: Platform) -> None:
    platform.kernel_runtime.kernel.open_account("other", Decimal(10_000))
    client = _client(platform)
    path = "/strategies/sma_crossover/instances"
    assert client.post(path, headers=_auth("viewer"), json=BODY).status_code == 403
    assert client.post(path, json=BODY).status_code == 401
    elsewhere = client.post(path, headers=_auth("trader@paper"), json={**BODY, "account": "other"})
    assert elsewhere.status_code == 403
    theirs = client.post(path, headers=_auth("trader@other"), json=BODY)
    assert theirs.status_code == 201 and theirs.json()["account"] == "other"
    iid = theirs.json()["id"]
    assert client.get(f"/strategies/instances/{iid}",
                      headers=_auth("trader@paper")).status_code == 404
    assert client.get("/strategies/instances", headers=_auth("trader@paper")).json()["count"] == 0
    assert client.delete(f"/strategies/instances/{iid}",
                         headers=_auth("trader@paper")).status_code == 404
    assert client.delete(f"/strategies/instances/{iid}",
                         headers=_auth("operator")).status_code == 200


def test_bad_input_is_a_4xx_naming_the_field(platform: Platform) -> None:
    client = _client(platform)

    def refused(name: str, body: dict[str, Any]) -> tuple[int, Any]:
        response = client.post(f"/strategies/{name}/instances", headers=_auth("trader"),
                               json=body)
        return response.status_code, response.json().get("field")

    assert refused("nope", BODY) == (404, "name")
    assert refused("sma_crossover", {**BODY, "params": {"fast": 9, "slow": 5}}) == (422, "params.fast")
    assert refused("sma_crossover", {**BODY, "timeframe": "5Min"}) == (422, "timeframe")
    assert refused("sma_crossover", {**BODY, "symbols": ["NOPE"]})[0] == 422
    assert refused("sma_crossover", {**BODY, "colour": "red"}) == (422, "colour")
    assert refused("sma_crossover", {**BODY, "account": "ghost"}) == (404, "account")


def test_mcp_start_is_previewed_then_confirmed(platform: Platform) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "strategies"), "trader") as client:
            tools = await tool_map(client)
            assert {"start_strategy_instance", "list_strategy_instances",
                    "stop_strategy_instance"} <= set(tools)
            args = {"strategy": "sma_crossover", "symbols": ["AAPL"], "timeframe": "1Min",
                    "params": {"fast": 3, "slow": 5}}
            preview = (await call(client, tools, "start_strategy_instance", args)
                       ).structured_content or {}
            assert preview["preview"]["warmup_bars"] == 6
            assert platform.kernel_runtime.kernel.state.instances == {}  # nothing yet
            token = preview["confirmation_token"]
            changed = await call(client, tools, "start_strategy_instance",
                                 {**args, "params": {"fast": 4, "slow": 5},
                                  "confirmation_token": token})
            assert changed.is_error
            preview = (await call(client, tools, "start_strategy_instance", args)
                       ).structured_content or {}
            started = (await call(client, tools, "start_strategy_instance",
                                  {**args, "confirmation_token": preview["confirmation_token"]})
                       ).structured_content or {}
            assert started["status"] == "running"
            listed = (await call(client, tools, "list_strategy_instances", {})
                      ).structured_content or {}
            assert listed["count"] == 1
            stopped = (await call(client, tools, "stop_strategy_instance",
                                  {"instance_id": started["id"]})).structured_content or {}
            assert stopped["status"] == "stopped"

    asyncio.run(body())
