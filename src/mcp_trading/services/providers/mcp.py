"""providers tools: the market-data providers and their status (read-only)."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp_types import CallToolResult

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.mcp.models import ProvidersOut
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.providers.service import ProvidersService

__all__ = ["register"]


def register(server: MCPServer, platform: Platform) -> None:
    svc = ProvidersService.for_platform(platform)

    @server.tool(annotations=READ_ONLY)
    async def list_providers() -> Annotated[CallToolResult, ProvidersOut]:
        """Market-data providers: active ones, status, error rate, rate limit."""
        return await guarded(lambda: svc.providers(current_principal()))
