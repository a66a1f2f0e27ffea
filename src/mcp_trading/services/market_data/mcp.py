"""market-data tools: quotes, bars, symbols, the market clock (all read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.mcp.models import (
    BarsOut,
    ClockOut,
    HistoryOut,
    QuoteOut,
    QuotesOut,
    SymbolsOut,
)
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
    async def get_bars(symbol: str, *, timeframe: str | None = None, start: str | None = None,
                       end: str | None = None, limit: int | None = None,
                       adjustment: str | None = None, source: str | None = None,
                       page_token: str | None = None) -> Annotated[CallToolResult, BarsOut]:
        """Bars, ascending (stored history, else the live feed's): from `start` (pass back
        `next_page_token` as `page_token` for the next page), else the latest up to `end`.

        timeframe: 1Min (default), 5Min, 15Min, 30Min, 1Hour, 1Day. start/end: RFC 3339 or
        YYYY-MM-DD. adjustment: raw (default) or all. source: a stored source (list_history),
        or the live feed's name; default the best stored one, else the live feed."""
        return await guarded(lambda: svc.history(
            current_principal(), symbol, timeframe=timeframe, start=start, end=end,
            limit=None if limit is None else str(limit), adjustment=adjustment, source=source,
            page_token=page_token))

    @server.tool(annotations=READ_ONLY)
    async def list_history(symbol: str | None = None) -> Annotated[CallToolResult, HistoryOut]:
        """The stored history series (of one symbol): source, timeframe, first, last, bars."""
        return await guarded(lambda: _series(svc, symbol))

    @server.tool(annotations=READ_ONLY)
    async def list_symbols() -> Annotated[CallToolResult, SymbolsOut]:
        """Tradable instruments with their tick size, lot size and quantity bounds."""
        return await guarded(lambda: {"symbols": svc.symbols(current_principal())})

    @server.tool(annotations=READ_ONLY)
    async def market_clock() -> Annotated[CallToolResult, ClockOut]:
        """Whether the market is open now, this session, and the next open and close."""
        return await guarded(lambda: svc.market_clock(current_principal()))


async def _series(svc: MarketDataService, symbol: str | None) -> dict[str, Any]:
    return {"series": await svc.list_history(current_principal(), symbol)}
