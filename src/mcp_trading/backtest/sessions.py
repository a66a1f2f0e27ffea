"""The backtest's trading sessions and simulated times, drawn from the bars themselves.

Times of one union timestamp T (ns; the bars' ts is the start of their interval):

    T                 every symbol's open quote (market orders decided earlier fill here)
    T + 1 + 3k + j    symbol k's path quotes, segment j = 0, 1, 2 (open→low→high→close, or
                      open→high→low→close when close < open)
    D = min(T + interval, next T) - 1 ms
                      the decision time: the clock the strategy sees in on_bar / on_fill
    D + 1 ms          when an order decided at D reaches the venue (the kernel's latency
                      model, 1 ms): never later than the next bar's open, never before it
                      could have been decided

Sessions: one per data day (UTC date of the bars' ts; a daily bar's ts is midnight New York,
the same UTC date). Session k runs from the decision time of day k-1's last bar to the
decision time of day k's last bar, so sessions touch and the market is never closed: a day
order decided on the last bar of a day works through the whole next day (for daily bars:
through the next bar) and expires at that day's last decision. Market orders are never
refused as "market closed"; the kernel's own session rules (rolls, day-order expiry) run on
these sessions unchanged.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.sessions import Session

__all__ = ["LATENCY_NS", "BarSessions", "decision_times"]

LATENCY_NS = 1_000_000  # the kernel's latency model in a backtest: 1 ms (settings.latency_ms=1)
DAY_NS = 86_400 * 1_000_000_000
I64 = npt.NDArray[np.int64]


def decision_times(stamps: I64, interval_ns: int) -> I64:
    """D for each union timestamp (see the module docstring)."""
    ends = stamps + np.int64(interval_ns)
    if stamps.size > 1:
        ends[:-1] = np.minimum(ends[:-1], stamps[1:])
    return ends - np.int64(LATENCY_NS)


class BarSessions:
    """A `SessionCalendar` of the run's data days (module docstring)."""

    name = "backtest"

    def __init__(self, stamps: I64, decisions: I64) -> None:
        days = stamps // DAY_NS
        last_of_day = np.flatnonzero(np.append(days[1:] != days[:-1], True))
        self.closes: list[int] = decisions[last_of_day].tolist()
        self.days: list[str] = [datetime.fromtimestamp(int(d) * 86_400, UTC).date().isoformat()
                                for d in days[last_of_day].tolist()]
        self._first_open = int(stamps[0]) - DAY_NS if stamps.size else 0

    @property
    def day_closes(self) -> list[int]:
        """The close time of each data day (its last decision time), ascending."""
        return self.closes

    def session_at(self, ts: int) -> Session:
        i = bisect_right(self.closes, ts)
        if i == len(self.closes):  # after the data: one more day, so a roll has somewhere to go
            start = self.closes[-1] if self.closes else ts
            return Session("after", start, start + DAY_NS)
        start = self.closes[i - 1] if i else min(self._first_open, ts)
        return Session(self.days[i], start, self.closes[i])
