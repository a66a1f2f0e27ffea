"""orders tools: read one order (by id or client_order_id) and list orders (all read-only)."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp_types import CallToolResult

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.mcp.models import OrderListOut, OrderOut
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.orders.service import OrdersService
from mcp_trading.services.trading_engine.service import TradingService

__all__ = ["register"]


def register(server: MCPServer, platform: Platform) -> None:
    """get_order, find_order and list_orders (the trading engine serves them too)."""
    trading = TradingService(platform.core)
    orders = OrdersService(platform.core)

    @server.tool(annotations=READ_ONLY)
    async def get_order(order_id: str) -> Annotated[CallToolResult, OrderOut]:
        """One order by its id."""
        return await guarded(lambda: trading.get_order(current_principal(), order_id))

    @server.tool(annotations=READ_ONLY)
    async def find_order(client_order_id: str, account_id: str | None = None
                         ) -> Annotated[CallToolResult, OrderOut]:
        """One order by your client_order_id (use it after a submit timed out)."""
        return await guarded(lambda: trading.get_order_by_client_id(
            current_principal(), client_order_id, account_id))

    @server.tool(annotations=READ_ONLY)
    async def list_orders(status: str | None = None, symbol: str | None = None,
                          account_id: str | None = None, limit: int = 50,
                          cursor: str | None = None) -> Annotated[CallToolResult, OrderListOut]:
        """Orders newest first; status is open, closed, all or a comma list of statuses."""
        return await guarded(lambda: orders.list_orders(
            current_principal(), status=status, symbol=symbol, account_id=account_id,
            limit=limit, cursor=cursor))
