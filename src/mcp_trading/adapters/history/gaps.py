"""Missing trading sessions in daily history: the NYSE sessions (exchange_calendars, XNYS,
holidays and special closures included) between a series' first and last bar that have no bar.

`Sessions` holds the session days as bar timestamps (New York midnight, UTC ns) in one sorted
numpy array and widens its window when a file reaches beyond it; positions are found with
`searchsorted`, so counting a batch's gaps is vectorised. The exact count of a series' gaps
is `sessions in [first, last] - bars on a session`; the example days are the first few found.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from mcp_trading.adapters.history.timestamps import day_starts

__all__ = ["GAP_EXAMPLES", "DailyGaps", "Sessions"]

GAP_EXAMPLES = 5
_DAY_NS = 86_400 * 1_000_000_000
_MARGIN = 400 * _DAY_NS  # widen by more than a year at a time: few rebuilds

I64 = npt.NDArray[np.int64]


class Sessions:
    """NYSE session days as New York midnights (UTC ns), for a window that grows on demand."""

    def __init__(self) -> None:
        self.days: I64 = np.empty(0, dtype=np.int64)
        self._lo = 0
        self._hi = -1

    def cover(self, lo: int, hi: int) -> None:
        """Make sure every session in [lo, hi] (bar timestamps) is known."""
        if self._lo <= lo and hi <= self._hi:
            return
        start = min(lo, self._lo) if self.days.size else lo
        end = max(hi, self._hi) if self.days.size else hi
        self.days = _nyse_days(start - _MARGIN, end + _MARGIN)
        self._lo, self._hi = start - _MARGIN, end + _MARGIN

    def count(self, first: int, last: int) -> int:
        """Sessions from `first` to `last`, both included."""
        return int(np.searchsorted(self.days, last, "right") - np.searchsorted(self.days, first, "left"))


def _nyse_days(lo: int, hi: int) -> I64:
    import exchange_calendars

    def iso(ns: int) -> str:
        return str(np.datetime64(ns, "ns").astype("datetime64[D]"))

    with warnings.catch_warnings():  # see adapters/calendars.py: a pandas deprecation, not ours
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        cal = exchange_calendars.get_calendar("XNYS", start=iso(lo), end=iso(hi))
    dates = pa.array(cal.sessions.date, type=pa.date32())
    return day_starts(dates)


@dataclass
class DailyGaps:
    """The gap bookkeeping of one daily series during an import."""

    on_session: int = 0  # bars that fall on a session
    off_session: int = 0  # bars on a day the NYSE did not trade (weekend, holiday)
    examples: list[int] = field(default_factory=list)  # ts of missing sessions, first few found

    def add(self, sessions: Sessions, ts: I64, before: int | None, after: int | None) -> None:
        """Count the bars `ts` (ascending, distinct); `before`/`after`: the stored neighbours."""
        sessions.cover(int(ts[0]), int(ts[-1]))
        pos = np.searchsorted(sessions.days, ts)
        on = (pos < sessions.days.size) & (sessions.days[np.minimum(pos, sessions.days.size - 1)] == ts)
        self.on_session += int(on.sum())
        self.off_session += int(ts.size - on.sum())
        if len(self.examples) >= GAP_EXAMPLES:
            return
        edges = ts[on]
        if before is not None:
            edges = np.concatenate(([before], edges))
        if after is not None:
            edges = np.concatenate((edges, [after]))
        self._examples(sessions, edges)

    def _examples(self, sessions: Sessions, edges: I64) -> None:
        if edges.size < 2:
            return
        pos = np.searchsorted(sessions.days, edges)
        for j in np.flatnonzero(np.diff(pos) > 1)[:GAP_EXAMPLES]:
            start = int(pos[j]) + 1 if sessions.days[pos[j]] == edges[j] else int(pos[j])
            for k in range(start, int(pos[j + 1])):
                if len(self.examples) >= GAP_EXAMPLES:
                    return
                self.examples.append(int(sessions.days[k]))

    def missing(self, sessions: Sessions, first: int, last: int) -> int:
        """How many sessions in [first, last] have no bar."""
        sessions.cover(first, last)
        return sessions.count(first, last) - self.on_session
