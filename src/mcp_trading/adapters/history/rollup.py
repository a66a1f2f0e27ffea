"""Roll bars up to a coarser timeframe, in numpy.

Intraday targets (5Min ... 1Hour) bucket on UTC epoch multiples of their width, as the live
bars do. `1Day` from intraday bars is one bar per trading session of the calendar: only bars
whose ts lies inside the session [open, close) count (pre- and post-market bars are dropped;
an early close ends the day early), and the bar's ts is midnight of the session's day in
America/New_York, the convention of every daily bar in the store (imports and providers use
it too). With an `always_open` calendar a session is the UTC day.

Open = first open, high = max, low = min, close = last close, volume = sum (NaN when any
bar's volume is NaN: a partly reported volume would understate), adj_factor = the last bar's.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from mcp_trading.adapters.history.columns import empty_bars, take_bars
from mcp_trading.adapters.history.contract import HISTORY_TIMEFRAMES, BarColumns
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.sessions import SessionCalendar

__all__ = ["day_ts", "divides", "rollup"]

_MINUTE_NS = 60_000_000_000
_NEW_YORK = ZoneInfo("America/New_York")


def divides(stored: str, asked: str) -> bool:
    """Whether bars of timeframe `stored` roll up into `asked` (1Day takes every intraday)."""
    have, want = HISTORY_TIMEFRAMES[stored], HISTORY_TIMEFRAMES[asked]
    if asked == "1Day":
        return True
    return stored != "1Day" and want % have == 0


@cache
def day_ts(day: str) -> int:
    """Midnight of an ISO date in America/New_York, in ns since the epoch."""
    d = date.fromisoformat(day)
    midnight = datetime(d.year, d.month, d.day, tzinfo=_NEW_YORK)
    return int(midnight.timestamp()) * 1_000_000_000


def rollup(bars: BarColumns, stored: str, asked: str, *,
           calendar: SessionCalendar | None = None) -> BarColumns:
    """`bars` of timeframe `stored` as bars of `asked` (see the module docstring)."""
    if stored == asked:
        return bars
    if not divides(stored, asked):
        raise InvalidError(f"{stored} bars do not roll up into {asked}; a coarser timeframe "
                           "must be a multiple of the stored one", field="timeframe")
    if bars.size == 0:
        return empty_bars()
    if asked != "1Day":
        width = HISTORY_TIMEFRAMES[asked] * _MINUTE_NS
        buckets = bars.ts - bars.ts % width
        starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
        return _reduce(bars, starts, buckets[starts])
    if calendar is None:
        raise ValueError("a roll-up to 1Day needs the instrument's session calendar")
    return _daily(bars, calendar)


def _daily(bars: BarColumns, calendar: SessionCalendar) -> BarColumns:
    # One calendar lookup per session, not per bar: a session's bars are found by bisection.
    ts = bars.ts
    keep: list[npt.NDArray[np.intp]] = []
    days: list[int] = []
    i = 0
    while i < ts.size:
        session = calendar.session_at(int(ts[i]))
        lo = int(np.searchsorted(ts, session.open_ns, side="left"))
        hi = int(np.searchsorted(ts, session.close_ns, side="left"))
        if hi > lo:
            keep.append(np.arange(lo, hi))
            days.append(day_ts(session.day))
        i = max(hi, i + 1)
    if not keep:
        return empty_bars()
    index = np.concatenate(keep)
    starts = np.cumsum([0] + [k.size for k in keep[:-1]])
    kept = take_bars(bars, index)
    return _reduce(kept, starts, np.array(days, dtype=np.int64))


def _reduce(bars: BarColumns, starts: npt.NDArray[np.intp], ts: npt.NDArray[np.int64]
            ) -> BarColumns:
    last = np.r_[starts[1:], bars.size] - 1
    return BarColumns(
        np.ascontiguousarray(ts, dtype=np.int64),
        bars.open[starts],
        np.maximum.reduceat(bars.high, starts),
        np.minimum.reduceat(bars.low, starts),
        bars.close[last],
        np.add.reduceat(bars.volume, starts),
        bars.adj_factor[last],
    )
