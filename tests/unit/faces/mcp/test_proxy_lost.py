"""The stdio proxy's answer when an order tool's reply is lost: it names the flat
client_order_id argument so the agent can look the order up before retrying."""

from __future__ import annotations

from typing import Any, cast

from mcp_types import CallToolRequestParams

from mcp_trading.faces.mcp import proxy


def _lost(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    upstream = proxy._Upstream("trading-engine", "http://127.0.0.1:8010/mcp",
                               cast(Any, None))
    result = proxy._lost(CallToolRequestParams(name=name, arguments=arguments), upstream,
                         TimeoutError("read timed out"))
    assert result.is_error
    return result.structured_content or {}


def test_a_lost_submit_names_its_flat_client_order_id() -> None:
    data = _lost("submit_order", {"symbol": "AAPL", "qty": "1", "side": "buy",
                                  "client_order_id": "agent-9"})
    assert data["code"] == "ACK_UNCONFIRMED"
    assert data["client_order_id"] == "agent-9"
    assert "find_order(client_order_id='agent-9')" in data["message"]


def test_a_lost_submit_without_an_id_says_to_list_orders() -> None:
    data = _lost("submit_order", {"symbol": "AAPL", "qty": "1", "side": "buy"})
    assert data["client_order_id"] is None
    assert "list_orders" in data["message"]
