"""Bars as quotes to the kernel: the open, the walk along the bar's path, the latest close.

Each quote has bid = ask = last = one price and a size no order can exhaust, so the venue's
own matching (domain/venue.py) gives the fill rules of strategy/simulate.py:

- the open quote (ts T) fills market orders decided earlier at the open (the venue adds the
  slippage model, as `simulate.fill_price` does), and limit or stop orders whose price the
  open gapped through, at the open;
- then the path: open → low → high → close when close >= open, else open → high → low →
  close. On each segment a quote is sent at every price of a working order of the symbol the
  segment crosses (a limit price, a stop price, a triggered stop-limit's limit), in path
  order, so a limit fills at its limit and a stop triggers at its stop (and fills there, plus
  slippage). Trailing stops get a quote at each vertex as well (their stop follows the path).
- quotes are sent only for a symbol with working orders (nothing else can happen on them);
  `sync` sends the latest close of a symbol when the kernel's mark must be current (before an
  order, for `equity()`, and on every bar when the run has loss limits).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import Order, OrderType

if TYPE_CHECKING:
    from mcp_trading.clocks import ManualClock
    from mcp_trading.domain.accounts import Account
    from mcp_trading.kernel.kernel import Kernel

__all__ = ["SIZE", "BarMarket"]

SIZE = Decimal(10) ** 15  # larger than any order (QUANTITY bounds: 1e9): fills are whole
_LIMIT = OrderType.LIMIT
_STOP_LIMIT = OrderType.STOP_LIMIT
_TRAILING = OrderType.TRAILING_STOP


def _price(value: float) -> Decimal:
    return Decimal(repr(value))


def _levels(orders: list[Order], symbol: str) -> tuple[set[Decimal], bool]:
    """The prices of the symbol's working orders a path may cross; whether one trails."""
    levels: set[Decimal] = set()
    trails = False
    for o in orders:
        if o.symbol != symbol:
            continue
        kind = o.type
        if kind is _LIMIT or (kind is _STOP_LIMIT and o.triggered):
            if o.limit_price is not None:
                levels.add(o.limit_price)
        elif o.stop_price is not None:
            levels.add(o.stop_price)
        trails = trails or kind is _TRAILING
    return levels, trails


class BarMarket:
    """Sends one run's quotes to its kernel (module docstring)."""

    def __init__(self, kernel: Kernel, clock: ManualClock, account: Account) -> None:
        self._kernel = kernel
        self._clock = clock
        self._account = account
        self.sent: dict[str, float] = {}  # symbol -> price of the last quote sent
        self.last_close: dict[str, float] = {}  # symbol -> close of its latest bar

    def quote(self, symbol: str, price: float | Decimal, ts: int) -> None:
        value = price if isinstance(price, Decimal) else _price(price)
        self._clock.set(ts)
        self._kernel.on_quote(Quote(symbol, value, value, SIZE, SIZE, value, ts))
        self.sent[symbol] = float(price)

    def sync(self, symbol: str) -> None:
        """The kernel's quote of `symbol` to its latest close, at the clock's time."""
        close = self.last_close.get(symbol)
        if close is not None and self.sent.get(symbol) != close:
            self.quote(symbol, close, self._clock.now_ns())

    def has_orders(self, symbol: str) -> bool:
        orders = self._account.open_orders
        return bool(orders) and any(o.symbol == symbol for o in orders.values())

    def walk(self, symbol: str, ts: int, bar: tuple[float, float, float, float]) -> None:
        """The path quotes of one bar (open, high, low, close) after its open: segments at
        ts, ts + 1, ts + 2, the close last."""
        o, h, lo, c = bar
        path = (o, lo, h, c) if c >= o else (o, h, lo, c)
        for j in range(3):
            a, b = _price(path[j]), _price(path[j + 1])
            self._segment(symbol, ts + j, a, b)
        self.quote(symbol, c, ts + 2)

    def _segment(self, symbol: str, ts: int, a: Decimal, b: Decimal) -> None:
        down = b < a
        at = a
        while True:
            orders = list(self._account.open_orders.values())
            if not orders:
                return
            levels, trails = _levels(orders, symbol)
            if trails:
                levels.add(b)
            # the next level strictly past `at` towards b (b included)
            ahead = [p for p in levels if b <= p < at] if down else \
                [p for p in levels if at < p <= b]
            if not ahead:
                return
            at = max(ahead) if down else min(ahead)
            self.quote(symbol, at, ts)
