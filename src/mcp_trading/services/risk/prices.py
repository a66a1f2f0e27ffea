"""Today's positions of one account and their real daily price history, for risk analytics.

A position is valued at today's mark (signed market value, account currency). Its history is
the bar store's daily series that `read_bars` chooses without a source — never the simulator's
bars — read split- and dividend-adjusted (`adjustment=all`) where the source gives a factor,
so a split is not a loss. A position with no such series is left out of every figure that
needs history and named in `excluded` with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.history.reads import read_bars
from mcp_trading.adapters.history.summary import bar_time_text
from mcp_trading.domain.accounts import Account
from mcp_trading.services.core import ServiceCore

__all__ = ["Book", "History", "book_of", "day_text", "load_history", "read_history"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def day_text(ts: int) -> str:
    """A daily bar's trading day (New York), YYYY-MM-DD."""
    return bar_time_text(ts, "1Day")


@dataclass(frozen=True, slots=True)
class Book:
    """One account's positions today: symbol -> signed market value (float, currency)."""

    account_id: str
    equity: float
    values: dict[str, float]
    unmarked: tuple[str, ...]  # positions without a mark: no market value today


def book_of(account: Account) -> Book:
    values: dict[str, float] = {}
    unmarked: list[str] = []
    for p in account.positions.values():
        if not p.qty:
            continue
        if p.mark is None:
            unmarked.append(p.symbol)
        else:
            values[p.symbol] = float(p.market_value)
    return Book(account.id, float(account.equity), values, tuple(sorted(unmarked)))


@dataclass(frozen=True, slots=True)
class History:
    """Daily (ts, adjusted close) per symbol with real history, and the symbols left out."""

    series: dict[str, tuple[I64, F64]]
    sources: dict[str, str]
    adjusted: dict[str, bool]
    excluded: list[dict[str, str]] = field(default_factory=list)


def read_history(store: HistoryStore, symbols: Sequence[str]) -> History:
    """Every symbol's whole stored daily history, real sources only (blocking)."""
    out = History({}, {}, {})
    for symbol in symbols:
        read = read_bars(store, symbol, "1Day", limit=None, adjustment="all")
        if read is None or read.columns.size < 2:
            out.excluded.append({"symbol": symbol, "reason": (
                "no stored daily history other than the simulator's: left out, never priced "
                "from simulated bars (import real history: mcp-trading data import)")})
            continue
        cols = read.columns
        out.series[symbol] = (cols.ts, cols.close)
        out.sources[symbol] = read.source
        out.adjusted[symbol] = read.adjusted
    return out


async def load_history(core: ServiceCore, symbols: Sequence[str]) -> History:
    """Every symbol's whole stored daily history (read off the event loop)."""
    return await core.history.run(read_history, sorted(symbols))
