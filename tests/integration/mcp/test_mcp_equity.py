"""get_equity_history on the portfolio MCP server: the journaled end-of-day series and the
intraday samples, scoped to the key's account, with its output schema; bad arguments are
error results naming the field."""

from __future__ import annotations

import asyncio

from mcp_trading.platform.platform import Platform
from mcp_trading.services.portfolio.sampler import EquitySampler

from .conftest import MakeKey, call, connect, mcp_app, run, tool_map


def test_the_equity_history_tool_is_scoped_and_read_only(platform: Platform,
                                                         make_key: MakeKey) -> None:
    kernel = platform.kernel_runtime.kernel
    kernel.snapshot_equity(reason="manual", actor="test")
    platform.kernel_runtime.journal.flush()
    asyncio.run(EquitySampler(platform).sample())

    async def body() -> None:
        async with connect(mcp_app(platform, "portfolio"), make_key("viewer", "paper")) as client:
            tools = await tool_map(client)
            assert tools["get_equity_history"].annotations.read_only_hint  # type: ignore[union-attr]
            daily = (await call(client, tools, "get_equity_history", {})).structured_content
            intraday = (await call(client, tools, "get_equity_history",
                                   {"interval": "intraday", "since": "1h"})).structured_content
            other = await call(client, tools, "get_equity_history", {"account_id": "other"})
            bad = await call(client, tools, "get_equity_history", {"interval": "hourly"})
            since = await call(client, tools, "get_equity_history", {"since": "soon"})
        assert daily is not None and intraday is not None
        ((paper,),) = [a["points"] for a in daily["accounts"]]
        assert paper["equity"] == str(kernel.state.accounts["paper"].equity)
        assert paper["reason"] == "manual"
        assert [a["account_id"] for a in intraday["accounts"]] == ["paper"]
        assert len(intraday["accounts"][0]["points"]) == 1
        assert other.is_error and (other.structured_content or {})["code"] == "FORBIDDEN"
        assert bad.is_error and "interval" in (bad.structured_content or {})["message"]
        assert since.is_error and "since" in (since.structured_content or {})["message"]

    run(body())
