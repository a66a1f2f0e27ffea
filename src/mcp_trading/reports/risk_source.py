"""The daily risk report's inputs, read offline from the store: every account's positions at
the end of the day (the journal folded by the kernel's own state machine, as the trading
report does) marked at the day's last price, and the day's risk refusals.

Marks are not journaled (a quote is a market input), so a position is re-marked here at the
last close of the platform's own bars before the day's end, else at the last fill price of
the symbol up to then, else it keeps the fold's mark (the snapshot's, or its first fill's).
Which one each position got travels in `mark_sources`.

A risk refusal is a rejected order whose code is a risk limit's (RISK_*) or the trading state
a risk limit moved the account to (TRADING_REDUCING, TRADING_HALTED). Internal accounts (ids
starting with "_", the platform's self-test) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import bars
from mcp_trading.domain.accounts import Account
from mcp_trading.domain.events import OrderFilled, OrderRejected, TradingStateChanged
from mcp_trading.kernel import codec
from mcp_trading.kernel.state import KernelState
from mcp_trading.reports.trading_source import (
    archived_note,
    base_state,
    day_window,
    journal_records,
)

__all__ = ["LIMIT_OF_CODE", "Refusal", "RiskDay", "StateChange", "is_risk_code", "read_risk_day"]

#: the limit (RiskLimits field, or the rule) each risk refusal code enforces
LIMIT_OF_CODE = {
    "RISK_MAX_ORDER_QTY": "max_order_qty", "RISK_MAX_NOTIONAL": "max_order_notional",
    "RISK_MAX_POSITION": "max_position_qty", "RISK_MAX_GROSS_EXPOSURE": "max_gross_exposure",
    "RISK_PRICE_COLLAR": "price_collar_pct", "RISK_STALE_QUOTE": "max_quote_age_s",
    "RISK_NO_QUOTE": "max_quote_age_s", "RISK_RATE_LIMIT": "max_orders_per_second",
    "RISK_BUYING_POWER": "buying_power", "RISK_SHORT_SALE": "short_sale",
    "RISK_DAILY_LOSS": "daily_loss_limit", "RISK_MAX_DRAWDOWN": "max_drawdown_pct",
    "TRADING_REDUCING": "trading_state (reducing)", "TRADING_HALTED": "trading_state (halted)",
}


def is_risk_code(code: str) -> bool:
    return code.startswith("RISK_") or code in ("TRADING_REDUCING", "TRADING_HALTED")


@dataclass(frozen=True, slots=True)
class Refusal:
    ts: int
    account_id: str
    symbol: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class StateChange:
    ts: int
    scope: str
    state: str
    reason: str
    actor: str


@dataclass(slots=True)
class RiskDay:
    day: str
    start_ns: int
    end_ns: int
    accounts: list[Account] = field(default_factory=list)
    mark_sources: dict[str, str] = field(default_factory=dict)  # symbol -> bar|last_fill|fold
    refusals: list[Refusal] = field(default_factory=list)
    state_changes: list[StateChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. the day reaches an archived range


class _Fold:
    def __init__(self, state: KernelState, day: RiskDay) -> None:
        self.state = state
        self.day = day
        self.last_fill: dict[str, Decimal] = {}

    def apply(self, seq: int, event: Any) -> None:
        kind = type(event)
        self.state.apply(seq, event)
        if kind is OrderFilled:
            order = self.state.orders.get(event.order_id)
            if order is not None:
                self.last_fill[order.symbol] = event.price
        if event.ts < self.day.start_ns:
            return
        if kind is OrderRejected and not event.account_id.startswith("_") \
                and is_risk_code(event.code):
            self.day.refusals.append(Refusal(event.ts, event.account_id,
                                             event.request.symbol, event.code, event.reason))
        elif kind is TradingStateChanged:
            self.day.state_changes.append(StateChange(
                event.ts, event.account_id or "platform", event.state.value, event.reason,
                event.actor))


def _bar_marks(conn: Connection, symbols: set[str], end_ns: int) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for symbol in sorted(symbols):
        close = conn.execute(select(bars.c.close).where(
            bars.c.symbol == symbol, bars.c.ts < end_ns).order_by(bars.c.ts.desc())
            .limit(1)).scalar()
        if close is not None:
            out[symbol] = Decimal(close)
    return out


def _remark(conn: Connection, fold: _Fold) -> None:
    state, day = fold.state, fold.day
    held = {p.symbol for a in state.accounts.values() if not a.id.startswith("_")
            for p in a.positions.values() if p.qty}
    from_bars = _bar_marks(conn, held, day.end_ns)
    for symbol in sorted(held):
        mark, source = from_bars.get(symbol), "bar"
        if mark is None:
            mark, source = fold.last_fill.get(symbol), "last_fill"
        if mark is None:
            day.mark_sources[symbol] = "fold"
            continue
        state.remark(symbol, mark)
        day.mark_sources[symbol] = source


def read_risk_day(database_url: str, day: date) -> RiskDay:
    """The accounts at the end of `day` (New York) and its risk refusals."""
    start_ns, end_ns = day_window(day)
    out = RiskDay(day.isoformat(), start_ns, end_ns)
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as conn:
            fold = _Fold(base_state(conn, start_ns), out)
            for seq, event in codec.events(journal_records(conn, fold.state.seq),
                                           fold.state.seq):
                if event.ts >= end_ns:
                    break
                fold.apply(seq, event)
            _remark(conn, fold)
            note = archived_note(conn, start_ns)
            if note is not None:
                out.notes.append(note)
    finally:
        engine.dispose()
    out.accounts = sorted((a for a in fold.state.accounts.values()
                           if not a.id.startswith("_")), key=lambda a: a.id)
    return out
