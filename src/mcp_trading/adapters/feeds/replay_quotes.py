"""The quotes a replay derives from one stored bar (the rule is drawn in feeds/replay.py).

Per bar, four marks: open, then high and low in the order the bar most plausibly moved
(high first when it closed below its open, else low first), then close. Each mark becomes one
quote: bid = mark × (1 − s/2) rounded down to the instrument's tick, ask = mark × (1 + s/2)
rounded up (so the spread is never narrower than s and never zero), last = the mark on the
nearest tick (inside [bid, ask] by construction); a bid below one tick is raised to one tick.
Sizes: a quarter of the bar's volume on each side, rounded down to the lot, at least one lot;
`DEFAULT_SIZE` when the source reports no volume (NaN) or a volume of zero.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.domain.instruments import Instrument

__all__ = [
    "DEFAULT_SIZE",
    "DEFAULT_SPREAD_BPS",
    "MARKS_PER_BAR",
    "BarQuoter",
    "MarkQuote",
    "ReplaySeries",
    "mark_path",
]

MARKS_PER_BAR = 4
DEFAULT_SPREAD_BPS = Decimal(2)
DEFAULT_SIZE = Decimal(100)  # shares per side when the bar reports no volume
_BPS = Decimal(10_000)
_TWO = Decimal(2)


class ReplaySeries(NamedTuple):
    """The stored bars one symbol's replay plays (one source, one timeframe)."""

    symbol: str
    source: str
    bars: BarColumns


class MarkQuote(NamedTuple):
    """One mark's prices and sizes; the quote's time is set when it is emitted."""

    mark: Decimal
    bid: Decimal
    ask: Decimal
    size: Decimal  # on both sides


def mark_path(open_: float, high: float, low: float, close: float) -> tuple[float, ...]:
    """The bar's four marks in time order: open, high/low (high first on a down bar), close."""
    if close < open_:
        return (open_, high, low, close)
    return (open_, low, high, close)


def _decimal(value: float) -> Decimal:
    # repr is the shortest text that reads back as this float: the price as it was imported
    return Decimal(repr(value))


class BarQuoter:
    """Turns a bar of one instrument into its four mark quotes at a stated spread."""

    __slots__ = ("_default_size", "_half", "_instrument")

    def __init__(self, instrument: Instrument, *, spread_bps: Decimal = DEFAULT_SPREAD_BPS,
                 default_size: Decimal = DEFAULT_SIZE) -> None:
        if not spread_bps > 0:
            raise ValueError(f"spread_bps was {spread_bps}; must be > 0 (a zero spread would "
                             "lock the book: bid = ask)")
        if not default_size > 0:
            raise ValueError(f"default_size was {default_size}; must be > 0")
        self._instrument = instrument
        self._half = spread_bps / _BPS / _TWO
        self._default_size = default_size

    def quotes(self, bars: BarColumns, index: int) -> tuple[MarkQuote, ...]:
        """The four mark quotes of bar `index`, in time order."""
        marks = mark_path(float(bars.open[index]), float(bars.high[index]),
                          float(bars.low[index]), float(bars.close[index]))
        size = self.size(float(bars.volume[index]))
        return tuple(self.quote(_decimal(m), size) for m in marks)

    def quote(self, mark: Decimal, size: Decimal) -> MarkQuote:
        """One mark's quote: bid and ask around it on the tick grid, last on the nearest tick."""
        inst = self._instrument
        tick = inst.tick_size
        bid = max(inst.round_to_tick(mark * (1 - self._half), up=False), tick)
        ask = inst.round_to_tick(mark * (1 + self._half), up=True)
        if ask <= bid:  # only when the bid was raised to one tick
            ask = bid + tick
        last = min(max((mark / tick).to_integral_value(ROUND_HALF_EVEN) * tick, bid), ask)
        return MarkQuote(last.quantize(tick), bid, ask, size)

    def size(self, volume: float) -> Decimal:
        """A quarter of the bar's volume, rounded down to the lot, at least one lot."""
        if math.isnan(volume) or volume <= 0:
            return self._default_size
        lot = self._instrument.lot_size
        lots = (Decimal(int(volume)) / 4 / lot).to_integral_value(rounding="ROUND_FLOOR")
        return max(lots, Decimal(1)) * lot
