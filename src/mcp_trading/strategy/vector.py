"""The vectorised fast path: the built-in signal strategies' decisions over whole arrays.

`decisions(name, params, bars)` returns, for `sma_crossover`, `rsi_reversion`,
`bollinger_breakout` and `buy_and_hold`, exactly the orders the event-driven strategy submits
bar by bar on the same bars, when the runner keeps the contract of `strategy.api` (a market
order decided on bar t has filled before bar t + 1 is delivered, every order is accepted).
The indicators are the series twins of the incremental ones (bit-identical float64), so a
comparison never flips on rounding; a test runs both on real closes and compares the lists.

The signal strategies are two-state machines (flat, long): an *entry* bar while flat buys
`qty`, an *exit* bar while long sells the position, and entry and exit never hold on one bar.
So "long after bar t" is the last entry-or-exit label up to t, which `np.maximum.accumulate`
carries forward without a Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.errors import InvalidError
from mcp_trading.strategy.builtin.bollinger_breakout import BollingerBreakoutParams
from mcp_trading.strategy.builtin.buy_and_hold import BuyAndHoldParams, hold_qty
from mcp_trading.strategy.builtin.rsi_reversion import RsiReversionParams
from mcp_trading.strategy.builtin.sma_crossover import TIE, SmaCrossoverParams
from mcp_trading.strategy.indicators import bollinger, rsi, sma
from mcp_trading.strategy.params import StrategyParams

__all__ = ["VECTORISED", "Columns", "Decision", "decisions", "entry_exit_orders"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


class Columns(Protocol):
    """Bars as columns (`adapters.history.contract.BarColumns` is one), ascending by ts."""

    @property
    def ts(self) -> I64: ...
    @property
    def open(self) -> F64: ...
    @property
    def high(self) -> F64: ...
    @property
    def low(self) -> F64: ...
    @property
    def close(self) -> F64: ...


class Decision(NamedTuple):
    """An order a strategy decided on the close of bar number `bar` of its symbol's columns."""

    bar: int
    ts: int
    symbol: str
    side: str  # "buy" | "sell"
    qty: Decimal
    type: str = "market"


def entry_exit_orders(entry: B, exit_: B) -> tuple[I64, I64]:
    """(buy bars, sell bars) of the flat/long machine: buy on an entry while flat, sell on an
    exit while long; flat at the start."""
    size = entry.shape[0]
    if np.any(entry & exit_):
        raise ValueError("an entry and an exit on one bar: the machine would be ambiguous")
    label = np.where(entry, 1, np.where(exit_, 0, -1)).astype(np.int64)
    last = np.maximum.accumulate(np.where(label >= 0, np.arange(size), -1))
    long_after = np.where(last >= 0, label[np.maximum(last, 0)], 0)
    before = np.concatenate(([0], long_after[:-1]))
    return np.flatnonzero((long_after == 1) & (before == 0)), \
        np.flatnonzero((long_after == 0) & (before == 1))


def _crossings(fast: F64, slow: F64) -> tuple[B, B]:
    """(cross above, cross below) per bar, by the issue's rule: the sign of fast - slow on a
    bar against its sign on the last earlier bar where they differed."""
    ready = ~np.isnan(slow) & ~np.isnan(fast)
    with np.errstate(invalid="ignore"):
        live = ready & ~(np.abs(fast - slow) <= TIE * np.maximum(np.abs(fast), np.abs(slow)))
    sign = np.where(live & (fast > slow), 1, np.where(live & (fast < slow), -1, 0))
    size = sign.shape[0]
    last = np.maximum.accumulate(np.where(sign != 0, np.arange(size), -1))
    prev_idx = np.concatenate(([-1], last[:-1]))
    prev = np.where(prev_idx >= 0, sign[np.maximum(prev_idx, 0)], 0)
    return (sign == 1) & (prev == -1), (sign == -1) & (prev == 1)


def _signals(name: str, params: StrategyParams, close: F64) -> tuple[B, B]:
    if isinstance(params, SmaCrossoverParams):
        return _crossings(sma(close, params.fast), sma(close, params.slow))
    if isinstance(params, RsiReversionParams):
        value = rsi(close, params.period)
        return value < params.lower, value > params.upper
    if isinstance(params, BollingerBreakoutParams):
        middle, upper, _ = bollinger(close, params.period, params.k)
        return close > upper, close < middle
    raise InvalidError(f"strategy {name!r} has no signal form", field="strategy")


_PARAMS: dict[str, type[StrategyParams]] = {
    "sma_crossover": SmaCrossoverParams, "rsi_reversion": RsiReversionParams,
    "bollinger_breakout": BollingerBreakoutParams, "buy_and_hold": BuyAndHoldParams}
#: the strategies with a vectorised form
VECTORISED = tuple(_PARAMS)


def _symbol_decisions(name: str, params: StrategyParams, symbol: str, cols: Columns, *,
                      count: int, cash: Decimal) -> list[Decision]:
    close = np.asarray(cols.close, dtype=np.float64)
    ts = np.asarray(cols.ts, dtype=np.int64)
    if close.shape[0] == 0:
        return []
    if isinstance(params, BuyAndHoldParams):
        qty = hold_qty(params, cash, count, float(close[0]))
        return [Decision(0, int(ts[0]), symbol, "buy", qty)] if qty > 0 else []
    qty = getattr(params, "qty")  # noqa: B009 - every signal strategy's Params has qty
    entry, exit_ = _signals(name, params, close)
    buys, sells = entry_exit_orders(entry, exit_)
    out = [Decision(int(i), int(ts[i]), symbol, "buy", qty) for i in buys.tolist()]
    out += [Decision(int(i), int(ts[i]), symbol, "sell", qty) for i in sells.tolist()]
    return out


def decisions(name: str, params: StrategyParams | Mapping[str, object] | None,
              bars: Mapping[str, Columns], *, symbols: Sequence[str] | None = None,
              cash: Decimal = Decimal(0)) -> list[Decision]:
    """Every order strategy `name` decides on `bars` (symbol -> columns), in the order the
    event-driven run submits them: by ts, then by the order of `symbols` (default: the
    mapping's). `cash` is the starting cash (buy_and_hold sizes by it)."""
    kind = _PARAMS.get(name)
    if kind is None:
        raise InvalidError(f"strategy {name!r} has no vectorised form; those with one: "
                           + ", ".join(VECTORISED), field="strategy",
                           extra={"allowed": list(VECTORISED)})
    if not isinstance(params, kind):
        params = kind.parse(params if isinstance(params, Mapping) else None)
    order = list(symbols) if symbols is not None else list(bars)
    rank = {symbol: i for i, symbol in enumerate(order)}
    found: list[Decision] = []
    for symbol in order:
        found += _symbol_decisions(name, params, symbol, bars[symbol], count=len(order),
                                   cash=cash)
    found.sort(key=lambda d: (d.ts, rank[d.symbol]))
    return found
