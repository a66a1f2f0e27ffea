"""`mcp-trading mcp` (no --embedded) against a started platform: stdio in, streamable HTTP out."""

from __future__ import annotations

import asyncio
import json
import sys

import jsonschema
from mcp import Client, StdioServerParameters
from tests.e2e.harness import ROOT, RunningPlatform

ORDER = {"symbol": "SPY", "qty": "1", "side": "buy", "type": "market",
         "client_order_id": "proxy-1"}


def test_stdio_forwards_every_service_to_the_running_platform(running: RunningPlatform) -> None:
    created = running.cli("keys", "create", "--role", "trader", "--account", "paper",
                          "--name", "desk-agent", "--json", check=True)
    key = json.loads(created.stdout)["key"]
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_trading", "mcp"],
                                   env={**running.env, "MCP_TRADING_API_KEY": key},
                                   cwd=str(ROOT))

    async def body() -> None:
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            # the services' tools, filtered for a trader: no operator halt
            assert {"get_quote", "preview_order", "submit_order", "risk_status",
                    "portfolio_performance", "list_alerts", "list_providers"} <= set(tools)
            assert "halt" not in tools

            preview = await client.call_tool("preview_order", ORDER)
            assert not preview.is_error, preview.structured_content
            token = (preview.structured_content or {})["confirmation_token"]
            placed = await client.call_tool("submit_order", {**ORDER,
                                                             "confirmation_token": token})
            assert not placed.is_error, placed.structured_content
            jsonschema.validate(placed.structured_content, tools["submit_order"].output_schema)
            order = (placed.structured_content or {})["order"]
            assert order["attribution"].endswith(":desk-agent")

            refused = await client.call_tool("preview_order", {
                **ORDER, "qty": "100000", "client_order_id": "proxy-2"})
            assert refused.is_error  # a risk refusal comes back as data, with its code
            assert (refused.structured_content or {})["code"].startswith("RISK_")

            summary = await client.read_resource("trading://accounts/paper/summary")
            assert json.loads(summary.contents[0].text)["id"] == "paper"  # type: ignore[union-attr]
            quote = await client.read_resource("market://quotes/SPY")
            assert json.loads(quote.contents[0].text)["symbol"] == "SPY"  # type: ignore[union-attr]
            briefing = await client.get_prompt("daily_briefing", {})
            assert "portfolio_summary" in briefing.messages[0].content.text  # type: ignore[union-attr]

    asyncio.run(body())
    # the order really is on the platform, seen over REST by the same key
    seen = running.client("orders", key).get("/orders", params={"status": "all"})
    assert any(o["client_order_id"] == "proxy-1" for o in seen.json()["orders"])
