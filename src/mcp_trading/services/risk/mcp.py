"""risk tools: status, limits, exposures and the pre-trade dry run (all read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp_types import CallToolResult

from mcp_trading.faces.mcp.auth import current_principal, needs
from mcp_trading.faces.mcp.models import (
    ExposuresOut,
    LimitsOut,
    OrderCheckOut,
    RiskStatusOut,
)
from mcp_trading.faces.mcp.order_args import flat_order_args
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.faces.order_schema import order_payload
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.risk.service import RiskService

__all__ = ["register"]


def register(server: MCPServer, platform: Platform) -> None:
    svc = RiskService(platform.core)

    @server.tool(annotations=READ_ONLY)
    async def risk_status() -> Annotated[CallToolResult, RiskStatusOut]:
        """ok / warning (a limit >= 80 % used) / breach, with the reasons."""
        def status() -> dict[str, object]:
            require(current_principal(), Role.VIEWER)
            return svc.status()

        return await guarded(status)

    @server.tool(annotations=READ_ONLY)
    async def risk_limits(account_id: str | None = None) -> Annotated[CallToolResult, LimitsOut]:
        """Global and per-account risk limits (null: not enforced)."""
        return await guarded(lambda: svc.limits(current_principal(), account_id))

    @server.tool(annotations=READ_ONLY)
    async def risk_exposures(account_id: str | None = None
                             ) -> Annotated[CallToolResult, ExposuresOut]:
        """Gross/net exposure per account and in total, with limit utilisation."""
        return await guarded(lambda: svc.exposures(current_principal(), account_id))

    @server.tool(annotations=READ_ONLY, meta=needs(Role.TRADER))
    @flat_order_args()
    async def check_order(**order: Any) -> Annotated[CallToolResult, OrderCheckOut]:
        """Pre-trade dry run: would this order be accepted now? Nothing is placed.

        The verdict is the one submit_order would reach now, a repeated client_order_id
        included (idempotent_retry names the order a submit would return).
        """
        return await guarded(lambda: svc.check(current_principal(), order_payload(order)))
