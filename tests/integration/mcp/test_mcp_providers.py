"""providers' MCP tools: list_providers for viewers; enable_provider and disable_provider for
operators, with the same rules as REST (unknown 404, the last live provider 409)."""

from __future__ import annotations

from tests.integration.mcp.conftest import MakeKey, call, connect, mcp_app, run, tool_map

from mcp_trading.adapters.providers.base import Provider
from mcp_trading.platform.platform import Platform
from mcp_trading.services.providers.service import ProvidersService

SWITCHES = {"enable_provider", "disable_provider"}


class Standby(Provider):
    kind = "replay"
    name = "standby"


def test_viewers_see_the_list_only(platform: Platform, make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "providers"), make_key("viewer")) as client:
            tools = await tool_map(client)
            assert "list_providers" in tools and not SWITCHES & set(tools)
            listed = await call(client, tools, "list_providers", {})
            [sim] = (listed.structured_content or {})["providers"]
            assert (sim["circuit"], sim["serves"]) == ("closed", ["quotes"])
        async with connect(mcp_app(platform, "providers"), make_key("operator")) as client:
            tools = await tool_map(client)
            assert set(tools) >= SWITCHES
            assert not tools["disable_provider"].annotations.read_only_hint  # type: ignore[union-attr]

    run(body())


def test_operators_switch_providers_under_the_rest_rules(platform: Platform,
                                                         make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "providers"), make_key("operator")) as client:
            tools = await tool_map(client)
            last = await call(client, tools, "disable_provider", {"name": "simulator"})
            assert last.is_error
            assert (last.structured_content or {})["code"] == "LAST_LIVE_PROVIDER"
            unknown = await call(client, tools, "enable_provider", {"name": "nope"})
            assert (unknown.structured_content or {})["code"] == "UNKNOWN_PROVIDER"

            ProvidersService.for_platform(platform).registry.register(Standby())
            off = await call(client, tools, "disable_provider", {"name": "simulator"})
            assert not off.is_error, off.structured_content
            assert (off.structured_content or {})["active_providers"] == ["standby"]
            on = await call(client, tools, "enable_provider", {"name": "simulator"})
            assert (on.structured_content or {})["changed"] is True

    run(body())


def test_fetch_history_and_the_replay_tools_are_for_operators(platform: Platform,
                                                              make_key: MakeKey) -> None:
    new = {"fetch_history", "replay_status", "replay_control"}

    async def body() -> None:
        async with connect(mcp_app(platform, "providers"), make_key("viewer")) as client:
            assert not new & set(await tool_map(client))
        async with connect(mcp_app(platform, "providers"), make_key("operator")) as client:
            tools = await tool_map(client)
            assert set(tools) >= new
            # no provider configured for daily bars: 409, saying what to set
            fetched = await call(client, tools, "fetch_history", {"symbol": "AAPL"})
            assert fetched.is_error
            content = fetched.structured_content or {}
            assert content["code"] == "NO_PROVIDER"
            assert "MCP_TRADING_ALPHAVANTAGE_API_KEY" in content["message"]
            bad = await call(client, tools, "fetch_history", {"symbol": "AAPL",
                                                              "timeframe": "2Day"})
            assert (bad.structured_content or {})["field"] == "timeframe"
            # the feed is the simulator: replay control says how to start a replay
            status = await call(client, tools, "replay_status", {})
            assert (status.structured_content or {})["code"] == "NOT_A_REPLAY"
            step = await call(client, tools, "replay_control", {"action": "step", "n": 1})
            assert "MCP_TRADING_FEED=replay" in (step.structured_content or {})["message"]

    run(body())
