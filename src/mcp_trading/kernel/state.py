"""The kernel's state and the one function that changes it: `apply(event)`.

Live decisions and journal replay go through the same appliers, so replaying the journal
rebuilds exactly the book the kernel had: orders, fills, positions, cash, limits, states.
Marks (the latest quote per symbol) and the intraday equity peak come from the market, not
from the journal; snapshots carry them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.events import (
    AccountOpened,
    EquitySnapshotted,
    Event,
    LimitsSet,
    MaintenanceChanged,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderRouted,
    OrderTrailMoved,
    OrderTriggered,
    StrategyInstanceStarted,
    StrategyInstanceStopped,
    TradingDayStarted,
    TradingStateChanged,
)
from mcp_trading.domain.instances import InstanceStatus, StrategyInstance
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.models import SlippageModel
from mcp_trading.domain.orders import TRANSITIONS, Order, OrderSide, Trigger
from mcp_trading.domain.positions import Position
from mcp_trading.domain.risk import RiskLimits, loss_floor
from mcp_trading.domain.sessions import Session
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.domain.venue import Venue
from mcp_trading.kernel.dedupe import DedupeIndex, pack, request_digest

__all__ = ["KernelState"]

# enum members bound once: attribute access on an Enum class costs ~100 ns on the hot path
_ACCEPT = Trigger.ACCEPT
_ACTIVE = TradingState.ACTIVE
_BUY = OrderSide.BUY
_CANCEL = Trigger.CANCEL
_EXPIRE = Trigger.EXPIRE
_FILL = Trigger.FILL
_PARTIAL_FILL = Trigger.PARTIAL_FILL
_REJECT = Trigger.REJECT
_REPLACE = Trigger.REPLACE
_ROUTE = Trigger.ROUTE

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_NS = 1_000_000_000

# where a new order's first transitions lead (looked up once; a missing entry fails at import)
_ACCEPTED = TRANSITIONS[(None, _ACCEPT)]
_ROUTED = TRANSITIONS[(_ACCEPTED, _ROUTE)]


class KernelState:
    """Everything the single writer owns, plus the appliers that fold events into it."""

    def __init__(self, instruments: dict[str, Instrument], slippage: SlippageModel) -> None:
        self.instruments = instruments
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self.venue = Venue(instruments, slippage)
        self.platform_state = _ACTIVE
        self.platform_reason = ""
        self.maintenance: str | None = None
        self.global_limits = RiskLimits()
        self.recent_orders: deque[int] = deque()
        self.session: Session | None = None
        #: the last close equity snapshot's day (kernel/equity_commands.py; not in snapshots)
        self.closed_day: str | None = None
        self.marks: dict[str, Decimal] = {}
        self.holders: dict[str, list[Account]] = {}  # symbol -> accounts with a Position object
        self.gross_value = _ZERO  # Σ accounts' gross exposure, kept with every fill and mark
        self.net_qty: dict[str, Decimal] = {}  # symbol -> Σ accounts' net position
        self.equity = _ZERO  # Σ accounts' equity, kept with every fill and mark
        self.platform_day_start = _ZERO  # Σ equity at the start of the trading day
        self.platform_day_peak = _ZERO
        self.platform_floor: Decimal | None = None  # as Account.loss_floor, for global limits
        self.seq = 0
        self.order_count = 0
        #: closed orders still in `orders`, with the seq that closed them, oldest first:
        #: `release(upto)` drops them once the projections hold that seq
        #: (two deques, not one of tuples: an int deque is not tracked by the cyclic GC)
        self.closing: deque[Order] = deque()
        self.closing_seqs: deque[int] = deque()
        #: (account, client_order_id) -> packed (order id, request digest) of released orders
        self.dedupe = DedupeIndex()
        #: live strategy instances, running and stopped (domain/instances.py), by id
        self.instances: dict[str, StrategyInstance] = {}
        self.appliers: dict[type[Any], Callable[[Any], None]] = {
            AccountOpened: self._account_opened,
            OrderAccepted: self._accepted,
            OrderRejected: self._rejected,
            OrderRouted: self._routed,
            OrderFilled: self._filled,
            OrderCanceled: self._canceled,
            OrderExpired: self._expired,
            OrderReplaced: self._replaced,
            OrderTriggered: self._triggered,
            OrderTrailMoved: self._trail_moved,
            TradingStateChanged: self._state_changed,
            LimitsSet: self._limits_set,
            TradingDayStarted: self._day_started,
            MaintenanceChanged: self._maintenance,
            StrategyInstanceStarted: self._instance_started,
            StrategyInstanceStopped: self._instance_stopped,
            EquitySnapshotted: self._equity_snapshotted,  # history for reports, not the book
        }

    def net_position(self, symbol: str) -> Decimal:
        return self.net_qty.get(symbol, _ZERO)

    def refresh_platform_floor(self) -> None:
        self.platform_floor = loss_floor(self.global_limits, self.platform_day_start,
                                         self.platform_day_peak)

    def recount(self) -> None:
        """Recompute the platform totals from the accounts (after loading a snapshot)."""
        books = [a for a in self.accounts.values() if not a.internal]
        self.equity = sum((a.cash + a.position_value for a in books), _ZERO)
        self.gross_value = sum((a.gross_value for a in books), _ZERO)
        self.net_qty = {}
        for account in books:
            for symbol, position in account.positions.items():
                self.net_qty[symbol] = self.net_qty.get(symbol, _ZERO) + position.qty

    def remark(self, symbol: str, mark: Decimal) -> list[Account] | None:
        """Value `symbol` at `mark`: re-mark its holders and the platform totals (a market
        input, not an event). Returns the holders, for the caller's loss-limit checks."""
        self.marks[symbol] = mark
        holders = self.holders.get(symbol)
        if holders:
            for account in holders:
                gross, value = account.gross_value, account.position_value
                account.remark(account.positions[symbol], mark)
                if not account.internal:
                    self.gross_value += account.gross_value - gross
                    self.equity += account.position_value - value
        return holders

    def closed_entry(self, account_id: str, client_order_id: str) -> bytes | None:
        """The duplicate-check entry of a released order (see kernel.dedupe), or None."""
        return self.dedupe.get(account_id, client_order_id)

    def release(self, upto_seq: int, limit: int | None = None) -> int:
        """Drop closed orders whose closing event is at or before `upto_seq` from the hot
        state, keeping only their duplicate-check entry; returns how many were dropped.

        The caller passes the projections' durable watermark, so every order dropped here
        can be read, in its final state, from the projection tables. `limit` bounds the
        orders dropped in one call (the rest wait for the next); the ladders are compacted
        once nothing more is due.
        """
        closing, seqs = self.closing, self.closing_seqs
        orders = self.orders
        accounts = self.accounts
        dedupe = self.dedupe
        released = 0
        while seqs and seqs[0] <= upto_seq and (limit is None or released < limit):
            seqs.popleft()
            order = closing.popleft()
            orders.pop(order.id, None)
            account = accounts[order.account_id]
            coid = order.client_order_id
            if account.by_client_id.get(coid) is order:
                del account.by_client_id[coid]
            if order.request.client_order_id is not None:
                dedupe.add(account.id, coid, pack(order.id, request_digest(order.request)))
            released += 1
        if released and not (seqs and seqs[0] <= upto_seq):
            venue = self.venue
            for symbol in venue.books:  # ladders hold closed orders until compacted
                venue.forget(symbol)
            # rate windows are pruned by the rate check only when a rate limit is set
            for window in (self.recent_orders, *(a.recent_orders for a in accounts.values())):
                if window:
                    horizon = window[-1] - _NS
                    while window[0] <= horizon:
                        window.popleft()
        return released

    def apply(self, seq: int, event: Event) -> None:
        self.seq = seq
        self.appliers[type(event)](event)

    # ---- appliers -----------------------------------------------------------------------
    def _account_opened(self, ev: AccountOpened) -> None:
        self.accounts[ev.account_id] = Account(
            ev.account_id, ev.cash, currency=ev.currency, allow_short=ev.allow_short,
            internal=ev.internal)
        if not ev.internal:
            self.equity += ev.cash

    def _new_order(self, ev: OrderAccepted | OrderRejected) -> Order:
        order = Order(ev.order_id, ev.account_id, ev.request, ts=ev.ts)
        order.attribution = ev.attribution
        self.orders[ev.order_id] = order
        self.order_count += 1
        account = self.accounts[ev.account_id]
        account.by_client_id[order.client_order_id] = order
        return order

    def _accepted(self, ev: OrderAccepted) -> None:
        # the hot path of every order: fields as locals, the helpers inlined
        (order_id, account_id, request, ref_price, reserved, routed, active_at, replaces,
         attribution, ts, _) = ev
        order = Order(order_id, account_id, request, ts=ts)
        # a new order's first steps are always legal: their statuses come from the table
        order.status = _ROUTED if routed else _ACCEPTED
        order.attribution = attribution
        order.ref_price = ref_price
        order.reserved = reserved
        order.active_at = active_at
        order.replaces = replaces
        self.orders[order_id] = order
        self.order_count += 1
        account = self.accounts[account_id]
        account.by_client_id[order.client_order_id] = order
        account.open_orders[order_id] = order
        account.reserved += reserved
        symbol = order.symbol
        side_book = account.open_buy if order.side is _BUY else account.open_sell
        side_book[symbol] = side_book.get(symbol, _ZERO) + order.qty
        account.recent_orders.append(ts)
        self.recent_orders.append(ts)
        if symbol not in self.venue.books:
            self.venue.book(symbol)

    def _rejected(self, ev: OrderRejected) -> None:
        order = self._new_order(ev)
        order.transition(_REJECT)
        self.closing.append(order)
        self.closing_seqs.append(self.seq)
        order.reject_code = ev.code
        order.reject_reason = ev.reason

    def _routed(self, ev: OrderRouted) -> None:
        order = self.orders[ev.order_id]
        order.transition(_ROUTE)
        order.updated_at = ev.ts

    def _filled(self, ev: OrderFilled) -> None:
        order_id, qty, price, commission, ts = ev
        order = self.orders[order_id]
        order_qty, filled_before = order.qty, order.filled_qty
        leaves = order_qty - filled_before
        if qty > leaves or qty <= _ZERO:
            raise ValueError(f"fill of {qty} on order {order_id} with {leaves} left")
        filled = filled_before + qty
        avg = order.filled_avg_price
        order.filled_avg_price = price if avg is None else (avg * filled_before + price * qty) / filled
        order.filled_qty = filled
        complete = filled == order_qty
        order.transition(_FILL if complete else _PARTIAL_FILL)
        order.updated_at = ts
        account = self.accounts[order.account_id]
        reserved = order.reserved
        if reserved:
            # a partial release is cut to the cent so reservations stay exact sums (a raw
            # reserved * qty / leaves is rounded at 28 digits and the account total drifts)
            release = reserved if qty == leaves else (reserved * qty / leaves).quantize(
                _CENT, rounding=ROUND_DOWN)
            order.reserved = reserved - release
            account.reserved -= release
        symbol = order.symbol
        buy = order.side is _BUY
        side_book = account.open_buy if buy else account.open_sell
        side_book[symbol] = side_book.get(symbol, _ZERO) - qty
        if complete:
            order.filled_at = ts
            del account.open_orders[order_id]
            self.closing.append(order)
            self.closing_seqs.append(self.seq)
        position = account.positions.get(symbol)
        if position is None:
            position = account.positions[symbol] = Position(symbol, self.marks.get(symbol))
            self.holders.setdefault(symbol, []).append(account)
        mark = position.mark
        if mark is None:
            mark = position.mark = price
        signed = qty if buy else -qty
        old_abs = abs(position.qty)
        account.realized_pnl += position.apply_fill(signed, price)
        value_delta = signed * mark
        account.position_value += value_delta
        gross_delta = (abs(position.qty) - old_abs) * mark
        account.gross_value += gross_delta
        cash_delta = signed * price + commission
        account.cash -= cash_delta
        if not account.internal:  # platform totals are the customers' books
            self.gross_value += gross_delta
            net_qty = self.net_qty
            net_qty[symbol] = net_qty.get(symbol, _ZERO) + signed
            self.equity += value_delta - cash_delta
        account.commissions += commission

    def _close(self, order: Order, trigger: Trigger, ts: int) -> None:
        order.transition(trigger)
        order.updated_at = ts
        self.closing.append(order)
        self.closing_seqs.append(self.seq)
        account = self.accounts[order.account_id]
        account.open_orders.pop(order.id, None)
        account.add_open(order, -(order.qty - order.filled_qty))
        if order.reserved:
            account.reserved -= order.reserved
            order.reserved = _ZERO

    def _canceled(self, ev: OrderCanceled) -> None:
        order = self.orders[ev.order_id]
        self._close(order, _CANCEL, ev.ts)
        order.canceled_at = ev.ts

    def _expired(self, ev: OrderExpired) -> None:
        order = self.orders[ev.order_id]
        self._close(order, _EXPIRE, ev.ts)
        order.expired_at = ev.ts

    def _replaced(self, ev: OrderReplaced) -> None:
        order = self.orders[ev.order_id]
        self._close(order, _REPLACE, ev.ts)
        order.replaced_by = ev.replaced_by
        order.replaced_at = ev.ts

    def _triggered(self, ev: OrderTriggered) -> None:
        order = self.orders[ev.order_id]
        order.triggered = True
        order.updated_at = ev.ts

    def _trail_moved(self, ev: OrderTrailMoved) -> None:
        order = self.orders[ev.order_id]
        order.watermark = ev.watermark
        order.stop_price = ev.stop_price
        order.updated_at = ev.ts

    def _state_changed(self, ev: TradingStateChanged) -> None:
        if ev.account_id is None:
            self.platform_state = ev.state
            self.platform_reason = ev.reason
        else:
            account = self.accounts[ev.account_id]
            account.state = ev.state
            account.state_reason = ev.reason

    def _limits_set(self, ev: LimitsSet) -> None:
        limits = RiskLimits.from_wire(ev.limits)
        if ev.account_id is None:
            self.global_limits = limits
            self.refresh_platform_floor()
        else:
            account = self.accounts[ev.account_id]
            account.limits = limits
            account.refresh_floor()

    def _maintenance(self, ev: MaintenanceChanged) -> None:
        self.maintenance = (ev.reason or "maintenance") if ev.active else None

    def _day_started(self, ev: TradingDayStarted) -> None:
        self.session = Session(ev.day, ev.session_open, ev.session_close)
        for account_id, equity in ev.equities.items():
            account = self.accounts[account_id]
            account.day_start_equity = equity
            account.day_peak_equity = equity
            account.refresh_floor()
        self.platform_day_start = self.platform_day_peak = sum(
            (e for a, e in ev.equities.items() if not self.accounts[a].internal), _ZERO)
        self.refresh_platform_floor()


    def _instance_started(self, ev: StrategyInstanceStarted) -> None:
        self.instances[ev.instance_id] = StrategyInstance(
            ev.instance_id, ev.strategy, ev.params, ev.account_id, tuple(ev.symbols),
            ev.timeframe, ev.started_by, ev.ts)

    def _instance_stopped(self, ev: StrategyInstanceStopped) -> None:
        instance = self.instances[ev.instance_id]
        instance.status = InstanceStatus.STOPPED
        instance.stopped_at, instance.stop_reason, instance.stopped_by = ev.ts, ev.reason, ev.actor

    def _equity_snapshotted(self, ev: EquitySnapshotted) -> None:
        """A valuation changes nothing of the book; a close one marks its day as valued."""
        if ev.reason == "close":
            self.closed_day = ev.day
