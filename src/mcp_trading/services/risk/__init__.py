"""risk :8012 — risk status, limits (read, change, audit), pre-trade dry run, exposures, VaR/ES,
stress tests and concentration.

The service's declaration only (read by the registry); its code is in the modules beside.
"""

from mcp_trading.services.spec import ServiceSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="risk", title="Risk: status, limits and their audit, pre-trade checks, exposures, "
                       "VaR/ES, stress tests, concentration",
    port=8012,
    rest="mcp_trading.services.risk.rest:build",
    mcp=("mcp_trading.services.risk.mcp:register",
         "mcp_trading.faces.mcp.prompts:register_checklist"),
    health="mcp_trading.services.risk.health:rule",
    depends_on=("trading-engine",),
    writes=(("PUT", r"/limits/global"), ("PUT", r"/limits/accounts/[^/]+")),
)
