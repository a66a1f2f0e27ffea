"""Accounts: cash, positions, reservations, limits and trading state of one book."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from mcp_trading.domain.orders import Order
from mcp_trading.domain.positions import Position
from mcp_trading.domain.risk import RiskLimits, loss_floor
from mcp_trading.domain.trading_state import TradingState

__all__ = ["Account"]

# enum members bound once: attribute access on an Enum class costs ~100 ns on the hot path
_ACTIVE = TradingState.ACTIVE

_ZERO = Decimal(0)


class Account:
    """A cash account; shorting only where `allow_short` (100 % of the short value held back).

    `position_value` (signed Σ qty x mark) and `gross_value` (Σ |qty| x mark) are kept
    incrementally, so equity and exposure cost O(1) on every quote and fill.
    """

    __slots__ = (
        "allow_short",
        "by_client_id",
        "cash",
        "commissions",
        "currency",
        "day_peak_equity",
        "day_start_equity",
        "gross_value",
        "id",
        "internal",
        "limits",
        "loss_floor",
        "open_buy",
        "open_orders",
        "open_sell",
        "position_value",
        "positions",
        "realized_pnl",
        "recent_orders",
        "reserved",
        "start_cash",
        "state",
        "state_reason",
    )

    def __init__(self, account_id: str, cash: Decimal, *, currency: str = "USD",
                 allow_short: bool = False, internal: bool = False) -> None:
        self.id = account_id
        self.currency = currency
        self.cash = cash
        self.start_cash = cash
        self.allow_short = allow_short
        self.internal = internal  # the platform's own account: not a customer book
        self.state = _ACTIVE
        self.state_reason = ""
        self.limits = RiskLimits()
        self.positions: dict[str, Position] = {}
        self.open_orders: dict[str, Order] = {}
        self.by_client_id: dict[str, Order] = {}
        self.open_buy: dict[str, Decimal] = {}  # symbol -> unfilled qty of working buys
        self.open_sell: dict[str, Decimal] = {}
        self.reserved = _ZERO
        self.position_value = _ZERO
        self.gross_value = _ZERO
        self.realized_pnl = _ZERO
        self.commissions = _ZERO
        self.day_start_equity = cash
        self.day_peak_equity = cash
        self.recent_orders: deque[int] = deque()
        self.loss_floor: Decimal | None = None  # equity at or below which a loss limit acts

    def refresh_floor(self) -> None:
        """Recompute the equity floor from the loss limits, day start and day peak."""
        self.loss_floor = loss_floor(self.limits, self.day_start_equity, self.day_peak_equity)

    @property
    def equity(self) -> Decimal:
        return self.cash + self.position_value

    @property
    def buying_power(self) -> Decimal:
        # long-only: cash - reserved; shorts additionally hold back their market value
        return self.cash + self.position_value - self.gross_value - self.reserved

    @property
    def daily_pnl(self) -> Decimal:
        return self.equity - self.day_start_equity

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions.values()), _ZERO)

    def position_qty(self, symbol: str) -> Decimal:
        pos = self.positions.get(symbol)
        return pos.qty if pos is not None else _ZERO

    def open_qty(self, symbol: str, *, buy: bool) -> Decimal:
        """Unfilled quantity of this account's working orders on one side of one symbol."""
        return (self.open_buy if buy else self.open_sell).get(symbol, _ZERO)

    def add_open(self, order: Order, delta: Decimal) -> None:
        book = self.open_buy if order.side == "buy" else self.open_sell
        symbol = order.symbol
        book[symbol] = book.get(symbol, _ZERO) + delta

    def remark(self, position: Position, mark: Decimal) -> None:
        """Move one position to a new mark, keeping the running totals exact."""
        old = position.mark
        qty = position.qty
        if old is not None and qty != _ZERO:
            delta = mark - old
            self.position_value += qty * delta
            self.gross_value += abs(qty) * delta
        elif qty != _ZERO:
            # first mark for a position carried at cost
            self.position_value += qty * mark - position.cost_basis
            self.gross_value += abs(qty) * mark - abs(position.cost_basis)
        position.mark = mark
