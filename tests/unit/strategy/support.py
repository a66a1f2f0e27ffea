"""Test support for strategies: the real sample prices, an in-memory StrategyContext and a
tiny bar-by-bar driver (market orders fill at the symbol's next open, before its next bar)."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from tests.conftest import in_ci

import mcp_trading
from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.strategy.api import Strategy, StrategyBar
from mcp_trading.strategy.vector import Decision

#: the bokeh sample (h13-import ships it in the package; until then the wheel in /tmp/bsd)
PACKAGED = Path(mcp_trading.__file__).parent / "data" / "sample" / "stocks.csv.gz"
WHEELS = Path("/tmp/bsd")
MEMBER = "bokeh_sampledata/_data/stocks.csv.gz"
DAY_NS = 86_400 * 1_000_000_000


def _sample_bytes() -> bytes | None:
    if PACKAGED.exists():
        return PACKAGED.read_bytes()
    for wheel in sorted(WHEELS.glob("bokeh_sampledata-*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(MEMBER)
    return None


@cache
def _sample() -> dict[str, BarColumns]:
    raw = _sample_bytes()
    if raw is None:
        return {}
    rows: dict[str, list[tuple[int, float, float, float, float, float]]] = {}
    with gzip.open(io.BytesIO(raw), "rt", newline="") as text:
        for row in csv.DictReader(text):
            ts = (date.fromisoformat(row["Date"]).toordinal() - 719_163) * DAY_NS
            rows.setdefault(row["Ticker"], []).append(
                (ts, float(row["Open"]), float(row["High"]), float(row["Low"]),
                 float(row["Close"]), float(row["Volume"])))
    out = {}
    for symbol, values in rows.items():
        values.sort()
        cols = list(zip(*values, strict=True))
        out[symbol] = BarColumns(np.array(cols[0], dtype=np.int64),
                                 *(np.array(c, dtype=np.float64) for c in cols[1:]),
                                 adj_factor=np.full(len(values), np.nan))
    return out


def sample_bars() -> dict[str, BarColumns]:
    """Real daily bars of AAPL, FB, GOOG, IBM, MSFT (bokeh's sample), by symbol."""
    bars = _sample()
    if not bars:
        message = (f"the sample prices are missing: neither {PACKAGED} nor a "
                   f"bokeh_sampledata wheel in {WHEELS}")
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return bars


def columns(close: Iterable[float], open_: Iterable[float] | None = None) -> BarColumns:
    """Hand-made daily bars from closes (open = close unless given)."""
    c = np.array(list(close), dtype=np.float64)
    o = c.copy() if open_ is None else np.array(list(open_), dtype=np.float64)
    ts = np.arange(c.shape[0], dtype=np.int64) * DAY_NS
    return BarColumns(ts, o, np.maximum(o, c), np.minimum(o, c), c, np.full(c.shape[0], 1e6),
                      np.full(c.shape[0], np.nan))


@dataclass
class MemoryContext:
    """An in-memory StrategyContext: records orders; the driver fills them."""

    symbols: tuple[str, ...]
    cash_: Decimal = Decimal(1_000_000)
    now_ns: int = 0
    held: dict[str, Decimal] = field(default_factory=dict)
    working: dict[str, tuple[str, str, Decimal]] = field(default_factory=dict)  # id -> order
    closes: dict[str, list[float]] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    submitted: list[tuple[str, str, Decimal, str]] = field(default_factory=list)

    def submit(self, symbol: str, side: str, qty: Decimal | int | str, *, type: str = "market",
               limit_price: object = None, stop_price: object = None,
               time_in_force: str = "day", client_order_id: str | None = None) -> str:
        order_id = f"o{len(self.submitted) + 1}"
        self.submitted.append((symbol, side, Decimal(qty), type))
        self.working[order_id] = (symbol, side, Decimal(qty))
        return order_id

    def cancel(self, order_id: str) -> None:
        self.working.pop(order_id, None)

    def replace(self, order_id: str, *, qty: object = None, limit_price: object = None,
                stop_price: object = None) -> str:
        raise NotImplementedError("the test double places market orders only")

    def position(self, symbol: str) -> Decimal:
        return self.held.get(symbol, Decimal(0))

    def positions(self) -> dict[str, Decimal]:
        return {s: q for s, q in self.held.items() if q}

    def cash(self) -> Decimal:
        return self.cash_

    def equity(self) -> Decimal:
        value = sum((q * Decimal(repr(self.last[s])) for s, q in self.held.items()), Decimal(0))
        return self.cash_ + value

    def open_orders(self, symbol: str | None = None) -> list[str]:
        return [i for i, o in self.working.items() if symbol is None or o[0] == symbol]

    def history(self, symbol: str, n: int) -> npt.NDArray[np.float64]:
        return np.array(self.closes.get(symbol, [])[-n:], dtype=np.float64)

    def log(self, msg: str) -> None:
        self.lines.append(msg)

    def fill_at_open(self, symbol: str, price: float) -> None:
        """Fill the symbol's working market orders at `price` (a bar's open)."""
        for order_id in self.open_orders(symbol):
            _, side, qty = self.working.pop(order_id)
            signed = qty if side == "buy" else -qty
            self.held[symbol] = self.position(symbol) + signed
            self.cash_ -= signed * Decimal(repr(price))


def drive(strategy: Strategy, bars: Mapping[str, BarColumns], symbols: Sequence[str] | None = None,
          cash: Decimal = Decimal(1_000_000)) -> tuple[list[Decision], MemoryContext]:
    """Run the strategy bar by bar: by ts, then symbol order; each bar first fills the symbol's
    working orders at its open, then delivers the closed bar. Returns the decisions."""
    order = tuple(symbols or bars)
    ctx = MemoryContext(order, cash)
    events = sorted((int(ts), rank, i) for rank, s in enumerate(order)
                    for i, ts in enumerate(bars[s].ts.tolist()))
    decided: list[Decision] = []
    strategy.on_start(ctx)
    for ts, rank, i in events:
        symbol, cols = order[rank], bars[order[rank]]
        ctx.fill_at_open(symbol, float(cols.open[i]))
        ctx.now_ns = ts
        ctx.closes.setdefault(symbol, []).append(float(cols.close[i]))
        ctx.last[symbol] = float(cols.close[i])
        before = len(ctx.submitted)
        strategy.on_bar(ctx, StrategyBar(symbol, ts, float(cols.open[i]), float(cols.high[i]),
                                         float(cols.low[i]), float(cols.close[i]),
                                         float(cols.volume[i])))
        decided += [Decision(i, ts, s, side, qty, kind)
                    for s, side, qty, kind in ctx.submitted[before:]]
    strategy.on_stop(ctx)
    return decided, ctx
