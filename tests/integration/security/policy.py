"""The platform's authorization policy: the least role each REST route and MCP tool needs.

One table, read by the matrix test (test_authorization_matrix.py), which walks every route of
every service's app and every tool of every MCP face and fails on any route or tool this
table does not name, so a new route must be declared here before its branch is green.

Keys: `"<service> <METHOD> <path>"` for a REST route (the route's own path pattern, as
FastAPI declares it), `"<service> ws <path>"` for a WebSocket, `"<service> tool <name>"`
for an MCP tool; `*` as the service applies to every service. A value is the least role
(`Role.VIEWER` ... `Role.ADMIN`) or `PUBLIC`: answered without a credential.

Rules a route applies on top of its role (the account a key is bound to, admin for a forced
resume) are the routes' own tests' business; this table is the floor.
"""

from __future__ import annotations

from typing import Final

from mcp_trading.security.principal import Role

__all__ = ["POLICY", "PUBLIC", "UndeclaredError", "least_role"]

PUBLIC: Final = None

VIEWER, TRADER, OPERATOR, ADMIN = Role.VIEWER, Role.TRADER, Role.OPERATOR, Role.ADMIN

POLICY: Final[dict[str, Role | None]] = {
    # --- every service --------------------------------------------------------------------
    "* GET /health": PUBLIC,  # load balancers and the runbook's health checks
    "* GET /docs": PUBLIC,  # the API description holds no data
    "* GET /docs/oauth2-redirect": PUBLIC,
    "* GET /openapi.json": PUBLIC,
    "* GET /redoc": PUBLIC,
    "* GET /static-offline-docs": PUBLIC,  # the packaged Swagger UI assets /docs loads
    "* GET /admin/memory": ADMIN,  # a tracemalloc trace: costs the process while it runs
    "* GET /.well-known/oauth-protected-resource/mcp": PUBLIC,  # RFC 9728: where to get a token
    "* GET /metrics": VIEWER,
    # --- market-data ----------------------------------------------------------------------
    "market-data GET /quotes/{symbol}": VIEWER,
    "market-data GET /quotes": VIEWER,
    "market-data GET /symbols": VIEWER,
    "market-data GET /clock": VIEWER,
    "market-data GET /bars/{symbol}": VIEWER,
    "market-data GET /history": VIEWER,
    "market-data ws /ws/quotes": VIEWER,
    # --- providers ------------------------------------------------------------------------
    "providers GET /providers": VIEWER,
    "providers POST /providers/{name}/enable": OPERATOR,
    "providers POST /providers/{name}/disable": OPERATOR,
    "providers POST /history/{symbol}/fetch": OPERATOR,
    "providers GET /replay": OPERATOR,
    "providers POST /replay/{action}": OPERATOR,
    # --- trading-engine -------------------------------------------------------------------
    "trading-engine POST /orders": TRADER,
    "trading-engine POST /orders/batch": TRADER,
    "trading-engine GET /orders": VIEWER,
    "trading-engine GET /orders/{order_id}": VIEWER,
    "trading-engine DELETE /orders/{order_id}": TRADER,
    "trading-engine PATCH /orders/{order_id}": TRADER,
    "trading-engine POST /orders/test": OPERATOR,
    "trading-engine GET /positions": VIEWER,
    "trading-engine GET /account": VIEWER,
    "trading-engine GET /accounts": VIEWER,
    "trading-engine GET /accounts/{account_id}": VIEWER,
    "trading-engine POST /accounts": OPERATOR,
    "trading-engine POST /emergency/halt-new-orders": OPERATOR,
    "trading-engine POST /emergency/halt": OPERATOR,
    "trading-engine POST /emergency/close-all-positions": OPERATOR,
    "trading-engine POST /emergency/resume-trading": OPERATOR,  # `force`: admin (the route's own rule)
    # --- orders ---------------------------------------------------------------------------
    "orders GET /orders": VIEWER,
    "orders GET /orders/{order_id}/history": VIEWER,
    "orders POST /orders/cancel-all-pending": OPERATOR,
    # --- risk -----------------------------------------------------------------------------
    "risk GET /limits": VIEWER,
    "risk PUT /limits/global": OPERATOR,
    "risk PUT /limits/accounts/{account_id}": OPERATOR,
    "risk GET /limits/audit": VIEWER,
    "risk POST /check": TRADER,
    "risk GET /exposures": VIEWER,
    "risk GET /var": VIEWER,
    "risk GET /stress": VIEWER,
    "risk GET /concentration": VIEWER,
    # --- portfolio ------------------------------------------------------------------------
    "portfolio GET /portfolio/summary": VIEWER,
    "portfolio GET /portfolio/positions": VIEWER,
    "portfolio GET /portfolio/performance": VIEWER,
    "portfolio GET /portfolio/reports": VIEWER,
    "portfolio GET /portfolio/reports/{date}/{name}": VIEWER,
    "portfolio GET /portfolio/equity": VIEWER,
    "portfolio POST /portfolio/equity/snapshot": OPERATOR,
    # --- strategies -----------------------------------------------------------------------
    "strategies GET /strategies": VIEWER,
    "strategies GET /strategies/{name}": VIEWER,
    "strategies GET /strategies/instances": VIEWER,
    "strategies GET /strategies/instances/{instance_id}": VIEWER,
    "strategies DELETE /strategies/instances/{instance_id}": TRADER,  # of its account, or operator
    "strategies POST /strategies/{name}/instances": TRADER,
    "strategies POST /backtests": TRADER,
    "strategies GET /backtests": VIEWER,
    "strategies DELETE /backtests/{backtest_id}": OPERATOR,
    "strategies GET /backtests/compare": VIEWER,
    "strategies GET /backtests/compare.html": VIEWER,
    "strategies GET /backtests/{backtest_id}": VIEWER,
    "strategies GET /backtests/{backtest_id}/trades": VIEWER,
    "strategies GET /backtests/{backtest_id}/equity": VIEWER,
    "strategies GET /backtests/{backtest_id}/report.html": VIEWER,
    # --- optimizer ------------------------------------------------------------------------
    "optimizer POST /optimize": VIEWER,  # computes and stores a run; places nothing
    "optimizer POST /frontier": VIEWER,
    "optimizer POST /evaluate": VIEWER,
    "optimizer GET /methods": VIEWER,
    "optimizer GET /runs": VIEWER,
    "optimizer GET /runs/{run_id}": VIEWER,
    "optimizer GET /runs/{run_id}/report.html": VIEWER,
    "optimizer POST /rebalance": TRADER,
    "optimizer POST /rebalance/{preview_id}/confirm": TRADER,
    # --- alerts ---------------------------------------------------------------------------
    "alerts GET /alerts": VIEWER,
    "alerts POST /alerts/{alert_id}/acknowledge": TRADER,
    "alerts POST /alerts/maintenance-start": OPERATOR,
    "alerts POST /alerts/maintenance-complete": OPERATOR,
    # --- MCP tools (any service that serves the tool) -------------------------------------
    "* tool get_quote": VIEWER,
    "* tool get_quotes": VIEWER,
    "* tool get_bars": VIEWER,
    "* tool list_history": VIEWER,
    "* tool list_symbols": VIEWER,
    "* tool market_clock": VIEWER,
    "* tool list_providers": VIEWER,
    "* tool enable_provider": OPERATOR,
    "* tool disable_provider": OPERATOR,
    "* tool fetch_history": OPERATOR,
    "* tool replay_status": OPERATOR,
    "* tool replay_control": OPERATOR,
    "* tool get_order": VIEWER,
    "* tool find_order": VIEWER,
    "* tool list_orders": VIEWER,
    "* tool preview_order": TRADER,
    "* tool submit_order": TRADER,
    "* tool cancel_order": TRADER,
    "* tool replace_order": TRADER,
    "* tool get_positions": VIEWER,
    "* tool get_account": VIEWER,
    "* tool list_accounts": VIEWER,
    "* tool halt": OPERATOR,
    "* tool risk_var": VIEWER,
    "* tool risk_stress": VIEWER,
    "* tool risk_concentration": VIEWER,
    "* tool risk_status": VIEWER,
    "* tool risk_limits": VIEWER,
    "* tool risk_exposures": VIEWER,
    "* tool check_order": TRADER,
    "* tool portfolio_summary": VIEWER,
    "* tool portfolio_positions": VIEWER,
    "* tool portfolio_performance": VIEWER,
    "* tool get_equity_history": VIEWER,
    "* tool list_reports": VIEWER,
    "* tool get_report": VIEWER,
    "* tool list_strategies": VIEWER,
    "* tool run_backtest": TRADER,
    "* tool get_backtest": VIEWER,
    "* tool compare_backtests": VIEWER,
    "* tool start_strategy_instance": TRADER,
    "* tool list_strategy_instances": VIEWER,
    "* tool stop_strategy_instance": TRADER,
    "* tool list_methods": VIEWER,
    "* tool optimize": VIEWER,
    "* tool frontier": VIEWER,
    "* tool evaluate": VIEWER,
    "* tool rebalance_preview": TRADER,
    "* tool rebalance_confirm": TRADER,
    "* tool list_alerts": VIEWER,
}


class UndeclaredError(KeyError):
    """A route or tool the policy table does not name."""


def least_role(service: str, what: str) -> Role | None:
    """The declared least role of `what` ("GET /path", "ws /path", "tool name") on `service`;
    UndeclaredError if the table names it for neither the service nor `*`."""
    for key in (f"{service} {what}", f"* {what}"):
        if key in POLICY:
            return POLICY[key]
    raise UndeclaredError(f"{service} {what}")
