"""trading-strategies tools: list strategies, run a backtest (bounded wait), read, compare."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations

from mcp_trading.faces.mcp.auth import current_principal, needs
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.faces.mcp.strategy_models import (
    BacktestCompareOut,
    BacktestOut,
    BacktestRunOut,
    StrategiesOut,
)
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.strategies import views
from mcp_trading.services.strategies.instances_mcp import register_instance_tools
from mcp_trading.services.strategies.service import StrategiesService

__all__ = ["MAX_TOOL_WAIT_S", "register"]

#: a tool call waits at most this long for a run; a longer one answers its id to poll
MAX_TOOL_WAIT_S = 60.0
_RUN = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                       open_world_hint=False)


def register(server: MCPServer, platform: Platform) -> None:
    svc = StrategiesService.for_platform(platform)

    @server.tool(annotations=READ_ONLY)
    async def list_strategies() -> Annotated[CallToolResult, StrategiesOut]:
        """Every strategy: name, docstring (its rules) and parameter schema (types, defaults,
        ranges); also the user strategies that failed to load."""
        return await guarded(lambda: svc.strategies(current_principal()))

    @server.tool(annotations=_RUN, meta=needs(Role.TRADER))
    async def run_backtest(*, strategy: str, symbols: list[str], start: str, end: str,
                           timeframe: str = "1Day", params: dict[str, Any] | None = None,
                           cash: str | None = None, source: str | None = None,
                           commission: dict[str, str] | None = None,
                           slippage_bps: str | None = None,
                           limits: str | dict[str, Any] | None = None,
                           wait_s: float = 20.0) -> Annotated[CallToolResult, BacktestRunOut]:
        """Backtest a strategy on stored history (dates YYYY-MM-DD; params per
        list_strategies). Waits up to wait_s (at most 60): the summary when done, else the id
        to poll with get_backtest. Market orders fill at the next bar's open."""
        body: dict[str, Any] = {
            "strategy": strategy, "symbols": symbols, "start": start, "end": end,
            "timeframe": timeframe, "params": params or {}, "cash": cash, "source": source,
            "commission": commission, "slippage_bps": slippage_bps, "limits": limits,
            "wait_s": min(max(wait_s, 0.0), MAX_TOOL_WAIT_S)}

        async def submit() -> dict[str, Any]:
            submitted = await svc.submit(current_principal(), body)
            return submitted.body

        return await guarded(submit)

    @server.tool(annotations=READ_ONLY)
    async def get_backtest(backtest_id: str) -> Annotated[CallToolResult, BacktestOut]:
        """A backtest: queued or running (with progress), failed (why), or done (summary and
        every metric, with the annualisation and risk-free rate stated)."""
        return await guarded(lambda: svc.get(current_principal(), backtest_id))

    @server.tool(annotations=READ_ONLY)
    async def compare_backtests(backtest_ids: list[str]
                                ) -> Annotated[CallToolResult, BacktestCompareOut]:
        """2 to 10 finished backtests side by side: each one's summary and metrics."""
        async def compare() -> dict[str, Any]:
            return views.compare_view(await svc.compare(current_principal(), backtest_ids))

        return await guarded(compare)

    register_instance_tools(server, platform, svc)
