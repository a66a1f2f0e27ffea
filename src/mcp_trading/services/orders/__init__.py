"""orders :8011 — order listings with filters and paging, order history, cancel-all-pending.

The service's declaration only (read by the registry); its code is in the modules beside.
"""

from mcp_trading.services.spec import ServiceSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="orders", title="Orders: listings, filters, history, cancel-all-pending",
    port=8011,
    rest="mcp_trading.services.orders.rest:build",
    mcp=("mcp_trading.services.orders.mcp:register",
         "mcp_trading.faces.mcp.resources:register_account_resources"),
    health="mcp_trading.services.orders.health:rule",
    depends_on=("trading-engine",),
    writes=(("POST", r"/orders/cancel-all-pending"),),
)
