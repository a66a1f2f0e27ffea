"""portfolio tools: valuations, positions at their marks, performance, the equity history
(all read-only)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from mcp.server import MCPServer
from mcp_types import CallToolResult

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.mcp.equity_models import EquityHistoryOut
from mcp_trading.faces.mcp.models import (
    PortfolioPerformanceOut,
    PortfolioPositionsOut,
    PortfolioSummaryOut,
)
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.portfolio.sampler import equity_history
from mcp_trading.services.portfolio.service import PortfolioService

__all__ = ["register"]


def register(server: MCPServer, platform: Platform) -> None:
    svc = PortfolioService(platform.core)

    @server.tool(annotations=READ_ONLY)
    async def portfolio_summary(account_id: str | None = None
                                ) -> Annotated[CallToolResult, PortfolioSummaryOut]:
        """Equity, cash, market value, P&L and return per account and in total."""
        return await guarded(lambda: svc.summary(current_principal(), account_id))

    @server.tool(annotations=READ_ONLY)
    async def portfolio_positions(account_id: str | None = None
                                  ) -> Annotated[CallToolResult, PortfolioPositionsOut]:
        """Open positions per account at their latest marks, with weights."""
        return await guarded(lambda: svc.positions(current_principal(), account_id))

    @server.tool(annotations=READ_ONLY)
    async def portfolio_performance(account_id: str | None = None
                                    ) -> Annotated[CallToolResult, PortfolioPerformanceOut]:
        """Performance so far: return since start, today's P&L, drawdown from the day's peak."""
        return await guarded(lambda: svc.performance(current_principal(), account_id))

    equity = equity_history(platform)

    @server.tool(annotations=READ_ONLY)
    async def get_equity_history(account_id: str | None = None, since: str | None = None,
                                 interval: str = "1Day"
                                 ) -> Annotated[CallToolResult, EquityHistoryOut]:
        """Equity over time per account. interval "1Day": one journaled snapshot per trading
        day (the close's; equity, cash, positions with marks); "intraday": the sampled
        equity and cash. `since`: a date (2026-12-01), an ISO time, or a duration (12h, 7d)."""
        principal = current_principal()
        return await guarded(lambda: asyncio.to_thread(
            equity.history, principal, account_id=account_id, since=since, interval=interval))
