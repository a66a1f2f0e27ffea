"""The projection fold: journal events into order, fill, account and position rows (no I/O).

A `ProjectionBatch` starts from the rows a batch touches (loaded by the projector), folds the
batch's events into them in memory, and reports what to insert and what to update.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from mcp_trading.domain.errors import TradingError
from mcp_trading.domain.events import (
    AccountOpened,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderRouted,
    OrderTrailMoved,
    TradingStateChanged,
)
from mcp_trading.domain.orders import OrderSide, OrderStatus
from mcp_trading.domain.positions import Position
from mcp_trading.domain.trading_state import TradingState

__all__ = ["ORDER_EVENTS", "ProjectionBatch", "ProjectionError", "Row", "referenced_orders"]

Row = dict[str, Any]
PositionKey = tuple[str, str]  # (account_id, symbol)

_ZERO = Decimal(0)
#: events that change an order created by an earlier OrderAccepted
ORDER_EVENTS = (OrderRouted, OrderFilled, OrderCanceled, OrderExpired, OrderReplaced,
                OrderTrailMoved)


class ProjectionError(TradingError, RuntimeError):
    """The journal cannot be folded into the projections (it names an unknown order/account)."""


def referenced_orders(events: Iterable[tuple[int, Event]]) -> set[str]:
    """Orders the batch changes but does not create: the projector loads these first."""
    created: set[str] = set()
    touched: set[str] = set()
    for _, event in events:
        if isinstance(event, (OrderAccepted, OrderRejected)):
            created.add(event.order_id)
        elif isinstance(event, ORDER_EVENTS) and event.order_id not in created:
            touched.add(event.order_id)
    return touched


class ProjectionBatch:
    """Rows touched by one batch, folded forward event by event."""

    def __init__(self, orders: dict[str, Row], accounts: dict[str, Row],
                 positions: dict[PositionKey, Row]) -> None:
        self.orders = orders
        self.accounts = accounts
        self.positions: dict[PositionKey, Position] = {}
        self.position_ts: dict[PositionKey, int] = {}
        for key, row in positions.items():
            position = Position(key[1])
            position.qty = row["qty"]
            position.avg_entry_price = row["avg_entry_price"]
            position.realized_pnl = row["realized_pnl"]
            self.positions[key] = position
            self.position_ts[key] = row["updated_at"]
        self.fills: list[Row] = []
        self.new_orders: set[str] = set()
        self.changed_orders: set[str] = set()
        self.new_accounts: set[str] = set()
        self.changed_accounts: set[str] = set()
        self.new_positions: set[PositionKey] = set()
        self.changed_positions: set[PositionKey] = set()

    def apply(self, seq: int, event: Event) -> None:
        """Fold one event; events the projections do not show are ignored."""
        match event:
            case OrderAccepted():
                status = OrderStatus.NEW if event.routed else OrderStatus.ACCEPTED
                self._create_order(event, status, event.replaces)
            case OrderRejected():
                row = self._create_order(event, OrderStatus.REJECTED, None)
                row["reject_code"], row["reject_reason"] = event.code, event.reason
            case OrderRouted():
                row = self._order(seq, event.order_id)
                if row["status"] == OrderStatus.ACCEPTED:
                    self._set_order(event.order_id, event.ts, status=OrderStatus.NEW.value)
            case OrderFilled():
                self._fill(seq, event)
            case OrderCanceled():
                self._order(seq, event.order_id)
                self._set_order(event.order_id, event.ts, status=OrderStatus.CANCELED.value)
            case OrderExpired():
                self._order(seq, event.order_id)
                self._set_order(event.order_id, event.ts, status=OrderStatus.EXPIRED.value)
            case OrderReplaced():
                self._order(seq, event.order_id)
                self._set_order(event.order_id, event.ts, status=OrderStatus.REPLACED.value,
                                replaced_by=event.replaced_by)
            case OrderTrailMoved():
                self._order(seq, event.order_id)
                self._set_order(event.order_id, event.ts, stop_price=event.stop_price,
                                hwm=event.watermark)
            case AccountOpened():
                self._open_account(event)
            case TradingStateChanged(account_id=str(account_id)):
                self._account(seq, account_id)
                self._set_account(account_id, event.ts, trading_state=event.state.value)
            case _:
                pass

    def position_rows(self, keys: Iterable[PositionKey]) -> list[Row]:
        rows = []
        for key in keys:
            position = self.positions[key]
            rows.append({
                "account_id": key[0], "symbol": key[1], "qty": position.qty,
                "avg_entry_price": position.avg_entry_price,
                "realized_pnl": position.realized_pnl, "updated_at": self.position_ts[key],
            })
        return rows

    def _create_order(self, event: OrderAccepted | OrderRejected, status: OrderStatus,
                      replaces: str | None) -> Row:
        req = event.request
        row: Row = {
            "id": event.order_id, "account_id": event.account_id,
            "client_order_id": req.client_order_id, "symbol": req.symbol,
            "side": req.side.value, "type": req.type.value,
            "time_in_force": req.time_in_force.value, "qty": req.qty,
            "limit_price": req.limit_price, "stop_price": req.stop_price,
            "trail_price": req.trail_price, "trail_percent": req.trail_percent,
            "status": status.value, "filled_qty": _ZERO, "filled_avg_price": None,
            "reject_code": None, "reject_reason": None, "replaces": replaces,
            "replaced_by": None, "attribution": event.attribution,
            "created_at": event.ts, "updated_at": event.ts,
            "extended_hours": req.extended_hours, "hwm": None,
        }
        self.orders[event.order_id] = row
        self.new_orders.add(event.order_id)
        return row

    def _order(self, seq: int, order_id: str) -> Row:
        try:
            return self.orders[order_id]
        except KeyError:
            raise ProjectionError(
                f"journal seq {seq} changes order {order_id}, which no earlier OrderAccepted "
                "created; the projections cannot be derived from this journal"
            ) from None

    def _set_order(self, order_id: str, ts: int, **changes: Any) -> None:
        row = self.orders[order_id]
        row.update(changes, updated_at=ts)
        self.changed_orders.add(order_id)

    def _fill(self, seq: int, event: OrderFilled) -> None:
        order = self._order(seq, event.order_id)
        account_id, symbol = order["account_id"], order["symbol"]
        account = self._account(seq, account_id)
        filled: Decimal = order["filled_qty"]
        new_filled = filled + event.qty
        average = ((order["filled_avg_price"] or _ZERO) * filled
                   + event.qty * event.price) / new_filled
        status = OrderStatus.FILLED if new_filled >= order["qty"] else (
            OrderStatus.PARTIALLY_FILLED)
        self._set_order(event.order_id, event.ts, status=status.value, filled_qty=new_filled,
                        filled_avg_price=average)
        self.fills.append({
            "seq": seq, "order_id": event.order_id, "account_id": account_id,
            "symbol": symbol, "side": order["side"], "qty": event.qty, "price": event.price,
            "commission": event.commission, "ts": event.ts,
        })
        buy = order["side"] == OrderSide.BUY
        notional = event.qty * event.price
        realized = self._position(account_id, symbol, event.ts).apply_fill(
            event.qty if buy else -event.qty, event.price)
        cash = account["cash"] - notional - event.commission if buy else (
            account["cash"] + notional - event.commission)
        self._set_account(
            account_id, event.ts, cash=cash,
            commissions=account["commissions"] + event.commission,
            realized_pnl=account["realized_pnl"] + realized,
        )

    def _position(self, account_id: str, symbol: str, ts: int) -> Position:
        key = (account_id, symbol)
        position = self.positions.get(key)
        if position is None:
            position = self.positions[key] = Position(symbol)
            self.new_positions.add(key)
        self.position_ts[key] = ts
        self.changed_positions.add(key)
        return position

    def _open_account(self, event: AccountOpened) -> None:
        # the journal should never reopen an account; if it does, the row starts afresh
        if event.account_id not in self.accounts:
            self.new_accounts.add(event.account_id)
        self.accounts[event.account_id] = {
            "account_id": event.account_id, "currency": event.currency, "cash": event.cash,
            "start_cash": event.cash, "realized_pnl": _ZERO, "commissions": _ZERO,
            "trading_state": TradingState.ACTIVE.value, "updated_at": event.ts,
        }
        self.changed_accounts.add(event.account_id)

    def _account(self, seq: int, account_id: str) -> Row:
        try:
            return self.accounts[account_id]
        except KeyError:
            raise ProjectionError(
                f"journal seq {seq} refers to account {account_id}, which no earlier "
                "AccountOpened created; the projections cannot be derived from this journal"
            ) from None

    def _set_account(self, account_id: str, ts: int, **changes: Any) -> None:
        self.accounts[account_id].update(changes, updated_at=ts)
        self.changed_accounts.add(account_id)
