"""MCP order tools beyond submit: cancel, replace, the key's confirmation policy and a lost
acknowledgement. Every result is checked against the tool's output schema."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.integration.mcp.conftest import ORDER, MakeKey, call, connect, mcp_app, run, tool_map

from mcp_trading.platform.platform import Platform, PlatformUnavailableError

RESTING = {**ORDER, "type": "limit", "limit_price": "90.00", "time_in_force": "gtc",
           "client_order_id": "rest-1"}


async def _place(client: Any, tools: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    preview = await call(client, tools, "preview_order", order)
    assert not preview.is_error, preview.structured_content
    token = (preview.structured_content or {})["confirmation_token"]
    placed = await call(client, tools, "submit_order", {**order,
                                                        "confirmation_token": token})
    assert not placed.is_error, placed.structured_content
    result: dict[str, Any] = (placed.structured_content or {})["order"]
    return result


def test_cancel_and_replace_a_resting_order_are_attributed_to_the_agent(
        platform: Platform, make_key: MakeKey) -> None:
    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper", "agent-k")) as client:
            tools = await tool_map(client)
            resting = await _place(client, tools, RESTING)
            assert resting["status"] in {"new", "accepted"}
            replaced = await call(client, tools, "replace_order", {
                "order_id": resting["id"], "limit_price": "91.00", "qty": "2",
                "client_order_id": "rest-2"})
            assert not replaced.is_error, replaced.structured_content
            new = replaced.structured_content or {}
            assert new["replaces"] == resting["id"]
            assert Decimal(new["limit_price"]) == Decimal("91.00")
            assert new["attribution"].startswith("mcp:key:")
            assert new["attribution"].endswith(":agent-k")
            old = await call(client, tools, "get_order", {"order_id": resting["id"]})
            assert (old.structured_content or {})["status"] == "replaced"
            canceled = await call(client, tools, "cancel_order", {"order_id": new["id"]})
            assert not canceled.is_error, canceled.structured_content
            assert (canceled.structured_content or {})["status"] == "canceled"
            again = await call(client, tools, "cancel_order", {"order_id": new["id"]})
            assert again.is_error  # a finished order cannot be canceled: code and reason
            assert "canceled" in (again.structured_content or {})["message"]

    run(body())


def test_a_key_without_the_confirmation_policy_submits_directly(platform: Platform,
                                                                  make_key: MakeKey) -> None:
    async def body() -> None:
        key = make_key("trader", "paper", "desk-bot", confirm_orders=False)
        async with connect(mcp_app(platform, "trading-engine"), key) as client:
            tools = await tool_map(client)
            placed = await call(client, tools, "submit_order", ORDER)
        assert not placed.is_error, placed.structured_content
        assert (placed.structured_content or {})["order"]["client_order_id"] == "agent-1"

    run(body())


def test_a_lost_acknowledgement_tells_the_agent_to_look_up_its_client_order_id(
        platform: Platform, make_key: MakeKey, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_ack(timeout: float = 5.0) -> None:
        raise PlatformUnavailableError(f"the journal did not confirm within {timeout} s")

    async def body() -> None:
        async with connect(mcp_app(platform, "trading-engine"),
                           make_key("trader", "paper")) as client:
            tools = await tool_map(client)
            preview = await call(client, tools, "preview_order", ORDER)
            token = (preview.structured_content or {})["confirmation_token"]
            monkeypatch.setattr(platform, "durable", no_ack)
            lost = await call(client, tools, "submit_order", {**ORDER,
                                                              "confirmation_token": token})
            monkeypatch.undo()
            data = lost.structured_content or {}
            assert lost.is_error
            assert data["code"] == "ACK_UNCONFIRMED"
            assert "find_order(client_order_id='agent-1')" in data["message"]
            assert "same client_order_id" in data["message"]
            found = await call(client, tools, "find_order", {"client_order_id": "agent-1"})
            assert not found.is_error  # the order may exist, and here it does
            assert (found.structured_content or {})["client_order_id"] == "agent-1"

    run(body())
