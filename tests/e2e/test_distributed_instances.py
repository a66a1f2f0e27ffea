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
