"""MCP resources: what an agent reads for context rather than calls to act.

    trading://accounts/{account_id}/summary      the account: cash, equity, P&L, state, limits
    trading://accounts/{account_id}/open-orders  its working orders, newest first
    market://quotes/{symbol}                     a symbol's latest quote

Resources are JSON documents served by the same service functions as the tools, under the
same rules: a key bound to one account can read only that account. A refusal is a resource
error carrying the reason code and message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from mcp.server import MCPServer

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.mcp.results import resource_error
from mcp_trading.platform.platform import Platform
from mcp_trading.services.market_data.service import MarketDataService
from mcp_trading.services.orders.service import OrdersService
from mcp_trading.services.trading_engine.service import TradingService

__all__ = ["register_account_resources", "register_quote_resource"]

_JSON = "application/json"


def _document(read: Callable[[], Mapping[str, Any]]) -> str:
    """The JSON text of a service read; a known refusal becomes a resource error."""
    try:
        data = read()
    except Exception as exc:
        error = resource_error(exc)
        if error is None:
            raise
        raise error from None
    return json.dumps(data, default=str)


def register_account_resources(server: MCPServer, platform: Platform) -> None:
    trading = TradingService(platform.core)
    orders = OrdersService(platform.core)

    @server.resource("trading://accounts/{account_id}/summary", mime_type=_JSON,
                     title="Account summary")
    def account_summary(account_id: str) -> str:
        """Cash, equity, buying power, P&L, trading state and limits of the account."""
        return _document(lambda: trading.account(current_principal(), account_id))

    @server.resource("trading://accounts/{account_id}/open-orders", mime_type=_JSON,
                     title="Open orders")
    def open_orders(account_id: str) -> str:
        """The account's working orders, newest first (at most 500)."""
        return _document(lambda: orders.list_orders(current_principal(), status="open",
                                                    account_id=account_id, limit=500))


def register_quote_resource(server: MCPServer, platform: Platform) -> None:
    market = MarketDataService.for_platform(platform)

    @server.resource("market://quotes/{symbol}", mime_type=_JSON, title="Latest quote")
    def quote(symbol: str) -> str:
        """The symbol's latest quote: bid, ask, sizes, last and time."""
        return _document(lambda: market.quote(current_principal(), symbol))
