"""MCP resources and prompts, and the market-data and portfolio tools agents read context from."""

from __future__ import annotations

import json

import pytest
from mcp.shared.exceptions import MCPError
from tests.integration.mcp.conftest import MakeKey, call, connect, mcp_app, run, tool_map

from mcp_trading.platform.platform import Platform


def test_account_resources_are_readable_only_for_the_keys_account(platform: Platform,
                                                                    make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            templates = {t.uri_template for t in
                         (await client.list_resource_templates()).resource_templates}
            assert {"trading://accounts/{account_id}/summary",
                    "trading://accounts/{account_id}/open-orders"} <= templates
            read = await client.read_resource("trading://accounts/paper/summary")
            summary = json.loads(read.contents[0].text)  # type: ignore[union-attr]
            assert summary["id"] == "paper"
            assert read.contents[0].mime_type == "application/json"
            orders = await client.read_resource("trading://accounts/paper/open-orders")
            assert json.loads(orders.contents[0].text)["orders"] == []  # type: ignore[union-attr]
            with pytest.raises(MCPError, match="FORBIDDEN"):
                await client.read_resource("trading://accounts/other/summary")

    run(body())


def test_the_quote_resource_serves_the_latest_quote(platform: Platform,
                                                    make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "market-data"), make_key("viewer")) as client:
            read = await client.read_resource("market://quotes/AAPL")
            quote = json.loads(read.contents[0].text)  # type: ignore[union-attr]
            assert quote["symbol"] == "AAPL"
            assert quote["bid"] == "100.00" and quote["ask"] == "100.02"
            with pytest.raises(MCPError, match="UNKNOWN_SYMBOL"):
                await client.read_resource("market://quotes/NOPE")

    run(body())


def test_prompts_name_the_platforms_own_tools(platform: Platform, make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"), make_key("viewer")) as client:
            names = {p.name for p in (await client.list_prompts()).prompts}
            assert "pre_trade_checklist" in names
            got = await client.get_prompt("pre_trade_checklist",
                                          {"symbol": "AAPL", "side": "buy", "qty": "10"})
            text = got.messages[0].content.text  # type: ignore[union-attr]
            assert "buy 10 AAPL" in text
            for tool in ("preview_order", "submit_order", "find_order", "risk_status"):
                assert tool in text
        async with connect(mcp_app(platform, "portfolio"), make_key("viewer")) as client:
            got = await client.get_prompt("daily_briefing", {"account_id": "paper"})
            text = got.messages[0].content.text  # type: ignore[union-attr]
            assert "portfolio_performance" in text and "account paper" in text

    run(body())


def test_bars_clock_and_performance_answer_with_their_schemas(platform: Platform,
                                                              make_key: MakeKey) -> None:
    async def body() -> None:
        key = make_key("trader", "paper")
        async with connect(mcp_app(platform, "market-data"), key) as client:
            tools = await tool_map(client)
            clock = await call(client, tools, "market_clock", {})
            assert not clock.is_error, clock.structured_content
            assert (clock.structured_content or {})["is_open"] is True  # always-open calendar
            bars = await call(client, tools, "get_bars", {"symbol": "AAPL", "limit": 5})
            assert not bars.is_error, bars.structured_content
            bad = await call(client, tools, "get_bars", {"symbol": "AAPL", "timeframe": "7y"})
            assert bad.is_error
            assert "timeframe" in (bad.structured_content or {})["message"]
        async with connect(mcp_app(platform, "portfolio"), key) as client:
            tools = await tool_map(client)
            perf = await call(client, tools, "portfolio_performance", {})
            assert not perf.is_error, perf.structured_content
            (row,) = (perf.structured_content or {})["accounts"]
            assert row["account_id"] == "paper"
            assert row["return_since_start_pct"] == "0.0000"
            assert row["drawdown_from_peak_pct"] == "0.0000"

    run(body())
