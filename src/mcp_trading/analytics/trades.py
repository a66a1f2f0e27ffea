"""Round-trip trades from fills: FIFO matching per symbol, long and short.

Rules (the backtest results and the reports quote them):

- Fills are taken in time order (a stable sort on `ts`, so fills of one instant keep their
  order). Each symbol has a queue of open lots, all on one side.
- A fill on the side of the open lots (or on a flat symbol) opens a new lot.
- A fill against the open lots closes them oldest first. The closing fill makes **one** trade
  per fill: its `qty` is the quantity closed, `entry_price` the quantity-weighted price of the
  lots (or parts of lots) it closed, `entry_time` the time of the oldest of them. A partial
  close splits a lot: the closed part is in this trade, the rest stays open for a later one.
- A fill larger than the open position closes it (one trade) and opens a lot on the other side
  with the remainder (a reversal).
- Commissions are allocated pro rata by quantity: a lot keeps its unallocated entry commission
  and each close takes `commission_left × qty_closed / qty_left`, rounded to 1e-9 (the last
  close takes exactly what is left, so the allocations sum to the fills' commissions); a
  reversing fill's commission is split the same way between the close and the new lot.
- `pnl` = (exit − entry) × qty for a long, (entry − exit) × qty for a short, minus the entry
  and exit commissions allocated to the trade. `return` = pnl / (entry_price × qty).

Decimal in, Decimal out (the domain's money rule); only metrics turn numbers into floats.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.numbers import to_text

__all__ = ["Fill", "Lot", "RoundTrip", "check_fill", "open_lots", "round_trips"]

_STEP = Decimal("1e-9")  # the domain's finest step (numbers.MAX_PLACES)
_ZERO = Decimal(0)
_SIDES = ("buy", "sell")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution: `side` is "buy" or "sell" (OrderSide compares equal), `qty` > 0."""

    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    ts: int  # ns since the epoch
    commission: Decimal = _ZERO
    order_id: str = ""

    @property
    def signed_qty(self) -> Decimal:
        return self.qty if self.side == "buy" else -self.qty


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """A closed trade. `side` is the side of the entry: "long" or "short"."""

    symbol: str
    side: str
    qty: Decimal
    entry_time: int
    entry_price: Decimal
    exit_time: int
    exit_price: Decimal
    pnl: Decimal
    commission: Decimal  # entry and exit commission allocated to this trade (already in pnl)
    return_: Decimal  # `return` in as_dict (a keyword in Python)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: decimals as plain text without trailing zeros, times as ns integers."""
        return {"symbol": self.symbol, "side": self.side, "qty": _text(self.qty),
                "entry_time": self.entry_time, "entry_price": _text(self.entry_price),
                "exit_time": self.exit_time, "exit_price": _text(self.exit_price),
                "pnl": _text(self.pnl), "commission": _text(self.commission),
                "return": _text(self.return_)}


def _text(value: Decimal) -> str:
    return to_text(value.normalize())


@dataclass(slots=True)
class Lot:
    """An open lot: `qty` left (> 0), its price and time, and its unallocated commission."""

    symbol: str
    side: str  # "long" or "short"
    qty: Decimal
    price: Decimal
    ts: int
    commission: Decimal


def check_fill(fill: Fill) -> None:
    """InvalidError naming the field unless the fill has a side, qty > 0, price > 0, commission >= 0."""
    which = f"the fill of {fill.symbol!r} at ts {fill.ts}"
    if fill.side not in _SIDES:
        raise InvalidError(f"{which}: side is {fill.side!r}; it must be 'buy' or 'sell'",
                           field="side")
    if not fill.qty.is_finite() or fill.qty <= 0:
        raise InvalidError(f"{which}: qty is {fill.qty}; it must be > 0", field="qty")
    if not fill.price.is_finite() or fill.price <= 0:
        raise InvalidError(f"{which}: price is {fill.price}; it must be > 0", field="price")
    if not fill.commission.is_finite() or fill.commission < 0:
        raise InvalidError(f"{which}: commission is {fill.commission}; it must be >= 0",
                           field="commission")


def _share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """`amount × part / whole` rounded to 1e-9; exactly `amount` when part is the whole."""
    if part >= whole:
        return amount
    return (amount * part / whole).quantize(_STEP, rounding=ROUND_HALF_EVEN)


class _Book:
    """The open lots of every symbol, and the trades closed so far."""

    def __init__(self) -> None:
        self.lots: dict[str, deque[Lot]] = {}
        self.trades: list[RoundTrip] = []

    def apply(self, fill: Fill) -> None:
        lots = self.lots.setdefault(fill.symbol, deque())
        side = "long" if fill.side == "buy" else "short"
        if not lots or lots[0].side == side:
            lots.append(Lot(fill.symbol, side, fill.qty, fill.price, fill.ts, fill.commission))
            return
        closing = min(fill.qty, sum((lot.qty for lot in lots), _ZERO))
        exit_commission = _share(fill.commission, closing, fill.qty)
        self.trades.append(self._close(lots, fill, closing, exit_commission))
        rest = fill.qty - closing
        if rest:  # a reversal: the remainder opens the other side
            lots.append(Lot(fill.symbol, side, rest, fill.price, fill.ts,
                            fill.commission - exit_commission))

    @staticmethod
    def _close(lots: deque[Lot], fill: Fill, qty: Decimal, exit_commission: Decimal) -> RoundTrip:
        left, cost, entry_commission = qty, _ZERO, _ZERO
        side, entry_time = lots[0].side, lots[0].ts
        while left:
            lot = lots[0]
            taken = min(left, lot.qty)
            commission = _share(lot.commission, taken, lot.qty)
            cost += taken * lot.price
            entry_commission += commission
            lot.qty -= taken
            lot.commission -= commission
            left -= taken
            if not lot.qty:
                lots.popleft()
        gross = fill.price * qty - cost
        if side == "short":
            gross = -gross
        commission = entry_commission + exit_commission
        pnl = gross - commission
        entry_price = (cost / qty).quantize(_STEP, rounding=ROUND_HALF_EVEN)
        return RoundTrip(symbol=fill.symbol, side=side, qty=qty, entry_time=entry_time,
                         entry_price=entry_price, exit_time=fill.ts, exit_price=fill.price,
                         pnl=pnl, commission=commission,
                         return_=(pnl / cost).quantize(_STEP, rounding=ROUND_HALF_EVEN))


def _book(fills: Iterable[Fill]) -> _Book:
    ordered: Sequence[Fill] = sorted(fills, key=lambda f: f.ts)
    book = _Book()
    for fill in ordered:
        check_fill(fill)
        book.apply(fill)
    return book


def round_trips(fills: Iterable[Fill]) -> list[RoundTrip]:
    """The closed round-trip trades of `fills`, in the order they closed (rules: module doc)."""
    return _book(fills).trades


def open_lots(fills: Iterable[Fill]) -> list[Lot]:
    """The lots still open after `fills`, by symbol then age."""
    book = _book(fills)
    return [lot for symbol in sorted(book.lots) for lot in book.lots[symbol]]
