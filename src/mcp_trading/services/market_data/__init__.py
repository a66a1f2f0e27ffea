"""market-data :8001 — latest quotes, instruments, the market clock, bars and a quote stream.

The service's declaration only (read by the registry); its code is in the modules beside.
"""

from mcp_trading.services.spec import ServiceSpec, TaskSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="market-data", title="Market data: quotes, instruments, clock, bars, quote stream",
    port=8001,
    rest="mcp_trading.services.market_data.rest:build",
    mcp=("mcp_trading.services.market_data.mcp:register",
         "mcp_trading.faces.mcp.resources:register_quote_resource"),
    health="mcp_trading.services.market_data.health:rule",
    tasks=(TaskSpec("bars-and-stream", "mcp_trading.services.market_data.service:background"),),
    distributed="feed",
)
