"""trading-strategies over MCP (streamable HTTP, real API keys): list_strategies, run_backtest
(the summary when done in time, else the id to poll), get_backtest, compare_backtests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from tests.integration.mcp.conftest import CHEAP, call, connect, mcp_app, run, tool_map

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.authenticator import Authenticator
from mcp_trading.security.keys import KeyStore
from mcp_trading.security.principal import Role
from mcp_trading.security.tokens import TokenIssuer
from mcp_trading.services.strategies.service import StrategiesService

RUN = {"strategy": "sma_crossover", "symbols": ["AAPL"], "start": "2004-01-01",
       "end": "2008-12-31"}


@pytest.fixture
def keyed(settings: Settings, sample_history: MemoryHistoryStore
          ) -> Iterator[tuple[Platform, KeyStore]]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = KeyStore(create_store_engine(settings.resolved_database_url), hasher=CHEAP)
    plat = bootstrap(settings, history=sample_history, authenticator=Authenticator(
        keys, TokenIssuer(settings.jwt_secret), "dev"))
    plat.open()
    plat.accepting = True
    try:
        yield plat, keys
    finally:
        StrategiesService.for_platform(plat).close()
        keys.close()
        if plat.runtime is not None:
            plat.runtime.close()


def _key(keys: KeyStore, role: str) -> str:
    return keys.create(Role.parse(role), None, f"{role}-agent", all_accounts=True)[1]


def test_a_viewer_lists_strategies_but_may_not_run(keyed: tuple[Platform, KeyStore]) -> None:
    platform, keys = keyed

    async def body() -> None:
        async with connect(mcp_app(platform, "strategies"), _key(keys, "viewer")) as client:
            tools = await tool_map(client)
            assert {"list_strategies", "get_backtest", "compare_backtests"} <= set(tools)
            assert "run_backtest" not in tools  # tools/list hides what the role may not call
            assert all(t.output_schema for t in tools.values())
            listed = await call(client, tools, "list_strategies", {})
            names = {s["name"] for s in (listed.structured_content or {})["strategies"]}
            assert {"sma_crossover", "buy_and_hold", "slow"} <= names
            refused = await client.call_tool("run_backtest", RUN)
            assert refused.is_error
            assert (refused.structured_content or {})["status"] == 403

    run(body())


def test_run_get_and_compare_backtests(keyed: tuple[Platform, KeyStore]) -> None:
    platform, keys = keyed

    async def body() -> None:
        async with connect(mcp_app(platform, "strategies"), _key(keys, "trader")) as client:
            tools = await tool_map(client)
            first = await call(client, tools, "run_backtest", RUN)
            assert not first.is_error, first.structured_content
            a: dict[str, Any] = first.structured_content or {}
            assert a["status"] == "done" and a["summary"]
            second = await call(client, tools, "run_backtest",
                                {**RUN, "params": {"fast": 20, "slow": 50}, "cash": "50000"})
            b: dict[str, Any] = second.structured_content or {}
            got = await call(client, tools, "get_backtest", {"backtest_id": a["id"]})
            record = got.structured_content or {}
            assert record["status"] == "done" and record["metrics"]["trades"] > 0
            compared = await call(client, tools, "compare_backtests",
                                  {"backtest_ids": [a["id"], b["id"]]})
            assert (compared.structured_content or {})["ids"] == [a["id"], b["id"]]
            bad = await call(client, tools, "run_backtest", {**RUN, "params": {"fast": 0}})
            assert bad.is_error
            assert (bad.structured_content or {})["field"] == "params.fast"
            unknown = await call(client, tools, "get_backtest", {"backtest_id": "ffff"})
            assert unknown.is_error and (unknown.structured_content or {})["status"] == 404

    run(body())


def test_a_long_run_answers_its_id_to_poll(keyed: tuple[Platform, KeyStore]) -> None:
    platform, keys = keyed

    async def body() -> None:
        async with connect(mcp_app(platform, "strategies"), _key(keys, "trader")) as client:
            tools = await tool_map(client)
            started = await call(client, tools, "run_backtest", {
                "strategy": "slow", "symbols": ["AAPL"], "start": "2005-01-01",
                "end": "2005-12-31", "params": {"sleep_ms": 4}, "wait_s": 0})
            job: dict[str, Any] = started.structured_content or {}
            assert job["status"] in ("queued", "running") and "summary" not in job
            for _ in range(600):
                polled = await call(client, tools, "get_backtest", {"backtest_id": job["id"]})
                state = (polled.structured_content or {})["status"]
                if state not in ("queued", "running"):
                    break
                await asyncio.sleep(0.1)
            assert state == "done"

    run(body())
