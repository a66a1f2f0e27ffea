"""providers' health: ok when every active provider is ok, down when none is up, else degraded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.platform import Platform
from mcp_trading.services.providers.service import ProvidersService

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    return ProvidersService.for_platform(platform).health
