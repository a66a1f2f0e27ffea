"""providers tools: the market-data providers and their status; enable/disable, history fetch
and replay control (operators)."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations

from mcp_trading.faces.mcp.auth import current_principal, needs
from mcp_trading.faces.mcp.models import (
    HistoryFetchOut,
    ProviderChangeOut,
    ProvidersOut,
    ReplayOut,
)
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.providers.service import ProvidersService

__all__ = ["register"]

_SWITCH = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                          open_world_hint=False)


_FETCH = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                         open_world_hint=True)


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

    @server.tool(annotations=_FETCH, meta=needs(Role.OPERATOR))
    async def fetch_history(symbol: str, timeframe: str = "1Day", start: str | None = None,
                            end: str | None = None
                            ) -> Annotated[CallToolResult, HistoryFetchOut]:
        """Operators only: fetch history the store lacks from the provider chain and store it
        (a stored range is never fetched twice). `start`/`end`: YYYY-MM-DD or RFC 3339;
        without start, all the provider offers; without end, up to now. Read the bars with
        get_bars afterwards."""
        return await guarded(lambda: svc.fetch(current_principal(), symbol,
                                               timeframe=timeframe, start=start, end=end))

    @server.tool(annotations=READ_ONLY, meta=needs(Role.OPERATOR))
    async def replay_status() -> Annotated[CallToolResult, ReplayOut]:
        """Operators only: the replay feed's state, replay time, speed, symbols, sources,
        range and bars left (MCP_TRADING_FEED=replay)."""
        return await guarded(lambda: svc.replay_status(current_principal()))

    @server.tool(annotations=_SWITCH, meta=needs(Role.OPERATOR))
    async def replay_control(action: Literal["step", "pause", "resume", "seek"],
                             n: int | None = None, date: str | None = None
                             ) -> Annotated[CallToolResult, ReplayOut]:
        """Operators only: drive the replay feed. step (n steps, default 1; stepped or paused
        replays), pause, resume, or seek (date: YYYY-MM-DD inside the replay's range)."""
        return await guarded(lambda: svc.replay_control(current_principal(), action, n=n,
                                                        day=date))
