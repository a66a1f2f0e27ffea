"""trading-engine's health: down without a writable journal, degraded when disk or projections fail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.platform.health import writer_status
from mcp_trading.platform.platform import Platform
from mcp_trading.services.trading_engine.service import TradingService

__all__ = ["rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    svc = TradingService(platform.core)

    def health() -> dict[str, Any]:
        h = platform.health
        return {"status": writer_status(platform), **svc.trading_status(),
                "journal": {"ok": h.journal_ok, "durable_seq": platform.kernel_runtime.journal
                            .durable_seq, "error": h.journal_error},
                "accepting_orders": platform.accepting}

    return health
