"""trading-engine's health: down without a writable journal, degraded when disk or projections fail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_trading.domain.trading_state import TradingState
from mcp_trading.platform.health import writer_status
from mcp_trading.platform.platform import Platform
from mcp_trading.services.trading_engine.service import TradingService

__all__ = ["orders_taken", "rule"]


def rule(platform: Platform) -> Callable[[], dict[str, Any]]:
    svc = TradingService(platform.core)

    def health() -> dict[str, Any]:
        h = platform.health
        return {"status": writer_status(platform), **svc.trading_status(),
                "journal": {"ok": h.journal_ok, "durable_seq": platform.kernel_runtime.journal
                            .durable_seq, "error": h.journal_error},
                **orders_taken(platform.unavailable_reason(), svc.trading_status())}

    return health


def orders_taken(unavailable: str | None, status: dict[str, Any]) -> dict[str, Any]:
    """Whether a new order would be taken now, and why not (the strictest gate first)."""
    reason = unavailable
    if reason is None and status["maintenance"]:
        reason = f"the platform is in maintenance ({status['maintenance_reason']})"
    state = TradingState(status["trading_status"])
    if reason is None and not state.accepts_new_orders:
        why = status["trading_status_reason"]
        reason = f"trading is {state.value}" + (f" ({why})" if why else "")
    if reason is None and state is TradingState.REDUCING:
        return {"accepting_orders": True, "accepting_orders_reason":
                "reducing: only orders that reduce a position are taken"}
    return {"accepting_orders": reason is None, "accepting_orders_reason": reason}
