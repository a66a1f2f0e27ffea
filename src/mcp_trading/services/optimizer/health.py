"""ml-portfolio-optimizer's health: healthy while it serves; the number of methods it knows and
the last fault (not a refused request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.platform import Platform
from mcp_trading.services.optimizer.service import OptimizerService

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    return OptimizerService.for_platform(platform).health
