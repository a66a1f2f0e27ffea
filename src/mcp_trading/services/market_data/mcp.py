"""market-data tools: quotes, bars, symbols, the market clock (all read-only)."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.mcp.models import BarsOut, ClockOut, QuoteOut, QuotesOut, SymbolsOut
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.services.market_data.service import MarketDataService

__all__ = ["READ_ONLY", "register"]

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)


def register(server: MCPServer, platform: Platform) -> None:
    svc = MarketDataService.for_platform(platform)

    @server.tool(annotations=READ_ONLY)
    async def get_quote(symbol: str) -> Annotated[CallToolResult, QuoteOut]:
        """The latest quote of one symbol (bid, ask, sizes, last, time)."""
        return await guarded(lambda: svc.quote(current_principal(), symbol))

    @server.tool(annotations=READ_ONLY)
    async def get_quotes(symbols: str | None = None) -> Annotated[CallToolResult, QuotesOut]:
        """Latest quotes of comma-separated symbols (every symbol when omitted)."""
        return await guarded(lambda: svc.quotes(current_principal(), symbols))

    @server.tool(annotations=READ_ONLY)
    async def get_bars(symbol: str, timeframe: str | None = None, start: str | None = None,
                       end: str | None = None, limit: int | None = None
                       ) -> Annotated[CallToolResult, BarsOut]:
        """Completed bars, ascending: from `start`, else the latest up to `end` (volume is null)."""
        return await guarded(lambda: svc.history(
            current_principal(), symbol, timeframe=timeframe, start=start, end=end,
            limit=None if limit is None else str(limit)))

    @server.tool(annotations=READ_ONLY)
    async def list_symbols() -> Annotated[CallToolResult, SymbolsOut]:
        """Tradable instruments with their tick size, lot size and quantity bounds."""
        return await guarded(lambda: {"symbols": svc.symbols(current_principal())})

    @server.tool(annotations=READ_ONLY)
    async def market_clock() -> Annotated[CallToolResult, ClockOut]:
        """Whether the market is open now, this session, and the next open and close."""
        return await guarded(lambda: svc.market_clock(current_principal()))
