"""alerts' health: down when stopping, degraded while a comprehensive check fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.platform import Platform
from mcp_trading.services.alerts.service import AlertsService

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    return AlertsService.for_platform(platform).health
