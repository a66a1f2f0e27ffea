"""The market-data MCP tools over stored history: get_bars (paged) and list_history."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from tests.integration.mcp.conftest import MakeKey, call, connect, mcp_app, run, tool_map
from tests.integration.platform.test_market_data_history import seed

from mcp_trading.platform.platform import Platform

ROWS = list(csv.DictReader(
    (Path(__file__).parents[1] / "platform" / "data" / "aapl-2010.csv").open()))


def test_get_bars_pages_through_stored_history(platform: Platform, make_key: MakeKey) -> None:
    seed(platform.history.store(), "AAPL", "sample", ROWS)

    async def body() -> None:
        async with connect(mcp_app(platform, "market-data"), make_key("viewer")) as client:
            tools = await tool_map(client)
            args: dict[str, Any] = {"symbol": "AAPL", "timeframe": "1Day",
                                    "start": "2010-01-01", "end": "2010-12-31", "limit": 100}
            closes: list[str] = []
            while True:
                result = await call(client, tools, "get_bars", args)
                assert not result.is_error, result.structured_content
                data = result.structured_content
                assert data is not None
                assert (data["source"], data["adjustment"]) == ("sample", "raw")
                closes += [b["c"] for b in data["bars"]]
                if data["next_page_token"] is None:
                    break
                args["page_token"] = data["next_page_token"]
            assert closes == [r["Close"] for r in ROWS]

            adjusted = await call(client, tools, "get_bars", {
                "symbol": "AAPL", "timeframe": "1Day", "start": "2010-01-04",
                "end": "2010-01-04", "adjustment": "all"})
            assert adjusted.structured_content is not None
            assert adjusted.structured_content["bars"][0]["c"] == "27.503267796595"

            refused = await call(client, tools, "get_bars", {**args, "end": "2010-06-30"})
            assert refused.is_error
            assert refused.structured_content is not None
            assert refused.structured_content["field"] == "page_token"

            listed = await call(client, tools, "list_history", {})
            assert listed.structured_content == {"series": [
                {"symbol": "AAPL", "source": "sample", "timeframe": "1Day",
                 "first": "2010-01-04T05:00:00.000000Z", "last": "2010-12-31T05:00:00.000000Z",
                 "bars": 252}]}

    run(body())


def test_get_bars_without_history_answers_the_live_feeds_bars(platform: Platform,
                                                              make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "market-data"), make_key("viewer")) as client:
            tools = await tool_map(client)
            result = await call(client, tools, "get_bars", {"symbol": "AAPL"})
            assert result.structured_content is not None
            assert result.structured_content["source"] == "simulator"
            assert (await call(client, tools, "list_history", {})).structured_content == {
                "series": []}

    run(body())
