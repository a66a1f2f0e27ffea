"""Session calendars: the NYSE schedule from `exchange_calendars`, and lookup by name.

`NyseCalendar` answers `session_at(ts)` from plain int lists (opens, closes in ns) with one
bisect, so calling it for every quote is cheap. The schedule is built on first use, which is
also when `exchange_calendars` (and pandas) is imported: importing this module stays light.

Range: `exchange_calendars` builds a schedule for a window, by default from 20 years before
today to 1 year after (NYSE announces holidays about that far ahead). Pass `start`/`end` (ISO
dates) for another window: the library extrapolates its holiday rules to any window (its
nanosecond timestamps stop in 2262), so far-future sessions are a projection and ad-hoc
closures are known only as far as the library records them. A timestamp outside the loaded
window raises `CalendarRangeError` rather than guessing.
"""

from __future__ import annotations

import threading
import warnings
from bisect import bisect_right
from datetime import UTC, datetime
from typing import NamedTuple

from mcp_trading.domain.errors import TradingError
from mcp_trading.domain.sessions import AlwaysOpen, Session, SessionCalendar

__all__ = ["CALENDAR_NAMES", "CalendarRangeError", "NyseCalendar", "calendar_by_name"]

CALENDAR_NAMES = ("always_open", "nyse")

_NS = 1_000_000_000


class CalendarRangeError(TradingError, ValueError):
    """A timestamp falls outside the window of sessions the calendar was built for."""


class _Schedule(NamedTuple):
    days: list[str]  # ISO date of each session
    opens: list[int]  # ns since the epoch, ascending
    closes: list[int]  # ns since the epoch, ascending; early closes included
    first_ns: int  # 00:00 UTC of the first session's day: earlier answers are unknown


def _iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns // _NS, tz=UTC).isoformat()


class NyseCalendar:
    """New York Stock Exchange regular sessions (XNYS): holidays and early closes included."""

    name = "nyse"

    def __init__(self, *, start: str | None = None, end: str | None = None) -> None:
        self._start = start
        self._end = end
        self._schedule: _Schedule | None = None
        self._lock = threading.Lock()
        # The last answer with the interval of timestamps it holds for, [lo, hi): one tuple,
        # so a reader on another thread never sees a session paired with another's bounds.
        self._hit: tuple[int, int, Session] = (0, 0, Session("", 0, 0))

    def session_at(self, ts: int) -> Session:
        """The session open at `ts` (ns), or else the next one to open."""
        lo, hi, hit = self._hit
        if lo <= ts < hi:
            return hit
        sched = self._schedule or self._load()
        # The first session whose close is after ts is open at ts or is the next to open.
        i = bisect_right(sched.closes, ts)
        if i == len(sched.closes) or ts < sched.first_ns:
            raise CalendarRangeError(
                f"timestamp {ts} ({_iso(ts)}) is outside the NYSE schedule loaded for "
                f"{sched.days[0]}..{sched.days[-1]}; build NyseCalendar(start=..., end=...) "
                "with a window that covers it"
            )
        session = Session(sched.days[i], sched.opens[i], sched.closes[i])
        self._hit = (sched.closes[i - 1] if i else sched.first_ns, sched.closes[i], session)
        return session

    def bounds(self) -> tuple[str, str]:
        """The first and last session days (ISO) of the loaded window."""
        sched = self._schedule or self._load()
        return sched.days[0], sched.days[-1]

    def _load(self) -> _Schedule:
        with self._lock:
            if self._schedule is None:
                self._schedule = _build_schedule(self._start, self._end)
            return self._schedule


def _build_schedule(start: str | None, end: str | None) -> _Schedule:
    import exchange_calendars
    from exchange_calendars.errors import CalendarError

    try:
        with warnings.catch_warnings():
            # exchange_calendars 4.x reads Series.values, which pandas 3.1 deprecates for
            # tz-aware data; harmless here (we take UTC nanoseconds) and not ours to fix.
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            cal = exchange_calendars.get_calendar("XNYS", start=start, end=end)
    except (ValueError, CalendarError) as exc:  # bad dates, reversed or empty window
        raise CalendarRangeError(
            f"cannot build the NYSE calendar for start={start!r}, end={end!r}: {exc}"
        ) from exc
    opens = [int(v) for v in cal.opens_nanos.tolist()]
    closes = [int(v) for v in cal.closes_nanos.tolist()]
    days_ns = [int(v) for v in cal.sessions_nanos.tolist()]
    if not opens:
        raise CalendarRangeError(f"the NYSE calendar has no sessions in {start!r}..{end!r}")
    days = [datetime.fromtimestamp(d // _NS, tz=UTC).date().isoformat() for d in days_ns]
    return _Schedule(days, opens, closes, days_ns[0])


def calendar_by_name(name: str) -> SessionCalendar:
    """A fresh calendar for `name`: one of "always_open" or "nyse"."""
    if name == "always_open":
        return AlwaysOpen()
    if name == "nyse":
        return NyseCalendar()
    raise ValueError(f"unknown calendar {name!r}; allowed values: {', '.join(CALENDAR_NAMES)}")
