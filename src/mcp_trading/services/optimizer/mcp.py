"""ml-portfolio-optimizer tools: optimize, frontier, evaluate, list_methods, and a rebalance
as preview then confirm (the preview's token, like orders)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from mcp_types import CallToolResult, ToolAnnotations

from mcp_trading.faces.mcp.auth import current_principal, needs
from mcp_trading.faces.mcp.optimizer_models import (
    EvaluationOut,
    FrontierOut,
    MethodsOut,
    OptimizationOut,
    RebalanceOut,
    RebalancePreviewOut,
)
from mcp_trading.faces.mcp.results import guarded
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Role
from mcp_trading.services.market_data.mcp import READ_ONLY
from mcp_trading.services.optimizer.service import OptimizerService

__all__ = ["register"]

#: an optimisation stores its run but changes nothing else
_COMPUTE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                           open_world_hint=False)
_PLACE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False,
                         open_world_hint=False)


def _body(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def register(server: MCPServer, platform: Platform) -> None:
    svc = OptimizerService.for_platform(platform)
    _compute_tools(server, svc)
    _evaluate_tool(server, svc)
    _rebalance_tools(server, svc)


def _compute_tools(server: MCPServer, svc: OptimizerService) -> None:
    @server.tool(annotations=READ_ONLY)
    async def list_methods() -> Annotated[CallToolResult, MethodsOut]:
        """Every optimisation method and estimator with its options and their units."""
        return await guarded(lambda: svc.methods(current_principal()))

    @server.tool(annotations=_COMPUTE)
    async def optimize(*, symbols: list[str] | None = None, start: str | None = None,
                       end: str | None = None, method: str = "max_sharpe",
                       options: dict[str, Any] | None = None,
                       expected_returns: str | None = None, covariance: str | None = None,
                       estimator_options: dict[str, Any] | None = None,
                       risk_free_rate: float | None = None, frequency: int | None = None,
                       constraints: dict[str, Any] | None = None,
                       prices: dict[str, list[float]] | None = None,
                       returns: dict[str, list[float]] | None = None,
                       benchmark: str | None = None, account: str | None = None,
                       current_weights: dict[str, float] | None = None
                       ) -> Annotated[CallToolResult, OptimizationOut]:
        """Optimise a portfolio: symbols with start/end (YYYY-MM-DD; adjusted daily closes
        from the bar store) or inline prices/returns; method and estimators per
        list_methods; risk_free_rate annual (0.04 = 4 %); constraints {bounds, groups,
        long_only, max_turnover, cash_buffer}. Answers weights (decimal strings), figures,
        risk contributions, diagnostics and the stored run's id."""
        body = _body(symbols=symbols, start=start, end=end, method=method, options=options,
                     expected_returns=expected_returns, covariance=covariance,
                     estimator_options=estimator_options, risk_free_rate=risk_free_rate,
                     frequency=frequency, constraints=constraints, prices=prices,
                     returns=returns, benchmark=benchmark, account=account,
                     current_weights=current_weights)
        return await guarded(lambda: svc.optimize(current_principal(), body))

    @server.tool(annotations=_COMPUTE)
    async def frontier(*, symbols: list[str] | None = None, start: str | None = None,
                       end: str | None = None, points: int = 20, method: str = "max_sharpe",
                       expected_returns: str | None = None, covariance: str | None = None,
                       risk_free_rate: float | None = None,
                       constraints: dict[str, Any] | None = None,
                       prices: dict[str, list[float]] | None = None
                       ) -> Annotated[CallToolResult, FrontierOut]:
        """The efficient frontier: `points` portfolios (expected return, volatility, Sharpe,
        weights) and the method's portfolio, with each asset's own figures."""
        body = _body(symbols=symbols, start=start, end=end, points=points, method=method,
                     expected_returns=expected_returns, covariance=covariance,
                     risk_free_rate=risk_free_rate, constraints=constraints, prices=prices)
        return await guarded(lambda: svc.frontier(current_principal(), body))


def _evaluate_tool(server: MCPServer, svc: OptimizerService) -> None:
    @server.tool(annotations=_COMPUTE)
    async def evaluate(*, methods: list[str], symbols: list[str] | None = None,
                       start: str | None = None, end: str | None = None,
                       window: int | None = None, rebalance_every: int | None = None,
                       estimators: list[str] | None = None,
                       options: dict[str, dict[str, Any]] | None = None,
                       risk_free_rate: float | None = None,
                       constraints: dict[str, Any] | None = None
                       ) -> Annotated[CallToolResult, EvaluationOut]:
        """Walk-forward: each method (and expected-returns estimator) re-estimated on a
        rolling window and rebalanced every K periods; out-of-sample return, volatility,
        Sharpe, max drawdown and turnover side by side."""
        body = _body(methods=methods, symbols=symbols, start=start, end=end, window=window,
                     rebalance_every=rebalance_every, estimators=estimators, options=options,
                     risk_free_rate=risk_free_rate, constraints=constraints)
        return await guarded(lambda: svc.evaluate(current_principal(), body))


def _rebalance_tools(server: MCPServer, svc: OptimizerService) -> None:
    @server.tool(annotations=READ_ONLY, meta=needs(Role.TRADER))
    async def rebalance_preview(*, account: str | None = None,
                                weights: dict[str, float] | None = None,
                                run_id: str | None = None,
                                optimize: dict[str, Any] | None = None,
                                min_trade_notional: float | None = None,
                                order_type: str | None = None,
                                proceeds_margin: float | None = None
                                ) -> Annotated[CallToolResult, RebalancePreviewOut]:
        """The orders that move an account to a target (weights, a run_id, or an optimize
        request), whole lots, sells first, each with the kernel's pre-trade answer. Places
        nothing; answers a confirmation token valid 10 minutes for rebalance_confirm."""
        body = _body(account=account, weights=weights, run_id=run_id, optimize=optimize,
                     min_trade_notional=min_trade_notional, order_type=order_type,
                     proceeds_margin=proceeds_margin)
        return await guarded(lambda: svc.rebalance_preview(current_principal(), body))

    @server.tool(annotations=_PLACE, meta=needs(Role.TRADER))
    async def rebalance_confirm(*, preview_id: str, confirmation_token: str,
                                fill_wait_s: float | None = None
                                ) -> Annotated[CallToolResult, RebalanceOut]:
        """Place a previewed rebalance: every order checked again (none placed if any would
        be refused), the sells placed, then the buys once the sells have filled (waiting up
        to fill_wait_s, default 5; else the unfilled sells are canceled and no buy is placed,
        status incomplete), with each order's outcome. Needs the preview's token."""
        body = _body(confirmation_token=confirmation_token, fill_wait_s=fill_wait_s)
        return await guarded(lambda: svc.rebalance_confirm(current_principal(), preview_id,
                                                           body))
