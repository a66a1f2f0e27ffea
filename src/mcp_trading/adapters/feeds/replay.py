"""The REPLAY market-data provider: stored history bars played back as the live quote feed.

`ReplayFeed` implements the platform's `Feed` (platform/platform.py) and the kernel's
`QuoteFeed` (kernel/ports.py) exactly as the simulator does (`name`, `calendar`, `symbols()`,
`next_quotes(ts)`), so the paper venue and live strategies trade on real prices.

Quotes from bars (replay_quotes.py holds the arithmetic). Each bar of length L (1Min: 60 s,
1Day: 24 h from the bar's ts, which is midnight of the trading day in New York) gives four
marks, at replay times bar ts + k × L/4 for k = 0..3:

    open → high → low → close   when close < open (the bar fell: assume it went up first)
    open → low → high → close   otherwise

Each mark is one quote: bid = mark × (1 − s/2) rounded down to the instrument's tick, ask =
mark × (1 + s/2) rounded up, last = the mark on the nearest tick, for a spread s in bps
(MCP_TRADING_REPLAY_SPREAD_BPS, default 2); bid and ask sizes a quarter of the bar's volume
(rounded down to the lot, at least one lot), 100 shares when the source reports no volume.
Prices are Decimal. One replay *step* is one replay time: every replayed symbol with a mark
then quotes once (symbols in name order); steps go in time order.

Clocks — the decision. A quote's `ts` is the WALL time of its emission (the `ts` the quote
pump passes to `next_quotes`), not the bar's time. The kernel rolls its trading session and
resets daily loss limits by quote ts, journals events at its own clock's time, and the venue
compares quote ts with an order's `active_at` (the clock plus latency); health ages the feed
by wall time. Replay times (years ago, and going backwards on a seek) would fight the clock in
all four. So the platform runs on its own clock and calendar, as with the simulator, and the
replay time is kept beside the quotes: `status().replay_ns` (the replay time reached) and
`last_marks()` (per symbol: source, bar ts, mark ts, mark number of the last quote). With the
`nyse` calendar the WALL clock decides whether the market is open, not the replayed day; the
default `always_open` is the one that fits a replay.

Speed. At speed N > 0, the replay time advances N× as fast as the wall time between calls
(the gap between two marks, nights and weekends included, divided by N); the first step is
emitted at start. At most `max_catchup_steps` steps per call: a replay that falls further
behind plays on from where it is (re-anchored) rather than skipping bars. Speed 0 is
stepped: nothing is emitted but what `step(n)` asks for.

States (`ReplayState`)::

                 first next_quotes / resume()
        idle ───────────────────────────────► running ───── last step emitted ───► finished
          │ pause()          pause() │  ▲ resume()                                   │
          └────────────────────────► paused ◄─────────── seek(date) ─────────────────┘

    idle      built, nothing emitted; step(n) moves it to running (stepped) or paused (N×)
    running   emits on schedule (N×) or what step(n) asked (stepped)
    paused    emits nothing but what step(n) asks; resume() continues from the replay time
              reached (the rest of the gap between two marks is played, not skipped)
    finished  the end of the range was emitted; emits nothing, so the feed goes stale and
              health says so (the platform's stale detection); seek(date) replays again
`seek(date)` moves to the first step on or after that day (from any state, keeping
running or paused). Control methods are thread-safe (a lock; each is short).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from mcp_trading.adapters.feeds.replay_quotes import (
    DEFAULT_SIZE,
    DEFAULT_SPREAD_BPS,
    MARKS_PER_BAR,
    BarQuoter,
    MarkQuote,
    ReplaySeries,
)
from mcp_trading.adapters.history.contract import HISTORY_TIMEFRAMES
from mcp_trading.clocks import WallClock
from mcp_trading.domain.errors import ConflictError, InvalidError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.kernel.ports import Clock

__all__ = [
    "DEFAULT_REPLAY_CATCHUP_STEPS",
    "EXCHANGE_TZ",
    "REPLAY_TIMEFRAMES",
    "ReplayControl",
    "ReplayFeed",
    "ReplayMark",
    "ReplayState",
    "ReplayStatus",
    "day_start_ns",
]

DEFAULT_REPLAY_CATCHUP_STEPS = 1000
REPLAY_TIMEFRAMES = ("1Min", "1Day")
EXCHANGE_TZ = ZoneInfo("America/New_York")  # a daily bar's ts is midnight of its day here
_MINUTE_NS = 60_000_000_000
_MAX_STEP = 1_000_000
I64 = npt.NDArray[np.int64]


class ReplayState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


class ReplayMark(NamedTuple):
    """Where one symbol's replay is: the bar and mark of its last emitted quote."""

    symbol: str
    source: str
    bar_ts: int  # ns, the bar's start (replay time)
    mark_ts: int  # ns, the mark's replay time: bar_ts + mark × bar length / 4
    mark: int  # 0 open, 1 and 2 the extremes, 3 close


class ReplayStatus(NamedTuple):
    """What the replay is doing; `replay_ns` is None until the first step."""

    state: ReplayState
    speed: float  # 0: stepped
    timeframe: str
    first_ns: int  # replay time of the first step
    last_ns: int  # replay time of the last step
    replay_ns: int | None  # the replay time reached
    steps_done: int
    steps_total: int
    pending_steps: int  # asked for by step(n), not yet emitted
    sources: dict[str, str]  # symbol -> the source its bars come from


class ReplayControl(Protocol):
    """What the providers service drives (REST and MCP): a replay's state and commands."""

    def status(self) -> ReplayStatus: ...
    def bars_left(self) -> dict[str, int]: ...
    def step(self, n: int = 1) -> int: ...
    def pause(self) -> ReplayStatus: ...
    def resume(self) -> ReplayStatus: ...
    def seek(self, when: date | int) -> ReplayStatus: ...


class _Track:
    """One symbol's bars, their mark times and the next mark to emit."""

    __slots__ = ("_cache", "bars", "emitted", "marks", "next", "quoter", "source", "symbol")

    def __init__(self, series: ReplaySeries, quoter: BarQuoter, quarter_ns: int) -> None:
        self.symbol, self.source, self.bars = series
        self.quoter = quoter
        offsets = np.arange(MARKS_PER_BAR, dtype=np.int64) * quarter_ns
        self.marks: I64 = (series.bars.ts[:, None] + offsets).ravel()
        self.next = 0  # index into marks of the next one to emit
        self.emitted = -1  # index of the last one emitted (-1: none)
        self._cache: tuple[int, tuple[MarkQuote, ...]] = (-1, ())

    def mark_quote(self, j: int) -> MarkQuote:
        bar = j // MARKS_PER_BAR
        if self._cache[0] != bar:
            self._cache = (bar, self.quoter.quotes(self.bars, bar))
        return self._cache[1][j % MARKS_PER_BAR]


class ReplayFeed:
    """Stored bars of one source per symbol replayed as quotes (provider name "replay")."""

    name = "replay"
    calendar = "always_open"

    def __init__(self, series: Sequence[ReplaySeries], instruments: Mapping[str, Instrument], *,
                 timeframe: str = "1Day", speed: float = 1.0,
                 spread_bps: Decimal = DEFAULT_SPREAD_BPS, default_size: Decimal = DEFAULT_SIZE,
                 clock: Clock | None = None,
                 max_catchup_steps: int = DEFAULT_REPLAY_CATCHUP_STEPS) -> None:
        """`clock` times pause and resume (the wall clock by default; the pump's ts times
        `next_quotes`). Raises ValueError on a bad argument, naming it."""
        if timeframe not in REPLAY_TIMEFRAMES:
            raise ValueError(f"timeframe was {timeframe!r}; use one of {REPLAY_TIMEFRAMES}")
        if not (math.isfinite(speed) and speed >= 0):
            raise ValueError(f"speed was {speed}; must be > 0 (N× real time) or 0 (stepped)")
        if max_catchup_steps <= 0:
            raise ValueError(f"max_catchup_steps was {max_catchup_steps}; must be > 0")
        self._timeframe, self._speed = timeframe, speed
        self._clock: Clock = clock or WallClock()
        self._cap = max_catchup_steps
        bar_ns = HISTORY_TIMEFRAMES[timeframe] * _MINUTE_NS
        self._tracks = [_Track(s, BarQuoter(_instrument(instruments, s.symbol),
                                            spread_bps=spread_bps, default_size=default_size),
                               bar_ns // MARKS_PER_BAR)
                        for s in sorted(series, key=lambda s: s.symbol)]
        _check_tracks(self._tracks, bar_ns)
        self._times: I64 = np.unique(np.concatenate([t.marks for t in self._tracks]))
        self._lock = threading.Lock()
        self._state = ReplayState.IDLE
        self._i = 0  # index into _times of the next step
        self._pending = 0  # steps asked for by step(n)
        self._position = int(self._times[0])  # the replay time reached
        self._anchor = (0, self._position)  # (wall ns, replay ns) the N× schedule counts from

    def symbols(self) -> list[str]:
        return [t.symbol for t in self._tracks]

    # ---- the feed -------------------------------------------------------------------------
    def next_quotes(self, ts: int) -> list[Quote]:
        """The steps due at wall time `ts` (ns), each quote stamped `ts`; see the docstring."""
        with self._lock:
            if self._state is ReplayState.IDLE:
                self._run(ts, ReplayState.RUNNING)
            if self._state is ReplayState.FINISHED:
                return []
            n = self._pending
            timed = self._state is ReplayState.RUNNING and self._speed > 0
            if timed:
                wall, replay = self._anchor
                reached = replay + int((ts - wall) * self._speed)
                due = int(np.searchsorted(self._times, reached, side="right")) - self._i
                n = max(n, due)
            n = min(n, self._cap)
            out = self._emit(n, ts)
            self._pending = max(0, self._pending - n)
            if timed and n == self._cap:  # behind schedule: play on from here, skip nothing
                self._anchor = (ts, self._position)
            if self._i == len(self._times):
                self._state, self._pending = ReplayState.FINISHED, 0
            return out

    def _emit(self, n: int, ts: int) -> list[Quote]:
        out: list[Quote] = []
        times = self._times
        for i in range(self._i, self._i + n):
            t = int(times[i])
            for track in self._tracks:
                j = track.next
                if j < track.marks.shape[0] and track.marks[j] == t:
                    q = track.mark_quote(j)
                    out.append(Quote(track.symbol, q.bid, q.ask, q.size, q.size, q.mark, ts))
                    track.emitted, track.next = j, j + 1
            self._position = t
        self._i += n
        return out

    # ---- control --------------------------------------------------------------------------
    def status(self) -> ReplayStatus:
        """The replay's state, position and sources."""
        with self._lock:
            return self._status()

    def _status(self) -> ReplayStatus:
        times = self._times
        return ReplayStatus(self._state, self._speed, self._timeframe, int(times[0]),
                            int(times[-1]), self._position if self._i else None, self._i,
                            len(times), self._pending,
                            {t.symbol: t.source for t in self._tracks})

    def last_marks(self) -> dict[str, ReplayMark]:
        """Per symbol, the bar and mark its last emitted quote came from (replay times)."""
        with self._lock:
            return {t.symbol: ReplayMark(t.symbol, t.source,
                                         int(t.bars.ts[t.emitted // MARKS_PER_BAR]),
                                         int(t.marks[t.emitted]), t.emitted % MARKS_PER_BAR)
                    for t in self._tracks if t.emitted >= 0}

    def bars_left(self) -> dict[str, int]:
        """Per symbol, the bars with a mark still to emit (the one under way counts)."""
        with self._lock:
            return {t.symbol: t.bars.size - t.next // MARKS_PER_BAR for t in self._tracks}

    def step(self, n: int = 1) -> int:
        """Ask for `n` more steps (emitted by the next `next_quotes`); returns how many will
        be (fewer near the end). Stepped replays and paused ones only."""
        if not 1 <= n <= _MAX_STEP:
            raise InvalidError(f"n was {n}; step between 1 and {_MAX_STEP} steps", field="n")
        with self._lock:
            state = self._state
            if state is ReplayState.FINISHED:
                raise ConflictError(self._finished_message())
            if state is ReplayState.RUNNING and self._speed > 0:
                raise ConflictError(f"the replay runs at {self._speed}× real time; pause it "
                                    "before stepping, or run it stepped (speed 0)")
            if state is ReplayState.IDLE:
                self._state = ReplayState.RUNNING if self._speed == 0 else ReplayState.PAUSED
            granted = min(n, len(self._times) - self._i - self._pending)
            self._pending += granted
            return granted

    def pause(self) -> ReplayStatus:
        """Stop emitting (steps may still be asked for); idempotent."""
        with self._lock:
            if self._state is ReplayState.FINISHED:
                raise ConflictError(self._finished_message())
            if self._state is ReplayState.RUNNING and self._speed > 0:
                wall, replay = self._anchor
                reached = replay + int((self._clock.now_ns() - wall) * self._speed)
                self._position = min(max(reached, self._position), int(self._times[self._i]))
            self._state = ReplayState.PAUSED
            return self._status()

    def resume(self) -> ReplayStatus:
        """Emit again, on schedule from the replay time reached; idempotent."""
        with self._lock:
            if self._state is ReplayState.FINISHED:
                raise ConflictError(self._finished_message())
            if self._state is not ReplayState.RUNNING:
                self._run(self._clock.now_ns(), ReplayState.RUNNING)
            return self._status()

    def seek(self, when: date | int) -> ReplayStatus:
        """Move to the first step on or after `when` (a day in New York, or replay ns)."""
        target = when if isinstance(when, int) else day_start_ns(when)
        with self._lock:
            times = self._times
            if not int(times[0]) - _day_ns() < target <= int(times[-1]):
                raise InvalidError(f"{_shown(when)} is outside the replay's range "
                                   f"({_shown(int(times[0]))} to {_shown(int(times[-1]))}); "
                                   "seek to a time inside it", field="date")
            self._i = int(np.searchsorted(times, target, side="left"))
            for track in self._tracks:
                track.next = int(np.searchsorted(track.marks, target, side="left"))
            self._pending = 0
            self._position = int(times[self._i])
            if self._state is ReplayState.FINISHED:
                self._state = ReplayState.PAUSED
            elif self._state is ReplayState.RUNNING:
                self._anchor = (self._clock.now_ns(), self._position)
            return self._status()

    def _run(self, wall_ns: int, state: ReplayState) -> None:
        self._state = state
        self._anchor = (wall_ns, self._position)

    def _finished_message(self) -> str:
        return (f"the replay finished at {_shown(int(self._times[-1]))}; seek to a date "
                "inside its range to replay again")


def _instrument(instruments: Mapping[str, Instrument], symbol: str) -> Instrument:
    instrument = instruments.get(symbol)
    if instrument is None:
        raise ValueError(f"symbol {symbol!r} is not an instrument of the venue; register it "
                         "(an import registers history-only instruments) before replaying it")
    return instrument


def _check_tracks(tracks: list[_Track], bar_ns: int) -> None:
    if not tracks or any(t.bars.size == 0 for t in tracks):
        raise ValueError("series must be non-empty, each with at least one bar")
    if len({t.symbol for t in tracks}) != len(tracks):
        raise ValueError("series must name distinct symbols")
    for t in tracks:
        if t.bars.size > 1 and int(np.diff(t.bars.ts).min()) < bar_ns:
            raise ValueError(f"{t.symbol}'s bars are closer together than one bar's length; "
                             "they are not bars of the timeframe given")


def day_start_ns(day: date) -> int:
    """Midnight of `day` in New York, in ns since the epoch (a daily bar's ts)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=EXCHANGE_TZ).timestamp()) \
        * 1_000_000_000


def _day_ns() -> int:
    return 1440 * _MINUTE_NS


def _shown(when: date | int) -> str:
    if isinstance(when, date):
        return when.isoformat()
    return datetime.fromtimestamp(when / 1e9, tz=EXCHANGE_TZ).isoformat(timespec="minutes")
