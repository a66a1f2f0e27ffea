"""`StrategyContext` over the kernel: what a strategy reads and does in a backtest.

Orders go to `Kernel.submit` as any client's do (pre-trade risk, the venue's rules), built
with `OrderRequest.parse` after rounding prices onto the instrument's tick (strategy.api's
contract), attributed `backtest:<run id>`. A rejected order is journaled (it shows in the
result) and raises RefusedError into the callback. Reads (positions, cash, equity, open
orders) are the kernel's state; `equity()` first brings the kernel's marks of held symbols
to their latest closes (the engine sends quotes only where orders work, see engine.py).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import InvalidError, OrderNotFoundError, RefusedError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.numbers import QUANTITY
from mcp_trading.domain.orders import Order, OrderRequest, OrderStatus, parse_number
from mcp_trading.strategy.guard import StrategyFault, StrategyStoppedError

if TYPE_CHECKING:
    from mcp_trading.clocks import ManualClock
    from mcp_trading.kernel.kernel import Kernel

__all__ = ["MAX_LOG_LINES", "BacktestContext"]

MAX_LOG_LINES = 1_000
_ZERO = Decimal(0)
_REJECTED = OrderStatus.REJECTED
F64 = npt.NDArray[np.float64]


def _price(name: str, raw: Decimal | float | str | None) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, float):
        if not np.isfinite(raw) or raw <= 0:
            raise InvalidError(f"{name} is {raw!r}; it must be a finite price > 0", field=name)
        return Decimal(repr(raw))
    if isinstance(raw, int | str):
        try:
            return Decimal(str(raw).strip())
        except ArithmeticError:
            raise InvalidError(f"{name} is {str(raw)[:40]!r}, not a number", field=name) from None
    raise InvalidError(f"{name} must be a number, got {type(raw).__name__}", field=name)


class BacktestContext:
    """One run's context (see the module docstring); the engine owns the clock and bars."""

    def __init__(self, *, kernel: Kernel, clock: ManualClock, account_id: str, run_id: str,
                 symbols: tuple[str, ...], instruments: dict[str, Instrument],
                 closes: dict[str, F64], sync: Callable[[str], None],
                 stopped: Callable[[], StrategyFault | None]) -> None:
        self._kernel = kernel
        self._clock = clock
        self._account: Account = kernel.state.accounts[account_id]
        self._account_id = account_id
        self._attribution = f"backtest:{run_id}"
        self._symbols = symbols
        self._instruments = instruments
        self._closes = closes
        #: bars of each symbol delivered so far (the engine advances it before on_bar)
        self.seen: dict[str, int] = dict.fromkeys(symbols, 0)
        self._sync = sync  # bring a symbol's kernel quote to its latest close
        self._stopped = stopped
        self.logs: list[str] = []
        self.dropped_logs = 0

    # ---- reads ----------------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        return self._clock.now_ns()

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    def position(self, symbol: str) -> Decimal:
        position = self._account.positions.get(symbol)
        return position.qty if position is not None else _ZERO

    def positions(self) -> dict[str, Decimal]:
        return {s: p.qty for s, p in self._account.positions.items() if p.qty != _ZERO}

    def cash(self) -> Decimal:
        return self._account.cash

    def equity(self) -> Decimal:
        for symbol, position in list(self._account.positions.items()):
            if position.qty != _ZERO:
                self._sync(symbol)
        return self._account.equity

    def open_orders(self, symbol: str | None = None) -> list[str]:
        orders = self._account.open_orders
        if not orders:
            return []
        return [o.id for o in orders.values() if symbol is None or o.symbol == symbol]

    def history(self, symbol: str, n: int) -> F64:
        closes = self._closes.get(symbol)
        if closes is None:
            raise InvalidError(f"{symbol!r} is not a symbol of this backtest "
                               f"({', '.join(self._symbols)})", field="symbol")
        seen = self.seen[symbol]
        return closes[max(0, seen - max(int(n), 0)):seen].copy()

    def log(self, msg: str) -> None:
        if len(self.logs) < MAX_LOG_LINES:
            self.logs.append(f"{self._clock.now_ns()} {str(msg)[:500]}")
        else:
            self.dropped_logs += 1

    # ---- orders ---------------------------------------------------------------------------
    def _check_running(self) -> None:
        fault = self._stopped()
        if fault is not None:
            raise StrategyStoppedError(fault)

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self._instruments.get(symbol)
        if instrument is None or symbol not in self.seen:
            raise InvalidError(f"{symbol!r} is not a symbol of this backtest "
                               f"({', '.join(self._symbols)})", field="symbol")
        return instrument

    def submit(self, symbol: str, side: str, qty: Decimal | int | str, *, type: str = "market",
               limit_price: Decimal | float | str | None = None,
               stop_price: Decimal | float | str | None = None, time_in_force: str = "day",
               client_order_id: str | None = None) -> str:
        self._check_running()
        instrument = self._instrument(symbol)
        buy = side == "buy"
        limit = _price("limit_price", limit_price)
        stop = _price("stop_price", stop_price)
        request = OrderRequest.parse(
            symbol=symbol, qty=qty, side=side, type=type, time_in_force=time_in_force,
            limit_price=None if limit is None else instrument.round_to_tick(limit, up=not buy),
            stop_price=None if stop is None else instrument.round_to_tick(stop, up=buy),
            client_order_id=client_order_id)
        self._sync(symbol)  # the reference price of a market order: the latest close
        order = self._kernel.submit(self._account_id, request, attribution=self._attribution)
        if order.status is _REJECTED:
            raise RefusedError(f"order {order.id} ({side} {request.qty} {symbol}) was rejected: "
                               f"{order.reject_reason}", code=order.reject_code or "REJECTED",
                               extra={"order_id": order.id})
        return order.id

    def cancel(self, order_id: str) -> None:
        self._check_running()
        self._own(order_id)
        self._kernel.cancel(order_id, account_id=self._account_id, reason="canceled by strategy")

    def replace(self, order_id: str, *, qty: Decimal | int | str | None = None,
                limit_price: Decimal | float | str | None = None,
                stop_price: Decimal | float | str | None = None) -> str:
        self._check_running()
        old = self._own(order_id)
        instrument = self._instrument(old.symbol)
        buy = old.side.value == "buy"
        limit = _price("limit_price", limit_price)
        stop = _price("stop_price", stop_price)
        new = self._kernel.replace(
            order_id, account_id=self._account_id,
            qty=None if qty is None else parse_number("qty", qty, QUANTITY),
            limit_price=None if limit is None else instrument.round_to_tick(limit, up=not buy),
            stop_price=None if stop is None else instrument.round_to_tick(stop, up=buy),
            attribution=self._attribution)
        return new.id

    def _own(self, order_id: str) -> Order:
        order = self._kernel.state.orders.get(order_id)
        if order is None or order.account_id != self._account_id:
            raise OrderNotFoundError(order_id)
        return order
