"""Offline steps of a full system recovery: halt new orders in the journal before any start.

A restored platform must come up halted, so that nothing (a client, a strategy instance
resumed from the journal) trades before an operator has looked; halting *after* start
leaves a window. `halt_offline` recovers the kernel from the store while the platform is
stopped, journals `halted_new_orders` (working orders are kept as the backup had them; the
operator decides) and records it in the emergency log; `mcp-trading resume` undoes it.
"""

from __future__ import annotations

from mcp_trading.adapters.calendars import calendar_by_name
from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.store import open_store, upgrade
from mcp_trading.clocks import WallClock
from mcp_trading.config import Settings
from mcp_trading.dataops.swap import finish_swap
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel.runtime import recover
from mcp_trading.platform.alert_center import EmergencyLog

__all__ = ["halt_offline"]

ACTOR = "operator:offline"


def halt_offline(settings: Settings, reason: str, *, cancel_working: bool = False,
                 actor: str = ACTOR) -> dict[str, object]:
    """Journal a platform-wide halt of new orders on a stopped platform; return what it did.

    `cancel_working`: a full halt instead, which cancels every working order in the same
    step (a suspected breach: nothing placed by a stolen key may fill after the start).
    The caller makes sure the platform is stopped (the journal has one writer)."""
    finish_swap(settings)
    url = settings.resolved_database_url
    upgrade(url)
    runtime = recover(open_store(url), instruments=default_instruments(), clock=WallClock(),
                      calendar=calendar_by_name(settings.calendar),
                      config=settings.kernel_config(), snapshot_every=0)
    try:
        kernel = runtime.kernel
        level = TradingState.HALTED if cancel_working else TradingState.HALTED_NEW_ORDERS
        before = kernel.trading_state()
        working = sum(len(a.open_orders) for a in kernel.state.accounts.values()
                      if not a.internal) if cancel_working else 0
        canceled = 0
        if before.rank < level.rank or working:
            canceled = len(kernel.halt(level=level, reason=reason, actor=actor,
                                       cancel_working=cancel_working))
            runtime.journal.flush()
        after = kernel.trading_state()
        seq = kernel.seq
    finally:
        runtime.close()
    if after is not before or canceled:
        EmergencyLog(settings.resolved_log_dir / "emergency.log").append(
            "halt:halted" if cancel_working else "halt-new-orders", actor=actor, reason=reason,
            offline=True, seq=seq, canceled_count=canceled)
    return {"trading_status": after.value, "was": before.value, "seq": seq,
            "canceled_count": canceled}
