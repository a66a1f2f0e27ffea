"""orders' health: down without a writable journal, degraded when its views lag (projections, disk)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.health import writer_status
from mcp_trading.platform.platform import Platform
from mcp_trading.services.orders.service import OrdersService

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    svc = OrdersService(platform.core)

    def health() -> dict[str, Any]:
        return {"status": writer_status(platform), "open_orders": svc.open_orders()}

    return health
