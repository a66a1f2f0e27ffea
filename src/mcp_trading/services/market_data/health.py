"""market-data's health: the feed's status (streaming / stale / down), degraded if bars cannot be stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.platform import Platform
from mcp_trading.services.market_data.service import MarketDataService

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    return MarketDataService.for_platform(platform).health
