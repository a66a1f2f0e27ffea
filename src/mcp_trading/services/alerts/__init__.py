"""alerts :8100 — alerts, acknowledgement, maintenance mode and the platform's health summary.

The service's declaration only (read by the registry); its code is in the modules beside.
"""

from mcp_trading.services.spec import ServiceSpec, TaskSpec

__all__ = ["SPEC"]

SPEC = ServiceSpec(
    name="alerts", title="Alerts: alerts and acknowledgement, maintenance mode, platform health",
    port=8100,
    rest="mcp_trading.services.alerts.rest:build",
    mcp=("mcp_trading.services.alerts.mcp:register",),
    health="mcp_trading.services.alerts.health:rule",
    tasks=(TaskSpec("watcher", "mcp_trading.services.alerts.service:background"),
           TaskSpec("alerting", "mcp_trading.services.alerts.notify:background")),
    depends_on=("orders", "risk", "portfolio"),
    distributed="control",
    writes=(("POST", r"/alerts/maintenance-(start|complete)"),),
    collects_alerts=True,
)
