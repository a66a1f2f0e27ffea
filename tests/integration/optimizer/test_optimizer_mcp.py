"""The optimizer over MCP (streamable HTTP, real API keys): list_methods, optimize and
frontier on the sample history, a refusal as an error result with its code, and a
rebalance preview then confirm with the preview's token; a viewer sees no rebalance tools."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from tests.integration.mcp.conftest import CHEAP, call, connect, mcp_app, run, tool_map
from tests.integration.optimizer.conftest import feed_quotes

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.authenticator import Authenticator
from mcp_trading.security.keys import KeyStore
from mcp_trading.security.principal import Role
from mcp_trading.security.tokens import TokenIssuer
from mcp_trading.services.optimizer.service import OptimizerService

SAMPLE = {"symbols": ["AAPL", "MSFT", "GOOGL"], "start": "2008-01-01", "end": "2012-12-31"}


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
        OptimizerService.for_platform(plat).close()
        keys.close()
        if plat.runtime is not None:
            plat.runtime.close()


def _key(keys: KeyStore, role: str) -> str:
    return keys.create(Role.parse(role), None, f"{role}-agent", all_accounts=True)[1]


def test_a_viewer_optimises_and_reads_but_sees_no_rebalance(
        keyed: tuple[Platform, KeyStore]) -> None:
    platform, keys = keyed

    async def body() -> None:
        async with connect(mcp_app(platform, "optimizer"), _key(keys, "viewer")) as client:
            tools = await tool_map(client)
            assert {"list_methods", "optimize", "frontier", "evaluate"} <= set(tools)
            assert not {"rebalance_preview", "rebalance_confirm"} & set(tools)
            assert all(t.output_schema for t in tools.values())
            listed = (await call(client, tools, "list_methods", {})).structured_content or {}
            assert "hrp" in {m["name"] for m in listed["methods"]}
            result = await call(client, tools, "optimize", {**SAMPLE, "method": "hrp"})
            data = result.structured_content or {}
            assert not result.is_error and sum(Decimal(w) for w in data["weights"].values()) == 1
            curve = await call(client, tools, "frontier", {**SAMPLE, "points": 4})
            assert len((curve.structured_content or {})["points"]) == 4
            walked = await call(client, tools, "evaluate", {
                **SAMPLE, "methods": ["min_volatility", "equal_weight"], "window": 126,
                "rebalance_every": 63})
            results = (walked.structured_content or {})["results"]
            assert [r["method"] for r in results] == ["min_volatility", "equal_weight"]
            refused = await call(client, tools, "optimize", {**SAMPLE, "method": "magic"})
            assert refused.is_error
            assert (refused.structured_content or {})["field"] == "method"

    run(body())


def test_a_trader_previews_then_confirms_with_the_token(
        keyed: tuple[Platform, KeyStore]) -> None:
    platform, keys = keyed
    feed_quotes(platform, AAPL="150.00", MSFT="30.00", GOOGL="120.00")

    async def body() -> None:
        async with connect(mcp_app(platform, "optimizer"), _key(keys, "trader")) as client:
            tools = await tool_map(client)
            preview = await call(client, tools, "rebalance_preview",
                                 {"optimize": {**SAMPLE, "method": "min_volatility"}})
            data = preview.structured_content or {}
            assert not preview.is_error and data["would_accept_all"], data
            assert data["attribution"] == f"optimizer:{data['run_id']}"
            wrong = await call(client, tools, "rebalance_confirm",
                               {"preview_id": data["preview_id"],
                                "confirmation_token": "rbl_wrong-token-here"})
            assert wrong.is_error
            assert (wrong.structured_content or {})["code"] == "CONFIRMATION_MISMATCH"
            done = await call(client, tools, "rebalance_confirm",
                              {"preview_id": data["preview_id"],
                               "confirmation_token": data["confirmation_token"]})
            placed = done.structured_content or {}
            assert not done.is_error and placed["status"] == "placed", placed
            assert placed["placed"] == len(data["orders"])

    run(body())
    orders = platform.kernel_runtime.kernel.state.orders.values()
    assert orders and all(o.attribution and o.attribution.startswith("optimizer:")
                          for o in orders)
