"""The kernel's commands off the per-order path, mixed into `Kernel` (kernel/kernel.py).

Accounts and risk limits, cancel-all and cancel/replace, the trading state (halts, resume,
maintenance, closing every position), what a breached loss limit does, and the session roll;
strategy instances and equity snapshots come from its bases (kernel/instance_commands.py,
kernel/equity_commands.py).
They run rarely, so they live apart from the order and quote paths that `Kernel` keeps
together (and that `benchmarks/kernel.py` measures); they are the same single writer's
commands, run to completion one at a time, emitting events through `Kernel._emit`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import (
    DuplicateClientOrderIdError,
    InvalidOrderError,
    OrderStateError,
    RefusedError,
)
from mcp_trading.domain.events import (
    AccountOpened,
    LimitsSet,
    MaintenanceChanged,
    OrderCanceled,
    OrderExpired,
    OrderReplaced,
    TradingDayStarted,
    TradingStateChanged,
)
from mcp_trading.domain.orders import (
    WORKING,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from mcp_trading.domain.pretrade import PreTradeResult, check_order
from mcp_trading.domain.risk import Reason, Refusal, RiskLimits, fmt_money
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel.dedupe import unpack
from mcp_trading.kernel.equity_commands import EquityCommands
from mcp_trading.kernel.instance_commands import InstanceCommands

if TYPE_CHECKING:
    from mcp_trading.domain.events import Event
    from mcp_trading.domain.instruments import Instrument
    from mcp_trading.domain.sessions import SessionCalendar
    from mcp_trading.kernel.kernel import KernelConfig
    from mcp_trading.kernel.ports import Clock
    from mcp_trading.kernel.state import KernelState

__all__ = ["DEFAULTS_ACTOR", "CloseResult", "KernelCommands", "OrderRefusedError"]

DEFAULTS_ACTOR = "platform:defaults"  # who set the limits a journal or an account starts with

_ACCEPTED = OrderStatus.ACCEPTED
_ACTIVE = TradingState.ACTIVE
_BUY = OrderSide.BUY
_DAY = TimeInForce.DAY
_HALTED = TradingState.HALTED
_HALTED_NEW_ORDERS = TradingState.HALTED_NEW_ORDERS
_MARKET = OrderType.MARKET
_NEW = OrderStatus.NEW
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_REDUCING = TradingState.REDUCING
_SELL = OrderSide.SELL
_TRAILING_STOP = OrderType.TRAILING_STOP

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class OrderRefusedError(RefusedError):
    """A command the kernel would not carry out; nothing was changed."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.code = refusal.code
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class CloseResult:
    symbol: str
    account_id: str
    order: Order | None
    refusal: Refusal | None


class KernelCommands(InstanceCommands, EquityCommands):
    """The rare commands of `Kernel`; a mixin, never used alone (strategy instances' from
    kernel/instance_commands.py, equity snapshots' from kernel/equity_commands.py)."""

    if TYPE_CHECKING:  # what these commands use of the Kernel they are mixed into
        config: KernelConfig
        clock: Clock
        calendar: SessionCalendar
        state: KernelState
        instruments: dict[str, Instrument]

        def _emit(self, event: Event) -> None: ...
        def _next_order_id(self) -> str: ...
        def _account(self, account_id: str) -> Account: ...
        def _session_open(self, ts: int) -> bool: ...
        def _archived_entry(self, account_id: str, client_order_id: str) -> bytes | None: ...
        def get_order(self, order_id: str, account_id: str | None = None) -> Order: ...
        def submit_checked(self, account: Account, r: OrderRequest, ref_price: Decimal | None,
                           reserve: Decimal, ts: int, *, replaces: str | None,
                           attribution: str | None, session_open: bool | None = None
                           ) -> Order: ...

    # ---- accounts and limits --------------------------------------------------------------
    def ensure_default_account(self) -> None:
        """Open the default account if missing; a fresh journal (nothing recorded yet) first
        records the configured initial limits, so they show in the limits audit."""
        fresh = self.state.seq == 0
        initial = self.config.initial_limits
        if fresh and initial:
            self.set_limits(None, initial, actor=DEFAULTS_ACTOR)
        if self.config.default_account not in self.state.accounts:
            self.open_account(self.config.default_account, self.config.default_cash)

    def open_account(self, account_id: str, cash: Decimal, *, currency: str | None = None,
                     allow_short: bool = False, internal: bool = False) -> Account:
        if not account_id or len(account_id) > 64 or not account_id.replace("-", "").replace(
                "_", "").isalnum():
            raise InvalidOrderError("account_id", "must be 1-64 letters, digits, '-' or '_'")
        if account_id in self.state.accounts:
            raise OrderRefusedError(Refusal("ACCOUNT_EXISTS", f"account {account_id!r} already exists"))
        if cash < _ZERO:
            raise InvalidOrderError("cash", f"must be >= 0, got {cash}")
        self._emit(AccountOpened(account_id, currency or self.config.currency, cash, allow_short,
                                 self.clock.now_ns(), internal))
        defaults = self.config.account_limits
        if defaults and not internal:
            self.set_limits(account_id, defaults, actor=DEFAULTS_ACTOR)
        return self.state.accounts[account_id]

    def set_limits(self, account_id: str | None, changes: dict[str, object], *, actor: str) -> RiskLimits:
        """Change risk limits (validated first; an invalid change changes nothing)."""
        current = self.state.global_limits if account_id is None else self._account(account_id).limits
        updated = current.updated(changes)
        self._emit(LimitsSet(account_id, updated.to_wire(), actor, self.clock.now_ns()))
        return updated

    # ---- cancel all, cancel/replace -------------------------------------------------------
    def cancel_all(self, *, account_id: str | None = None, symbol: str | None = None,
                   reason: str = "cancel all") -> list[Order]:
        orders = [o for a in self._accounts(account_id) for o in list(a.open_orders.values())
                  if symbol is None or o.symbol == symbol]
        ts = self.clock.now_ns()
        for order in orders:
            self._emit(OrderCanceled(order.id, reason, ts))
        return orders

    def replace(self, order_id: str, *, account_id: str | None = None,
                qty: Decimal | None = None, limit_price: Decimal | None = None,
                stop_price: Decimal | None = None, trail: Decimal | None = None,
                time_in_force: TimeInForce | None = None, client_order_id: str | None = None,
                attribution: str | None = None) -> Order:
        """Cancel/replace: a new order linked to the old. Refused replaces change nothing."""
        old = self.get_order(order_id, account_id)
        # roll first: a day order past its session's close expires here and cannot be replaced
        ts = self.clock.now_ns()
        self._roll_session(ts)
        if old.status not in (_ACCEPTED, _NEW, _PARTIALLY_FILLED):
            raise OrderStateError(f"order {order_id} is {old.status}; only working orders can be replaced")
        if all(v is None for v in (qty, limit_price, stop_price, trail, time_in_force)):
            raise InvalidOrderError("qty", "a replace must change at least one of qty, limit_price, "
                                           "stop_price, trail, time_in_force")
        request = _replacement(old, qty=qty, limit_price=limit_price, stop_price=stop_price,
                               trail=trail, time_in_force=time_in_force,
                               client_order_id=client_order_id)
        request.check_shape()
        instrument = self.instruments[request.symbol]
        request.check_instrument(instrument)
        account = self._account(old.account_id)
        if client_order_id is not None:
            self._check_unused_client_id(account, client_order_id)
        result = self._check_replacing(old, request, account, instrument, ts)
        if result.refusal is not None:
            raise OrderRefusedError(result.refusal)
        new_id = self._next_order_id()
        self._emit(OrderReplaced(old.id, new_id, ts))
        return self.submit_checked(account, request, result.ref_price, result.reserve, ts,
                                   replaces=old.id, attribution=attribution or old.attribution)

    def _check_unused_client_id(self, account: Account, client_order_id: str) -> None:
        """A replacement's client_order_id must be new: neither live nor closed nor archived."""
        if client_order_id in account.by_client_id:
            raise DuplicateClientOrderIdError(client_order_id,
                                              account.by_client_id[client_order_id].id)
        entry = (self.state.closed_entry(account.id, client_order_id)
                 or self._archived_entry(account.id, client_order_id))
        if entry is not None:
            raise DuplicateClientOrderIdError(client_order_id, unpack(entry)[0])

    def _check_replacing(self, old: Order, request: OrderRequest, account: Account,
                         instrument: Instrument, ts: int) -> PreTradeResult:
        """The pre-trade checks of a replacement, as if the old order were gone (it is put
        back whatever they answer)."""
        book = self.state.venue.book(request.symbol)
        leaves = old.qty - old.filled_qty
        account.reserved -= old.reserved
        account.add_open(old, -leaves)
        try:
            return check_order(request, account, instrument, book.quote, self.state, ts=ts,
                               session_open=self._session_open(ts))
        finally:
            account.reserved += old.reserved
            account.add_open(old, leaves)

    # ---- trading state --------------------------------------------------------------------
    def _accounts(self, account_id: str | None) -> Iterable[Account]:
        return self.state.accounts.values() if account_id is None else (self._account(account_id),)

    def halt(self, *, level: TradingState = _HALTED, account_id: str | None = None,
             reason: str, actor: str, cancel_working: bool | None = None) -> list[Order]:
        """Move the platform (or one account) to a halt level; HALTED cancels working orders
        in the same step, so no order can fill between the halt and the cancels."""
        if level not in (_HALTED, _HALTED_NEW_ORDERS, _REDUCING):
            raise InvalidOrderError("level", "must be halted, halted_new_orders or reducing")
        if account_id is not None:
            self._account(account_id)
        self._emit(TradingStateChanged(account_id, level, reason, actor, self.clock.now_ns()))
        cancel = level is _HALTED if cancel_working is None else cancel_working
        return self.cancel_all(account_id=account_id, reason=f"halt: {reason}") if cancel else []

    def resume(self, *, account_id: str | None = None, reason: str, actor: str) -> None:
        if account_id is not None:
            self._account(account_id)
        self._emit(TradingStateChanged(account_id, _ACTIVE, reason, actor,
                                       self.clock.now_ns()))

    def set_maintenance(self, active: bool, *, reason: str, actor: str) -> bool:
        """Enter or leave maintenance mode; returns whether anything changed."""
        if (self.state.maintenance is not None) == active:
            return False
        self._emit(MaintenanceChanged(active, reason, actor, self.clock.now_ns()))
        return True

    def trading_state(self, account_id: str | None = None) -> TradingState:
        if account_id is None:
            return self.state.platform_state
        return self._account(account_id).state

    def close_all_positions(self, *, account_id: str | None = None, reason: str,
                            actor: str) -> list[CloseResult]:
        """Flatten every position with reduce-only market orders; allowed while halted.

        Working orders of the affected accounts are canceled first so none can reopen a
        position. Pre-trade limits do not apply to these orders; the session and a quote do.
        """
        results: list[CloseResult] = []
        ts = self.clock.now_ns()
        self._roll_session(ts)
        session_open = self._session_open(ts)
        for account in list(self._accounts(account_id)):
            self.cancel_all(account_id=account.id, reason=f"close all positions: {reason}")
            for symbol, position in list(account.positions.items()):
                if position.qty == _ZERO:
                    continue
                quote = self.state.venue.book(symbol).quote
                refusal = None
                if not session_open:
                    refusal = Refusal(Reason.MARKET_CLOSED.value, f"the market for {symbol} is closed")
                elif quote is None:
                    refusal = Refusal(Reason.NO_QUOTE.value, f"no quote for {symbol}")
                if refusal is not None:
                    results.append(CloseResult(symbol, account.id, None, refusal))
                    continue
                side = _SELL if position.qty > _ZERO else _BUY
                request = OrderRequest(symbol=symbol, qty=abs(position.qty), side=side,
                                       type=_MARKET, time_in_force=_DAY)
                assert quote is not None
                order = self.submit_checked(account, request, quote.mark, _ZERO, ts, replaces=None,
                                            attribution=f"close-all:{actor}")
                results.append(CloseResult(symbol, account.id, order, None))
        return results

    # ---- what a breached loss limit does --------------------------------------------------
    def _loss_breach(self, account: Account, equity: Decimal, ts: int) -> None:
        limits = account.limits
        state = account.state
        ccy = account.currency
        if limits.max_drawdown_pct is not None and state is not _HALTED:
            peak = account.day_peak_equity
            drawdown = (peak - equity) / peak * _HUNDRED if peak > _ZERO else _ZERO
            if drawdown >= limits.max_drawdown_pct:
                self.halt(account_id=account.id, reason=(
                    f"{Reason.MAX_DRAWDOWN.value}: drawdown {drawdown:.2f}% from the day's peak "
                    f"{fmt_money(peak, ccy)}; limit is {limits.max_drawdown_pct}%"), actor="risk")
                return
        if limits.daily_loss_limit is not None and state is _ACTIVE:
            pnl = equity - account.day_start_equity
            if pnl <= -limits.daily_loss_limit:
                self._emit(TradingStateChanged(account.id, _REDUCING, (
                    f"{Reason.DAILY_LOSS.value}: daily P&L {fmt_money(pnl, ccy)}; "
                    f"limit is -{fmt_money(limits.daily_loss_limit, ccy)}"), "risk", ts))

    def _platform_loss_breach(self, ts: int) -> None:
        """Global loss limits act on the platform's total equity (all accounts together)."""
        state = self.state
        limits = state.global_limits
        equity = state.equity
        ccy = self.config.currency
        level = state.platform_state
        if limits.max_drawdown_pct is not None and level is not _HALTED:
            peak = state.platform_day_peak
            drawdown = (peak - equity) / peak * _HUNDRED if peak > _ZERO else _ZERO
            if drawdown >= limits.max_drawdown_pct:
                self.halt(reason=(
                    f"{Reason.MAX_DRAWDOWN.value}: platform drawdown {drawdown:.2f}% from the "
                    f"day's peak {fmt_money(peak, ccy)}; global limit is {limits.max_drawdown_pct}%"),
                    actor="risk")
                return
        if limits.daily_loss_limit is not None and level is _ACTIVE:
            pnl = equity - state.platform_day_start
            if pnl <= -limits.daily_loss_limit:
                self._emit(TradingStateChanged(None, _REDUCING, (
                    f"{Reason.DAILY_LOSS.value}: platform daily P&L {fmt_money(pnl, ccy)}; "
                    f"global limit is -{fmt_money(limits.daily_loss_limit, ccy)}"), "risk", ts))

    # ---- the session ----------------------------------------------------------------------
    def _roll_session(self, ts: int) -> None:
        """At a session's close, expire day orders; start the session that covers `ts`."""
        state = self.state
        session = state.session
        if session is not None and ts < session.close_ns:
            return
        if session is not None:
            if self.config.equity_at_close:  # valued before the day's orders expire
                self._close_snapshot(session.day, ts)
            for order in [o for a in state.accounts.values() for o in a.open_orders.values()]:
                if order.time_in_force is _DAY and order.status in WORKING:
                    self._emit(OrderExpired(order.id, session.close_ns))
        nxt = self.calendar.session_at(ts)
        self._emit(TradingDayStarted(
            nxt.day, nxt.open_ns, nxt.close_ns,
            {a.id: a.equity for a in state.accounts.values()}, ts))
        # a daily loss limit is daily: its REDUCING ends with the day (a drawdown halt does not)
        prefix = Reason.DAILY_LOSS.value
        if state.platform_state is _REDUCING and state.platform_reason.startswith(prefix):
            self._emit(TradingStateChanged(None, _ACTIVE, "new trading day: daily loss limit reset",
                                           "risk", ts))
        for account in state.accounts.values():
            if account.state is _REDUCING and account.state_reason.startswith(prefix):
                self._emit(TradingStateChanged(account.id, _ACTIVE,
                                               "new trading day: daily loss limit reset", "risk", ts))

    def tick(self) -> None:
        """Timer: expire day orders at the session close even when no quote arrives."""
        self._roll_session(self.clock.now_ns())


def _replacement(old: Order, *, qty: Decimal | None, limit_price: Decimal | None,
                 stop_price: Decimal | None, trail: Decimal | None,
                 time_in_force: TimeInForce | None, client_order_id: str | None) -> OrderRequest:
    """The request that replaces `old`: its own fields, with the changes a replace may make."""
    base = old.request
    trail_price, trail_percent = base.trail_price, base.trail_percent
    if trail is not None:
        if base.type is not _TRAILING_STOP:
            raise InvalidOrderError("trail", f"only trailing_stop orders have a trail, not {base.type}")
        trail_price, trail_percent = (trail, None) if trail_price is not None else (None, trail)
    if limit_price is not None and base.limit_price is None:
        raise InvalidOrderError("limit_price", f"{base.type} orders have no limit price")
    if stop_price is not None and base.stop_price is None:
        raise InvalidOrderError("stop_price", f"{base.type} orders have no stop price")
    return OrderRequest(
        symbol=base.symbol, qty=qty if qty is not None else old.qty - old.filled_qty,
        side=base.side, type=base.type,
        time_in_force=time_in_force or base.time_in_force,
        limit_price=limit_price if limit_price is not None else base.limit_price,
        stop_price=stop_price if stop_price is not None else (
            base.stop_price if base.type is not _TRAILING_STOP else None),
        trail_price=trail_price, trail_percent=trail_percent,
        client_order_id=client_order_id, extended_hours=base.extended_hours)
