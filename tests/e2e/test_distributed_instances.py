"""Live strategy instances in distributed mode: created through trading-strategies (:8090),
run by the trading engine's process, their orders on the engine's kernel."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.distributed_harness import DistributedPlatform

pytestmark = pytest.mark.slow

# A user strategy (MCP_TRADING_STRATEGY_DIR): one market buy on its first live quote, so the
# test need not wait for minute bars to close.
PROBE = '''
from mcp_trading.strategy.api import Strategy
from mcp_trading.strategy.params import StrategyParams, param


class ProbeParams(StrategyParams):
    qty: int = param(3, min=1, max=100, description="Shares bought once")


class BuyOnce(Strategy):
    """Buys `qty` with a market order on its first live quote (an end-to-end probe)."""

    name = "buy_once"
    Params = ProbeParams

    def on_start(self, ctx):
        self.bought = False

    def on_quote(self, ctx, quote):
        if not self.bought:
            self.bought = True
            ctx.submit(quote.symbol, "buy", self.params.qty)
'''


def _engine_qty(p: DistributedPlatform, symbol: str) -> Decimal:
    rows = p.client("trading-engine").get("/positions").json()
    return sum((Decimal(r["qty"]) for r in rows if r["symbol"] == symbol), Decimal(0))


def test_an_instance_started_on_the_strategies_service_trades_on_the_engine(
        distributed_factory: Any, tmp_path: Path) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "probe.py").write_text(PROBE)
    p: DistributedPlatform = distributed_factory(MCP_TRADING_STRATEGY_DIR=str(strategies))
    p.wait_for(lambda: p.client("market-data").get("/health").json()["market_data_status"]
               == "streaming", what="quotes streaming")
    before = _engine_qty(p, "SPY")
    api = p.client("strategies")
    started = api.post("/strategies/buy_once/instances",
                       json={"symbols": ["SPY"], "timeframe": "1Min", "params": {"qty": 3}})
    assert started.status_code == 201, started.text
    instance = started.json()
    iid = instance["id"]
    assert (instance["status"], instance["attribution"]) == ("running", f"strategy:{iid}")

    # the engine's runner trades it: its order is on the engine's kernel, attributed to it
    def traded() -> bool:
        one = api.get(f"/strategies/instances/{iid}").json()  # forwarded to the engine
        return one["runner"] == "trading" and len(one["orders"]) == 1 \
            and one["orders"][0]["status"] == "filled"

    p.wait_for(traded, timeout=60, what="the instance's order filled")
    one = api.get(f"/strategies/instances/{iid}").json()
    order = p.client("trading-engine").get(f"/orders/{one['orders'][0]['id']}").json()
    assert (order["attribution"], order["side"], order["qty"]) == (f"strategy:{iid}", "buy", "3")
    assert _engine_qty(p, "SPY") == before + 3
    listed = api.get("/strategies/instances", params={"status": "running"}).json()
    assert [i["id"] for i in listed["instances"]] == [iid]
    status = json.loads(p.cli("status", "--json", check=True).stdout)
    assert [i["id"] for i in status["instances"]] == [iid]  # `mcp-trading status` shows it
    orders_view = p.client("orders").get("/orders", params={"status": "all", "limit": 50}).json()
    assert order["id"] in {o["id"] for o in orders_view["orders"]}  # journaled, replicated

    stopped = api.delete(f"/strategies/instances/{iid}")
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "stopped"
    assert api.get("/strategies/instances", params={"status": "running"}).json()["count"] == 0
    assert api.post("/strategies/nope/instances", json={"symbols": ["SPY"]}).status_code == 404


def test_the_mcp_instance_tools_of_the_strategies_service_run_on_the_engine(
        distributed_factory: Any) -> None:
    """start (preview → confirm), list and stop over MCP on :8090, with a trader's key: the
    tools forward to the engine with that key; its refusals come back with their codes."""
    import asyncio

    import httpx2
    from mcp.client.client import Client
    from mcp.client.streamable_http import streamable_http_client

    p: DistributedPlatform = distributed_factory()
    created = p.cli("keys", "create", "--role", "trader", "--account", "paper",
                    "--name", "inst-agent", "--json", check=True)
    key = json.loads(created.stdout)["key"]
    args: dict[str, Any] = {"strategy": "sma_crossover", "symbols": ["SPY"],
                            "timeframe": "1Min", "params": {"fast": 3, "slow": 5}}

    async def body() -> dict[str, Any]:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"},
                                      timeout=20.0) as http, \
                Client(streamable_http_client(p.url("strategies", "/mcp"),
                                              http_client=http)) as client:
            preview = await client.call_tool("start_strategy_instance", args)
            assert not preview.is_error, preview.structured_content
            out = preview.structured_content or {}
            assert out["preview"]["warmup_bars"] == 6 and out["preview"]["account"] == "paper"
            assert p.client("strategies").get("/strategies/instances").json()["count"] == 0
            started = await client.call_tool("start_strategy_instance", {
                **args, "confirmation_token": out["confirmation_token"]})
            assert not started.is_error, started.structured_content
            instance = started.structured_content or {}
            assert (instance["status"], instance["account"]) == ("running", "paper")
            listed = (await client.call_tool("list_strategy_instances",
                                             {"status": "running"})).structured_content or {}
            assert [i["id"] for i in listed["instances"]] == [instance["id"]]
            unknown = await client.call_tool("start_strategy_instance",
                                             {**args, "strategy": "nope"})
            assert unknown.is_error
            assert ((unknown.structured_content or {})["code"],
                    (unknown.structured_content or {})["status"]) == ("UNKNOWN_STRATEGY", 404)
            missing = await client.call_tool("stop_strategy_instance", {"instance_id": "zz"})
            assert (missing.structured_content or {})["code"] == "UNKNOWN_INSTANCE"
            stopped = await client.call_tool("stop_strategy_instance",
                                             {"instance_id": instance["id"]})
            assert not stopped.is_error, stopped.structured_content
            assert (stopped.structured_content or {})["status"] == "stopped"
            return instance

    instance = asyncio.run(body())
    # the engine holds it, started by the key's principal; REST on :8090 sees it stopped
    seen = p.client("strategies").get(f"/strategies/instances/{instance['id']}").json()
    key_id = json.loads(created.stdout)["id"]
    assert (seen["status"], seen["started_by"]) == ("stopped", f"key:{key_id}")
    assert key not in p.log_tail("strategies", 400) + p.log_tail("trading-engine", 400)
