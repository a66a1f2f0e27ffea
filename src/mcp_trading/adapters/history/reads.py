"""The one read path of stored history: REST, backtests and the optimizer call `read_bars`.

Source selection (source=None): among the symbol's stored series whose timeframe rolls up
into the asked one (`rollup.divides`), `simulator` excluded, the series that covers
[start, end] wins (first <= start and last >= end); when none covers, the one with the most
bars in the range (estimated from its first/last/count, assuming evenly spread bars); then
the finest timeframe; ties by source name. One read never mixes two sources or two
timeframes. Nothing qualifying: None, and the caller serves the live feed's bars.

Bounds: a read returns at most `limit` bars; REST pages ask for at most PAGE_LIMIT. The numpy
path (backtests, the optimizer) may pass limit=None for every bar in the range.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from mcp_trading.adapters.history.columns import check_key, check_limit, select_bars
from mcp_trading.adapters.history.contract import (
    ADJUSTMENTS,
    HISTORY_TIMEFRAMES,
    BarColumns,
    HistoryStore,
    SeriesRange,
)
from mcp_trading.adapters.history.rollup import divides, rollup
from mcp_trading.domain.errors import InvalidError, NotFoundError
from mcp_trading.domain.sessions import SessionCalendar

__all__ = ["PAGE_LIMIT", "SIMULATOR_SOURCE", "BarRead", "adjust", "choose_series", "read_bars"]

PAGE_LIMIT = 10_000  # the most bars one REST page returns
SIMULATOR_SOURCE = "simulator"
_MINUTE_NS = 60_000_000_000
_DAY_NS = 86_400_000_000_000


class BarRead(NamedTuple):
    source: str
    timeframe: str  # the asked timeframe
    adjustment: str  # raw | all, as asked
    adjusted: bool  # False: raw prices (asked raw, or no adjustment factor is known)
    columns: BarColumns
    stored_timeframe: str  # the series it was read (and rolled up) from


_calendar_lock = threading.Lock()
_calendar: list[SessionCalendar] = []


def _nyse() -> SessionCalendar:
    # Built once, on first need: the NYSE schedule from 1990 covers every shipped history.
    with _calendar_lock:
        if not _calendar:
            from mcp_trading.adapters.calendars import NyseCalendar
            _calendar.append(NyseCalendar(start="1990-01-01"))
        return _calendar[0]


def _in_range(s: SeriesRange, start: int | None, end: int | None) -> float:
    lo = s.first if start is None else max(s.first, start)
    hi = s.last if end is None else min(s.last, end)
    if hi < lo:
        return 0.0
    span = s.last - s.first
    return float(s.bars) if span == 0 else s.bars * (hi - lo) / span


def choose_series(series: list[SeriesRange], timeframe: str, *, start: int | None,
                  end: int | None, source: str | None = None) -> SeriesRange | None:
    """The series a read of `timeframe` uses (see the module docstring), or None."""
    usable = [s for s in series if divides(s.timeframe, timeframe)
              and (s.source == source if source is not None else s.source != SIMULATOR_SOURCE)]
    if not usable:
        return None

    def rank(s: SeriesRange) -> tuple[bool, float, int, str]:
        covers = (start is None or s.first <= start) and (end is None or s.last >= end)
        return (not covers, 0.0 if covers else -_in_range(s, start, end),
                HISTORY_TIMEFRAMES[s.timeframe], s.source)

    return min(usable, key=rank)


def read_bars(store: HistoryStore, symbol: str, timeframe: str, *, start: int | None = None,
              end: int | None = None, limit: int | None = PAGE_LIMIT, latest: bool = False,
              adjustment: str = "raw", source: str | None = None,
              calendar: SessionCalendar | None = None) -> BarRead | None:
    """Stored bars of `symbol` at `timeframe` in [start, end] (ns, inclusive), ascending: the
    first or latest `limit`. `calendar` (default NYSE) shapes daily roll-ups."""
    check_key(symbol, source or "any", timeframe)
    check_limit(limit)
    if adjustment not in ADJUSTMENTS:
        raise InvalidError(f"adjustment {adjustment!r} is not one of raw|all", field="adjustment",
                           extra={"allowed": list(ADJUSTMENTS)})
    series = store.series(symbol)
    chosen = choose_series(series, timeframe, start=start, end=end, source=source)
    if chosen is None:
        if source is not None:
            _no_such_source(symbol, timeframe, source, series)
        return None
    bars = _read_rolled(store, chosen, timeframe, start=start, end=end, limit=limit,
                        latest=latest, calendar=calendar)
    adjusted = False
    if adjustment == "all" and bool(np.any(~np.isnan(bars.adj_factor))):
        bars, adjusted = adjust(bars), True
    return BarRead(chosen.source, timeframe, adjustment, adjusted, bars, chosen.timeframe)


def _no_such_source(symbol: str, timeframe: str, source: str, series: list[SeriesRange]) -> None:
    here = sorted({s.source for s in series})
    if source in here:
        frames = sorted({s.timeframe for s in series if s.source == source},
                        key=HISTORY_TIMEFRAMES.__getitem__)
        raise NotFoundError(f"source {source!r} has no {symbol} bars that roll up into "
                            f"{timeframe}; it has {', '.join(frames)}", field="source")
    raise NotFoundError(f"no {symbol} history from source {source!r}; sources stored: "
                        f"{', '.join(here) or 'none'}", field="source",
                        extra={"sources": here})


def _read_rolled(store: HistoryStore, chosen: SeriesRange, timeframe: str, *,
                 start: int | None, end: int | None, limit: int | None, latest: bool,
                 calendar: SessionCalendar | None) -> BarColumns:
    key = (chosen.symbol, chosen.source, chosen.timeframe)
    if chosen.timeframe == timeframe:
        return store.read(*key, start=start, end=end, limit=limit, latest=latest)
    # Read the stored bars of every rolled bar that starts in [start, end]: from the start of
    # the bucket holding `start` to the end of the bucket (or day) starting at `end`.
    width = HISTORY_TIMEFRAMES[timeframe] * _MINUTE_NS
    lo = start if start is None or timeframe == "1Day" else start - start % width
    hi = None if end is None else (end + _DAY_NS if timeframe == "1Day"
                                   else end - end % width + width - 1)
    # A rolled bar holds at most `ratio` stored ones, so limit+1 rolled bars' worth of stored
    # bars always holds `limit` complete ones once the possibly cut edge bar is dropped.
    ratio = HISTORY_TIMEFRAMES[timeframe] // HISTORY_TIMEFRAMES[chosen.timeframe]
    want = None if limit is None else (limit + 1) * ratio
    raw = store.read(*key, start=lo, end=hi, limit=want, latest=latest)
    rolled = rollup(raw, chosen.timeframe, timeframe,
                    calendar=calendar if calendar is not None else _nyse())
    if want is not None and raw.size == want and rolled.size:
        rolled = select_bars(rolled, start=None, end=None, limit=rolled.size - 1, latest=latest)
    return select_bars(rolled, start=start, end=end, limit=limit, latest=latest)


def adjust(bars: BarColumns) -> BarColumns:
    """Prices times the adjustment factor, volume divided by it, where a factor is known."""
    factor = np.where(np.isnan(bars.adj_factor), 1.0, bars.adj_factor)
    return BarColumns(bars.ts, bars.open * factor, bars.high * factor, bars.low * factor,
                      bars.close * factor, bars.volume / factor, bars.adj_factor)
