"""portfolio's health: degraded when the marks are no longer fresh (valuations rest on them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.platform import Platform

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    def health() -> dict[str, Any]:
        h = platform.health
        status = "healthy"
        if not platform.accepting:
            status = "down"
        elif h.feed_status != "streaming":
            status = "degraded"  # valuations rest on marks that are no longer fresh
        return {"status": status, "marks": h.feed_status}

    return health
