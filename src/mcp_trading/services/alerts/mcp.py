"""alerts tools: the alerts, newest first (read-only)."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp_types import CallToolResult

from mcp_trading.faces.mcp.auth import current_principal
from mcp_trading.faces.mcp.models import AlertsOut
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.services.alerts.service import AlertsService
from mcp_trading.services.market_data.mcp import READ_ONLY

__all__ = ["register"]


def register(server: MCPServer, platform: Platform) -> None:
    svc = AlertsService.for_platform(platform, None)

    @server.tool(annotations=READ_ONLY)
    async def list_alerts(acknowledged: bool | None = None, limit: int = 50
                          ) -> Annotated[CallToolResult, AlertsOut]:
        """Alerts newest first; acknowledged true / false keeps only those."""
        return await guarded(lambda: svc.list_alerts(current_principal(),
                                                     acknowledged=acknowledged, limit=limit))
