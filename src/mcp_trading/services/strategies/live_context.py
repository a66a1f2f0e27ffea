"""`StrategyContext` over the running platform: what a live instance reads and does.

A strategy's callbacks run on its guard's worker thread (strategy/guard.py), while the kernel
belongs to the event loop's thread (the single writer). So every order and every read of the
kernel's state is handed to the loop (`run_coroutine_threadsafe`) and waited for; the loop
is free meanwhile (the runner awaits the callback in another thread).

Orders go through the trading engine's service functions, exactly as a client's do: the
platform's availability (stopping, the journal), the kernel's pre-trade checks, halts,
maintenance and REDUCING, attributed `strategy:<instance id>` on behalf of a trader of the
instance's account. A refused order does NOT raise into the callback (unlike a backtest's
context): it is written to the instance's log and status (`refusals`), and `submit` returns
the id of the rejected order ("" when none was journaled, e.g. the platform is stopping) —
so a halt never stops an instance, it only refuses its orders. An order the strategy got
wrong (InvalidError: a bad side, a quantity off the lot) does raise: that is its bug.

While the instance warms up (live.py), `submit`/`cancel`/`replace` place nothing: the order
is logged as "warm-up: not placed" and "" returned.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.errors import (
    InvalidError,
    OrderNotFoundError,
    OrderStateError,
    TradingError,
    kind_of,
)
from mcp_trading.domain.instances import attribution_of
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.orders import WORKING
from mcp_trading.kernel.ports import Clock
from mcp_trading.kernel.state import KernelState
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.trading_engine.service import TradingService

__all__ = ["MAX_CLOSES", "MAX_LOG_LINES", "LiveContext"]

MAX_LOG_LINES = 200  # the instance's log keeps the latest lines
MAX_REFUSALS = 50
MAX_CLOSES = 100_000  # closes kept per symbol for history()
_T = TypeVar("_T")
_ZERO = Decimal(0)
F64 = npt.NDArray[np.float64]


def _raises(exc: TradingError) -> bool:
    """Whether an error of an order call goes into the callback: a fault of the platform, or
    the strategy's own mistake (bad input); a refusal or a race with a fill does not."""
    if kind_of(exc) is None:
        return True
    return isinstance(exc, InvalidError) and not isinstance(exc, OrderStateError)


def _price(name: str, raw: Decimal | float | str | None) -> Decimal | None:
    if raw is None or isinstance(raw, Decimal):
        return raw
    if isinstance(raw, float) and not (np.isfinite(raw) and raw > 0):
        raise InvalidError(f"{name} is {raw!r}; it must be a finite price > 0", field=name)
    try:
        return Decimal(repr(raw) if isinstance(raw, float) else str(raw).strip())
    except ArithmeticError:
        raise InvalidError(f"{name} is {str(raw)[:40]!r}, not a number", field=name) from None


class LiveContext:
    """One live instance's context (module docstring). Built and owned by its run (live.py)."""

    def __init__(self, *, loop: asyncio.AbstractEventLoop, trading: TradingService,
                 state: Callable[[], KernelState], clock: Clock, instance_id: str,
                 account_id: str, symbols: tuple[str, ...], instruments: dict[str, Instrument],
                 timeout_s: float, stopped: Callable[[], bool]) -> None:
        self._loop = loop
        self._trading = trading
        self._state = state
        self._clock = clock
        self._account_id = account_id
        self._symbols = symbols
        self._instruments = instruments
        self._timeout_s = timeout_s
        self._stopped = stopped
        self.attribution = attribution_of(instance_id)
        self._principal = Principal(Role.TRADER, None, account_id, self.attribution,
                                    confirm_orders=False)
        self.warming = False
        self.closes: dict[str, list[float]] = {s: [] for s in symbols}
        self.logs: deque[str] = deque(maxlen=MAX_LOG_LINES)
        self.refusals: deque[dict[str, str]] = deque(maxlen=MAX_REFUSALS)
        self.placed: list[str] = []  # ids of the orders placed (the runner takes them)

    # ---- on the loop ----------------------------------------------------------------------
    def _on_loop(self, work: Coroutine[Any, Any, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(self._timeout_s)

    def _read(self, fn: Callable[[KernelState], _T]) -> _T:
        async def read() -> _T:
            return fn(self._state())

        return self._on_loop(read())

    # ---- reads ----------------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        return self._clock.now_ns()

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    def position(self, symbol: str) -> Decimal:
        def read(state: KernelState) -> Decimal:
            position = state.accounts[self._account_id].positions.get(symbol)
            return position.qty if position is not None else _ZERO

        return self._read(read)

    def positions(self) -> dict[str, Decimal]:
        return self._read(lambda state: {
            s: p.qty for s, p in state.accounts[self._account_id].positions.items() if p.qty})

    def cash(self) -> Decimal:
        return self._read(lambda state: state.accounts[self._account_id].cash)

    def equity(self) -> Decimal:
        return self._read(lambda state: state.accounts[self._account_id].equity)

    def open_orders(self, symbol: str | None = None) -> list[str]:
        """The instance's own working orders (its attribution), not the account's others."""
        mine = self.attribution

        def read(state: KernelState) -> list[str]:
            return [o.id for o in state.accounts[self._account_id].open_orders.values()
                    if o.attribution == mine and (symbol is None or o.symbol == symbol)]

        return self._read(read)

    def history(self, symbol: str, n: int) -> F64:
        closes = self.closes.get(symbol)
        if closes is None:
            raise InvalidError(f"{symbol!r} is not a symbol of this instance "
                               f"({', '.join(self._symbols)})", field="symbol")
        return np.asarray(closes[max(0, len(closes) - max(int(n), 0)):], dtype=np.float64)

    def log(self, msg: str) -> None:
        self.logs.append(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {str(msg)[:500]}")

    # ---- orders ---------------------------------------------------------------------------
    def _instrument(self, symbol: str) -> Instrument:
        instrument = self._instruments.get(symbol)
        if instrument is None or symbol not in self.closes:
            raise InvalidError(f"{symbol!r} is not a symbol of this instance "
                               f"({', '.join(self._symbols)})", field="symbol")
        return instrument

    def _refused(self, what: str, code: str, message: str) -> None:
        self.refusals.append({"order": what, "code": code, "message": message[:500]})
        self.log(f"refused: {what}: {code}: {message}")

    def _placing(self, what: str) -> bool:
        """False (and logged) while warming up or once stopped: nothing is placed."""
        if self.warming:
            self.log(f"warm-up: {what} not placed")
            return False
        if self._stopped():
            self.log(f"stopped: {what} not placed")
            return False
        return True

    def submit(self, symbol: str, side: str, qty: Decimal | int | str, *, type: str = "market",
               limit_price: Decimal | float | str | None = None,
               stop_price: Decimal | float | str | None = None, time_in_force: str = "day",
               client_order_id: str | None = None) -> str:
        instrument = self._instrument(symbol)
        buy = side == "buy"
        limit, stop = _price("limit_price", limit_price), _price("stop_price", stop_price)
        payload: dict[str, Any] = {
            "account_id": self._account_id, "symbol": symbol, "qty": str(qty), "side": side,
            "type": type, "time_in_force": time_in_force, "client_order_id": client_order_id,
            "limit_price": None if limit is None else str(instrument.round_to_tick(limit, up=not buy)),
            "stop_price": None if stop is None else str(instrument.round_to_tick(stop, up=buy))}
        payload = {k: v for k, v in payload.items() if v is not None}
        what = f"{side} {qty} {symbol} {type}"
        if not self._placing(what):
            return ""
        try:
            view, accepted = self._on_loop(self._trading.submit_order(
                self._principal, payload, attribution=self.attribution))
        except TradingError as exc:
            if _raises(exc):
                raise
            self._refused(what, exc.code, str(exc))
            return ""
        self.placed.append(view["id"])
        if not accepted:
            self._refused(what, view["reject_code"] or "REJECTED", view["reject_reason"] or "")
        return str(view["id"])

    def _own(self, order_id: str) -> tuple[str, bool]:
        """(symbol, is a buy) of one of the instance's working orders; else not found."""
        def read(state: KernelState) -> tuple[str, bool] | None:
            order = state.orders.get(order_id)
            if order is None or order.attribution != self.attribution or order.status not in WORKING:
                return None
            return order.symbol, order.side.value == "buy"

        own = self._read(read)
        if own is None:
            raise OrderNotFoundError(order_id)
        return own

    def cancel(self, order_id: str) -> None:
        if not self._placing(f"cancel {order_id}"):
            return
        self._own(order_id)
        try:
            self._on_loop(self._trading.cancel_order(self._principal, order_id))
        except TradingError as exc:
            if _raises(exc):
                raise
            self._refused(f"cancel {order_id}", exc.code, str(exc))

    def replace(self, order_id: str, *, qty: Decimal | int | str | None = None,
                limit_price: Decimal | float | str | None = None,
                stop_price: Decimal | float | str | None = None) -> str:
        if not self._placing(f"replace {order_id}"):
            return ""
        symbol, buy = self._own(order_id)
        instrument = self._instrument(symbol)
        limit, stop = _price("limit_price", limit_price), _price("stop_price", stop_price)
        changes = {k: str(v) for k, v in (
            ("qty", qty),
            ("limit_price", None if limit is None else instrument.round_to_tick(limit, up=not buy)),
            ("stop_price", None if stop is None else instrument.round_to_tick(stop, up=buy)))
            if v is not None}
        try:
            view = self._on_loop(self._trading.replace_order(
                self._principal, order_id, changes, attribution=self.attribution))
        except TradingError as exc:
            if _raises(exc):
                raise
            self._refused(f"replace {order_id}", exc.code, str(exc))
            return ""
        self.placed.append(view["id"])
        return str(view["id"])

    def remember(self, symbol: str, close: float) -> None:
        """A bar's close seen (the runner calls it before on_bar): history() includes it."""
        closes = self.closes[symbol]
        closes.append(close)
        if len(closes) > MAX_CLOSES:
            del closes[: len(closes) - MAX_CLOSES]
