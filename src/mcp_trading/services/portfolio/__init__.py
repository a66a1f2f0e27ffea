"""portfolio :8013 — valuations and P&L per account and in total, positions with marks.

The service's declaration only (read by the registry); its code is in the modules beside.
"""

from mcp_trading.services.spec import ServiceSpec, TaskSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="portfolio", title="Portfolio: valuations, positions with marks, P&L, performance",
    port=8013,
    rest="mcp_trading.services.portfolio.rest:build",
    mcp=("mcp_trading.services.portfolio.mcp:register",
         "mcp_trading.faces.mcp.resources:register_account_resources",
         "mcp_trading.services.portfolio.reports_mcp:register"),
    health="mcp_trading.services.portfolio.health:rule",
    depends_on=("trading-engine",),
    tasks=(TaskSpec("equity-sampler", "mcp_trading.services.portfolio.sampler:background"),),
    writes=(("POST", r"/portfolio/equity/snapshot"),),
)
