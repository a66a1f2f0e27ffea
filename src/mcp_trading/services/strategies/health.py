"""trading-strategies' health: healthy while its queue takes runs, with the queue's depth and
the last run that failed (a fault, not a refused request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.platform import Platform
from mcp_trading.services.strategies.service import StrategiesService

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    return StrategiesService.for_platform(platform).health
