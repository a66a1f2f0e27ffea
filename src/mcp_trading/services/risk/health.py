"""risk's health: down without a writable journal; the body carries the risk status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.platform import Platform
from mcp_trading.services.risk.service import RiskService

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    svc = RiskService(platform.core)

    def health() -> dict[str, Any]:
        h = platform.health
        status = "healthy" if h.journal_ok and platform.accepting else "down"
        return {"status": status, **svc.status()}

    return health
