"""providers tools: the market-data providers and their status; enable/disable (operators)."""

from __future__ import annotations

from typing import Annotated

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations

from mcp_trading.faces.mcp.auth import current_principal, needs
from mcp_trading.faces.mcp.models import ProviderChangeOut, ProvidersOut
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.providers.service import ProvidersService

__all__ = ["register"]

_SWITCH = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                          open_world_hint=False)


def register(server: MCPServer, platform: Platform) -> None:
    svc = ProvidersService.for_platform(platform)

    @server.tool(annotations=READ_ONLY)
    async def list_providers() -> Annotated[CallToolResult, ProvidersOut]:
        """Market-data providers: active ones, status, circuit, calls left, what each serves."""
        return await guarded(lambda: svc.providers(current_principal()))

    @server.tool(annotations=_SWITCH, meta=needs(Role.OPERATOR))
    async def enable_provider(name: str) -> Annotated[CallToolResult, ProviderChangeOut]:
        """Operators only: put a provider back into its failover chains."""
        return await guarded(lambda: svc.enable(current_principal(), name))

    @server.tool(annotations=_SWITCH, meta=needs(Role.OPERATOR))
    async def disable_provider(name: str) -> Annotated[CallToolResult, ProviderChangeOut]:
        """Operators only: take a provider out of every chain. The last live quote provider
        cannot be disabled while trading is active (halt first)."""
        return await guarded(lambda: svc.disable(current_principal(), name))
