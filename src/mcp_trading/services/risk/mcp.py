"""risk tools: status, limits, exposures, the pre-trade dry run, VaR/ES, stress tests and
concentration (all read-only)."""

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
from mcp_trading.faces.mcp.risk_models import ConcentrationOut, StressOut, VarOut
from mcp_trading.faces.order_schema import order_payload
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.risk.analytics import RiskAnalytics
from mcp_trading.services.risk.service import RiskService
from mcp_trading.services.risk.stress import SCENARIOS_FILE, StressTests

__all__ = ["register"]


def register(server: MCPServer, platform: Platform) -> None:
    svc = RiskService(platform.core)
    _register_analytics(server, platform)

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


def _register_analytics(server: MCPServer, platform: Platform) -> None:
    analytics = RiskAnalytics(platform.core)
    stress_tests = StressTests(platform.core, platform.settings.data_dir / SCENARIOS_FILE)

    @server.tool(annotations=READ_ONLY)
    async def risk_var(account_id: str | None = None, confidence: list[float] | None = None,
                       horizon: list[int] | None = None, method: list[str] | None = None,
                       window: int | None = None) -> Annotated[CallToolResult, VarOut]:
        """VaR and expected shortfall of an account's positions today (losses positive).

        Methods historical, parametric, cornish_fisher (default all); confidence default
        [0.95, 0.99]; horizon in days default [1, 10] (the 1-day figure x sqrt(h)); window:
        daily returns of real history, default 250. Positions without real history are
        listed in `excluded` with the reason. Also the account's limit utilisation.
        """
        return await guarded(lambda: analytics.var(
            current_principal(), account_id=account_id, confidence=confidence, horizon=horizon,
            method=method, window=window))

    @server.tool(annotations=READ_ONLY)
    async def risk_stress(account_id: str | None = None, scenarios: list[str] | None = None,
                          window: int | None = None) -> Annotated[CallToolResult, StressOut]:
        """Stress scenarios on an account's positions today: historical replays (worst weeks
        of 2008 and 2000-2002, fixed ranges), shocks (equity -10 %, largest name -30 %) and
        volatility x2 (VaR recomputed). Default: every configured scenario."""
        return await guarded(lambda: stress_tests.stress(
            current_principal(), account_id=account_id, scenario=scenarios, window=window))

    @server.tool(annotations=READ_ONLY)
    async def risk_concentration(account_id: str | None = None
                                 ) -> Annotated[CallToolResult, ConcentrationOut]:
        """Largest names (weight of equity) and the HHI of an account's gross exposure."""
        return await guarded(lambda: analytics.concentration(current_principal(), account_id))
