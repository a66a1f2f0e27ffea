"""MCP tools over streamable HTTP (in-process ASGI): auth, preview/confirm/submit, refusals."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx2
from tests.integration.mcp.conftest import (
    BASE,
    ORDER,
    MakeKey,
    call,
    connect,
    mcp_app,
    run,
    tool_map,
)

from mcp_trading.platform.platform import Platform

TRADING = {"preview_order", "submit_order", "cancel_order", "replace_order"}


def test_every_tool_has_an_output_schema_and_resume_is_absent(platform: Platform,
                                                               make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"), make_key("operator")) as client:
            tools = await tool_map(client)
        assert TRADING | {"get_order", "find_order", "list_orders", "get_positions",
                          "get_account", "halt"} <= set(tools)
        assert not any("resume" in name for name in tools)
        assert all(t.output_schema for t in tools.values())
        assert tools["submit_order"].annotations.destructive_hint  # type: ignore[union-attr]
        assert tools["get_account"].annotations.read_only_hint  # type: ignore[union-attr]
        assert tools["cancel_order"].annotations.idempotent_hint  # type: ignore[union-attr]

    run(body())


def test_tools_list_shows_each_role_only_what_it_may_call(platform: Platform,
                                                          make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"), make_key("viewer")) as client:
            viewer = set(await tool_map(client))
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            trader = set(await tool_map(client))
        assert {"get_account", "get_order", "list_orders"} <= viewer
        assert not (TRADING | {"halt"}) & viewer
        assert trader >= TRADING
        assert "halt" not in trader

    run(body())


def test_preview_then_submit_with_the_token_places_an_attributed_order(
        platform: Platform, make_key: MakeKey) -> None:
    async def body() -> None:
        key = make_key("trader", "paper", "agent-smith")
        async with connect(mcp_app(platform, "trading-engine"), key) as client:
            tools = await tool_map(client)
            preview = await call(client, tools, "preview_order", ORDER)
            assert not preview.is_error, preview.structured_content
            data = preview.structured_content or {}
            assert data["would_accept"] is True
            assert Decimal(data["estimated_notional"]) > 0
            submitted = await call(client, tools, "submit_order", {
                **ORDER, "confirmation_token": data["confirmation_token"]})
            assert not submitted.is_error, submitted.structured_content
            order = (submitted.structured_content or {})["order"]
            assert order["client_order_id"] == "agent-1"
            assert order["attribution"].startswith("mcp:key:")
            assert order["attribution"].endswith(":agent-smith")
            # the token is single-use
            again = await call(client, tools, "submit_order", {
                **ORDER, "client_order_id": "agent-2",
                "confirmation_token": data["confirmation_token"]})
            assert again.is_error
            assert (again.structured_content or {})["code"] == "CONFIRMATION_INVALID"

    run(body())


def test_submit_without_a_token_is_refused(platform: Platform, make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            result = await call(client, await tool_map(client), "submit_order", ORDER)
        assert result.is_error
        assert (result.structured_content or {})["code"] == "CONFIRMATION_REQUIRED"
        assert not platform.kernel_runtime.kernel.state.accounts["paper"].by_client_id

    run(body())


def test_a_token_for_other_arguments_is_refused(platform: Platform, make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            tools = await tool_map(client)
            preview = await call(client, tools, "preview_order", ORDER)
            token = (preview.structured_content or {})["confirmation_token"]
            result = await call(client, tools, "submit_order", {
                **ORDER, "qty": "2", "confirmation_token": token})
        assert result.is_error
        assert (result.structured_content or {})["code"] == "CONFIRMATION_INVALID"

    run(body())


def test_a_risk_refusal_is_an_error_result_with_its_code(platform: Platform,
                                                         make_key: MakeKey) -> None:
    platform.kernel_runtime.kernel.set_limits(None, {"max_order_qty": "5"}, actor="test")
    platform.kernel_runtime.journal.flush()

    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            result = await call(client, await tool_map(client), "preview_order",
                                {**ORDER, "qty": "10"})
        assert result.is_error
        data = result.structured_content or {}
        assert data["code"] == "RISK_MAX_ORDER_QTY"
        assert "5" in data["message"]
        assert "confirmation_token" not in data
        assert data["account_id"] == "paper"

    run(body())


def test_halt_is_refused_for_a_trader_and_done_for_an_operator(platform: Platform,
                                                               make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            # hidden from a trader's tools/list, and refused when called anyway
            refused = await call(client, {}, "halt", {"reason": "agent panic"})
        assert refused.is_error
        assert (refused.structured_content or {})["code"] == "FORBIDDEN"
        assert platform.kernel_runtime.kernel.state.platform_state.value == "active"
        async with connect(mcp_app(platform, "trading-engine"), make_key("operator")) as client:
            tools = await tool_map(client)
            done = await call(client, tools, "halt", {"reason": "drill"})
        assert not done.is_error, done.structured_content
        assert (done.structured_content or {})["trading_status"] == "halted"

    run(body())


def test_an_account_bound_key_cannot_act_on_another_account(platform: Platform,
                                                            make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            tools = await tool_map(client)
            preview = await call(client, tools, "preview_order", {
                **ORDER, "account_id": "other"})
            account = await call(client, tools, "get_account", {"account_id": "other"})
        assert preview.is_error
        assert (preview.structured_content or {})["code"] == "FORBIDDEN"
        assert account.is_error
        assert (account.structured_content or {})["code"] == "FORBIDDEN"

    run(body())


def test_read_tools_of_other_services_answer_with_their_schemas(platform: Platform,
                                                                make_key: MakeKey) -> None:
    async def body() -> None:
        key = make_key("operator")
        calls = {"market-data": [("get_quote", {"symbol": "AAPL"}), ("list_symbols", {}),
                                 ("get_quotes", {"symbols": "AAPL"})],
                 "risk": [("risk_status", {}), ("risk_limits", {}), ("risk_exposures", {}),
                          ("check_order", {**ORDER, "account_id": "paper"})],
                 "trading-engine": [("get_positions", {"account_id": "paper"}),
                                    ("get_account", {"account_id": "paper"}),
                                    ("list_orders", {"status": "all"})],
                 "portfolio": [("portfolio_summary", {}), ("portfolio_positions", {}),
                               ("portfolio_performance", {})],
                 "providers": [("list_providers", {})],
                 "alerts": [("list_alerts", {})],
                 "orders": [("list_orders", {})]}
        for service, wanted in calls.items():
            async with connect(mcp_app(platform, service), key) as client:
                tools = await tool_map(client)
                for name, arguments in wanted:
                    result = await call(client, tools, name, arguments)
                    assert not result.is_error, (name, result.structured_content)

    run(body())


def test_without_a_token_mcp_answers_401_with_resource_metadata(platform: Platform) -> None:
    async def body() -> None:
        app = mcp_app(platform, "risk")
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app),
                                      base_url=BASE) as http:
            response = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1,
                                                     "method": "tools/list"})
            assert response.status_code == 401
            challenge = response.headers["www-authenticate"]
            assert "resource_metadata=" in challenge
            metadata = await http.get("/.well-known/oauth-protected-resource/mcp")
            assert metadata.status_code == 200
            assert metadata.json()["resource"] == f"{BASE}/mcp"
            bad = await http.post("/mcp", headers={"Authorization": "Bearer mcpt_nope"},
                                  json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            assert bad.status_code == 401

    run(body())


def test_list_accounts_is_scoped_to_the_callers_account(platform: Platform,
                                                        make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            tools = await tool_map(client)
            mine = await call(client, tools, "list_accounts", {})
        async with connect(mcp_app(platform, "trading-engine"), make_key("operator")) as client:
            tools = await tool_map(client)
            every = await call(client, tools, "list_accounts", {})
        assert tools["list_accounts"].annotations.read_only_hint  # type: ignore[union-attr]
        assert [a["id"] for a in (mine.structured_content or {})["accounts"]] == ["paper"]
        assert [a["id"] for a in (every.structured_content or {})["accounts"]] == ["other",
                                                                                    "paper"]

    run(body())


def test_list_alerts_is_scoped_and_masks_other_key_ids(platform: Platform,
                                                       make_key: MakeKey) -> None:
    platform.alerts.raise_alert("health", "health check failing: disk")
    platform.alerts.raise_alert("limit_breach", "other halted", account_id="other")
    platform.alerts.raise_alert("halt", "halt:halted by key:OperatorKey1: drill")

    async def body() -> None:
        async with connect(mcp_app(platform, "alerts"), make_key("trader", "paper")) as client:
            tools = await tool_map(client)
            result = await call(client, tools, "list_alerts", {})
        alerts = (result.structured_content or {})["alerts"]
        assert [a["kind"] for a in alerts] == ["halt"]
        assert "OperatorKey1" not in alerts[0]["message"]

    run(body())


ORDER_TOOLS = {"trading-engine": ("preview_order", "submit_order"), "risk": ("check_order",)}
ORDER_FIELDS = {"symbol", "qty", "side", "type", "time_in_force", "limit_price", "stop_price",
                "trail_price", "trail_percent", "client_order_id", "extended_hours",
                "account_id"}


def test_order_tools_take_flat_described_top_level_arguments(platform: Platform,
                                                             make_key: MakeKey) -> None:
    async def body() -> None:
        for service, names in ORDER_TOOLS.items():
            async with connect(mcp_app(platform, service), make_key("operator")) as client:
                tools = await tool_map(client)
            for name in names:
                schema = tools[name].input_schema
                text = json.dumps(schema)
                assert "$ref" not in text and "$defs" not in text, name
                props = schema["properties"]
                extra = {"confirmation_token"} if name == "submit_order" else set()
                assert set(props) == ORDER_FIELDS | extra, name
                assert set(schema["required"]) == {"symbol", "qty", "side"}, name
                for field, spec in props.items():
                    assert spec.get("type") != "object", (name, field)
                    assert len(spec.get("description", "")) > 10, (name, field)
                assert props["side"]["enum"] == ["buy", "sell"]
                assert {"type": "number"} in props["qty"]["anyOf"]
                assert {"type": "string"} in props["qty"]["anyOf"]

    run(body())


def test_an_unknown_order_argument_is_refused_naming_it(platform: Platform,
                                                        make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper", confirm_orders=False)) as client:
            tools = await tool_map(client)
            for name in ("preview_order", "submit_order"):
                result = await call(client, tools, name, {**ORDER, "limit_prise": "99"})
                assert result.is_error
                data = result.structured_content or {}
                assert (data["code"], data["field"]) == ("INVALID_ORDER", "limit_prise")
                assert "limit_price" in data["message"]  # the allowed arguments are listed
            # the old nested form is refused too, not silently read as an empty order
            nested = await call(client, tools, "preview_order", {"order": ORDER})
            assert nested.is_error
        assert not platform.kernel_runtime.kernel.state.accounts["paper"].by_client_id

    run(body())


def test_numbers_or_strings_in_decimals_out(platform: Platform, make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper", confirm_orders=False)) as client:
            tools = await tool_map(client)
            placed = await call(client, tools, "submit_order", {
                **ORDER, "qty": 3, "type": "limit", "limit_price": 99.5,
                "client_order_id": "flat-num"})
            assert not placed.is_error, placed.structured_content
            order = (placed.structured_content or {})["order"]
            assert (order["qty"], order["limit_price"]) == ("3", "99.5")
            bad = await call(client, tools, "submit_order", {**ORDER, "qty": "1e400"})
            assert bad.is_error
            assert (bad.structured_content or {})["field"] == "qty"

    run(body())


def test_preview_of_a_retry_answers_with_the_order_submit_returns(platform: Platform,
                                                                  make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper", confirm_orders=False)) as client:
            tools = await tool_map(client)
            order = {**ORDER, "type": "limit", "limit_price": "90", "client_order_id": "again"}
            placed = await call(client, tools, "submit_order", order)
            first = (placed.structured_content or {})["order"]
            preview = await call(client, tools, "preview_order", order)
            assert not preview.is_error, preview.structured_content
            data = preview.structured_content or {}
            assert data["would_accept"] is True
            assert data["idempotent_retry"]["order_id"] == first["id"]
            again = await call(client, tools, "submit_order", order)
            assert (again.structured_content or {})["order"]["id"] == first["id"]
            conflict = await call(client, tools, "preview_order", {**order, "qty": "2"})
            assert (conflict.structured_content or {})["code"] == "DUPLICATE_CLIENT_ORDER_ID"

    run(body())
