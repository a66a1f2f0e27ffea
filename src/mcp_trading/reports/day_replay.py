"""The reference fold of a report day: every event through the kernel's own `KernelState`.

Exact by construction (it is the kernel's state machine) but ~60 us per fill; the report
reads the day with the light fold of `day_fold.py`, proven equal to this one by
tests/integration/platform/test_daily_trading_report.py and
tests/integration/store/test_day_fold.py.
"""

from __future__ import annotations

from typing import Any

from mcp_trading.analytics.trading_day import ControlRow, DayRows, FillRow, OrderRow
from mcp_trading.domain.events import (
    MaintenanceChanged,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    TradingStateChanged,
)
from mcp_trading.domain.positions import Position
from mcp_trading.kernel.state import KernelState
from mcp_trading.reports.day_fold import NO_MID_NOTE, TEXT, ZERO

__all__ = ["KernelReplay"]


class KernelReplay:
    """Folds events into a `KernelState` and keeps the rows of those inside the day."""

    def __init__(self, state: KernelState, rows: DayRows) -> None:
        self.state = state
        self.seq = state.seq
        self.rows = rows
        self.mids: dict[str, Any] = {}
        self.day_orders: list[str] = []
        self.rejects: dict[str, tuple[str, str]] = {}
        self.started = False

    def apply(self, seq: int, event: Any) -> None:
        state = self.state
        if not self.started and event.ts >= self.rows.start_ns:
            self.started = True
            self.rows.maintenance_at_start = state.maintenance
        if type(event) is OrderFilled:
            self._fill(seq, event)
            return
        state.apply(seq, event)
        if type(event) is OrderAccepted:
            self.mids[event.order_id] = event.arrival_mid
        if not self.started:
            return
        self._day_event(event)

    def _day_event(self, event: Any) -> None:
        kind = type(event)
        if kind is OrderAccepted and not event.account_id.startswith("_"):
            self.day_orders.append(event.order_id)
        elif kind is OrderRejected and not event.account_id.startswith("_"):
            self.day_orders.append(event.order_id)
            self.rejects[event.order_id] = (event.code, event.reason)
        elif kind is TradingStateChanged:
            self.rows.controls.append(ControlRow(
                event.ts, "trading_state", event.account_id or "platform", event.state.value,
                event.reason, event.actor))
        elif kind is MaintenanceChanged:
            self.rows.controls.append(ControlRow(
                event.ts, "maintenance", "platform", "on" if event.active else "off",
                event.reason, event.actor))

    def _fill(self, seq: int, event: OrderFilled) -> None:
        state = self.state
        order = state.orders.get(event.order_id)
        if order is None or not self.started or order.account_id.startswith("_"):
            state.apply(seq, event)
            return
        account = state.accounts[order.account_id]
        pos = account.positions.get(order.symbol)
        before = pos.realized_pnl if pos is not None else ZERO
        state.apply(seq, event)
        after = account.positions[order.symbol].realized_pnl
        self.rows.fills.append(FillRow(
            event.ts, order.id, order.account_id, order.symbol, TEXT[order.side], event.qty,
            event.price, event.commission, after - before, self.mids.get(order.id),
            order.attribution))

    def finish(self) -> None:
        state, rows = self.state, self.rows
        if not self.started:
            rows.maintenance_at_start = state.maintenance
        for oid in self.day_orders:
            o = state.orders[oid]
            code, reason = self.rejects.get(oid, (None, None))
            rows.orders.append(OrderRow(oid, o.account_id, o.symbol, TEXT[o.side],
                                        TEXT[o.status] if o.status is not None else "unknown",
                                        o.attribution, code, reason))
        if any(self.mids.get(f.order_id) is None for f in rows.fills):
            rows.notes.append(NO_MID_NOTE)

    def held(self) -> list[tuple[str, Position]]:
        """(account, position) of every non-zero customer position at the end."""
        return [(a.id, p) for a in self.state.accounts.values() if not a.id.startswith("_")
                for p in a.positions.values() if p.qty]
