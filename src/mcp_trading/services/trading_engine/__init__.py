"""trading-engine :8010 — orders, positions, accounts, the self-test and emergency controls.

The service's declaration only (read by the registry); its code is in the modules beside.
"""

from mcp_trading.services.spec import ServiceSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="trading-engine", title="Trading engine: orders, positions, accounts, emergency controls",
    port=8010,
    rest="mcp_trading.services.trading_engine.rest:build",
    mcp=("mcp_trading.services.trading_engine.mcp:register",
         "mcp_trading.faces.mcp.resources:register_account_resources",
         "mcp_trading.faces.mcp.prompts:register_checklist"),
    health="mcp_trading.services.trading_engine.health:rule",
    depends_on=("market-data", "providers"),
    distributed="engine",
)
