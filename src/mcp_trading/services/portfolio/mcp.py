"""portfolio tools: valuations, positions at their marks, performance (all read-only)."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp_types import CallToolResult

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.mcp.models import (
    PortfolioPerformanceOut,
    PortfolioPositionsOut,
    PortfolioSummaryOut,
)
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.services.market_data.mcp import READ_ONLY
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
