"""providers :8093 — the market-data providers in use, their status, error rates and quotas.

The service's declaration only (read by the registry); its code is in the modules beside.
"""

from mcp_trading.services.spec import ServiceSpec, TaskSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="providers", title="Providers: market-data sources, status, error rates, quotas",
    port=8093,
    rest="mcp_trading.services.providers.rest:build",
    mcp=("mcp_trading.services.providers.mcp:register",),
    health="mcp_trading.services.providers.health:rule",
    tasks=(TaskSpec("poller", "mcp_trading.services.providers.service:background"),),
    distributed="quotes",
)
