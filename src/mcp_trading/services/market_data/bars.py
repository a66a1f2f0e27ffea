"""Bars: 1-minute OHLC bars folded from the quote stream, longer timeframes rolled up on read.

A bar's price is the quote's mark (last trade, else mid). `n` counts the quotes folded in.
`volume` is None: the simulator reports top-of-book sizes, not traded volume, and summing
quoted sizes would invent a number that is not volume. A provider with real trades (replay,
Alpha Vantage) can fill the column.

The aggregator is pure (time comes from the quotes). It keeps the completed bars of the last
day per symbol in memory and hands the completed bars not yet stored to `take_pending`; the
store writes them in batches off the event loop. The bar in progress when the process stops
is not stored (it is incomplete), so the minute of a restart has a partial bar.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from mcp_trading.adapters.store.schema import archive_horizons
from mcp_trading.adapters.store.schema import bars as bars_table
from mcp_trading.domain.market import Quote
from mcp_trading.domain.sessions import SessionCalendar

__all__ = [
    "MAX_MINUTE_ROWS",
    "MINUTE_NS",
    "TIMEFRAMES",
    "Bar",
    "BarAggregator",
    "SqlBarStore",
    "max_limit",
    "rollup",
    "session_day_start",
]

MINUTE_NS = 60 * 1_000_000_000
#: Timeframe name -> minutes per bar. Intraday buckets are aligned on UTC (epoch multiples);
#: a `1Day` bar is one trading session (`day_start` names it; 1440 bounds the rows read).
TIMEFRAMES: dict[str, int] = {"1Min": 1, "5Min": 5, "15Min": 15, "30Min": 30, "1Hour": 60,
                              "1Day": 1440}
#: A query reads at most this many 1-minute rows (bounds memory and time per request).
MAX_MINUTE_ROWS = 60_000
_MAX_LIMIT = 10_000
_DAY_MINUTES = 24 * 60


def max_limit(timeframe: str) -> int:
    """The largest `limit` a query of this timeframe may ask for."""
    return min(_MAX_LIMIT, MAX_MINUTE_ROWS // TIMEFRAMES[timeframe])


class Bar(NamedTuple):
    """One completed bar; `ts` is the start of its interval (ns since the epoch)."""

    symbol: str
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    n: int
    volume: Decimal | None = None


class _Building:
    """The bar in progress for one symbol."""

    __slots__ = ("close", "high", "low", "n", "open", "ts")

    def __init__(self, ts: int, price: Decimal) -> None:
        self.ts = ts
        self.open = self.high = self.low = self.close = price
        self.n = 1

    def add(self, price: Decimal) -> None:
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.n += 1

    def done(self, symbol: str) -> Bar:
        return Bar(symbol, self.ts, self.open, self.high, self.low, self.close, self.n)


class BarAggregator:
    """Folds quotes into 1-minute bars per symbol; keeps `keep` completed bars per symbol."""

    def __init__(self, *, keep: int = _DAY_MINUTES) -> None:
        if keep <= 0:
            raise ValueError(f"keep was {keep}; must be > 0")
        self._keep = keep
        self._building: dict[str, _Building] = {}
        self._done: dict[str, deque[Bar]] = {}
        self._pending: list[Bar] = []
        self._newest_minute = 0

    def on_quote(self, quote: Quote) -> None:
        minute = quote.ts - quote.ts % MINUTE_NS
        price = quote.mark
        bar = self._building.get(quote.symbol)
        if bar is None:
            self._building[quote.symbol] = _Building(minute, price)
        elif minute == bar.ts:
            bar.add(price)
        elif minute > bar.ts:
            self._complete(quote.symbol, bar)
            self._building[quote.symbol] = _Building(minute, price)
        # else: a late quote for a minute already closed; the bar is final, so it is dropped
        if minute > self._newest_minute:
            self._newest_minute = minute
            self._close_before(minute)

    def _close_before(self, minute: int) -> None:
        """A symbol that stopped quoting still gets its bar closed once the stream moves on."""
        stale = [s for s, b in self._building.items() if b.ts < minute]
        for symbol in stale:
            self._complete(symbol, self._building.pop(symbol))

    def _complete(self, symbol: str, bar: _Building) -> None:
        done = bar.done(symbol)
        ring = self._done.get(symbol)
        if ring is None:
            ring = self._done[symbol] = deque(maxlen=self._keep)
        ring.append(done)
        self._pending.append(done)

    def take_pending(self) -> list[Bar]:
        """The completed bars not yet handed out for storage (and forget them)."""
        pending, self._pending = self._pending, []
        return pending

    def restore_pending(self, bars: Sequence[Bar], *, limit: int = 100_000) -> int:
        """Put back bars a failed write did not store; returns how many had to be dropped."""
        self._pending[:0] = bars
        dropped = max(0, len(self._pending) - limit)
        if dropped:
            del self._pending[:dropped]
        return dropped

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def covered_from(self, symbol: str) -> int | None:
        """Memory holds every completed bar of `symbol` from this time on (None: none yet)."""
        ring = self._done.get(symbol)
        return ring[0].ts if ring else None

    def completed(self, symbol: str) -> list[Bar]:
        return list(self._done.get(symbol, ()))

    def building(self, symbol: str) -> Bar | None:
        """The bar in progress (incomplete), if any."""
        bar = self._building.get(symbol)
        return None if bar is None else bar.done(symbol)


#: a calendar's time zone, where its trading day begins (a daily bar's ts)
_CALENDAR_ZONES: dict[str, tzinfo] = {"nyse": ZoneInfo("America/New_York")}


def session_day_start(calendar: SessionCalendar) -> Callable[[int], int | None]:
    """ts -> the ts of its session's daily bar: midnight of the trading day in the calendar's
    time zone (America/New_York for the NYSE, UTC for always_open), like the history store's
    1Day bars; None outside a session. Raises CalendarRangeError outside a loaded schedule."""
    zone = _CALENDAR_ZONES.get(calendar.name, UTC)
    days: dict[str, int] = {}

    def day_start(ts: int) -> int | None:
        session = calendar.session_at(ts)
        if not session.open_ns <= ts < session.close_ns:
            return None
        start = days.get(session.day)
        if start is None:
            midnight = datetime.fromisoformat(session.day).replace(tzinfo=zone)
            start = days[session.day] = int(midnight.timestamp()) * 1_000_000_000
        return start

    return day_start


def rollup(minute_bars: Iterable[Bar], timeframe: str, *,
           day_start: Callable[[int], int | None] | None = None) -> list[Bar]:
    """Roll ascending 1-minute bars into `timeframe` bars.

    Intraday buckets are aligned on UTC. `1Day` needs `day_start`: a minute's session, as
    the ts of that trading day's bar (midnight in the exchange's time zone), or None for a
    minute outside every session (it is left out, as a daily bar covers the session only).
    """
    minutes = TIMEFRAMES[timeframe]
    if minutes == 1:
        return list(minute_bars)
    size = minutes * MINUTE_NS

    def intraday(ts: int) -> int | None:
        return ts - ts % size

    bucket: Callable[[int], int | None] = intraday
    if timeframe == "1Day":
        if day_start is None:
            raise ValueError("a 1Day roll-up needs day_start (the session of a minute)")
        bucket = day_start
    out: list[Bar] = []
    for bar in minute_bars:
        start = bucket(bar.ts)
        if start is None:
            continue
        if out and out[-1].ts == start:
            last = out[-1]
            volume = (None if last.volume is None or bar.volume is None
                      else last.volume + bar.volume)
            out[-1] = Bar(last.symbol, start, last.open, max(last.high, bar.high),
                          min(last.low, bar.low), bar.close, last.n + bar.n, volume)
        else:
            out.append(bar._replace(ts=start))
    return out


class SqlBarStore:
    """The `bars` table: batch writes (idempotent) and range reads. Call from a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        if dialect == "sqlite":
            self._insert: Any = sqlite.insert(bars_table).on_conflict_do_nothing()
        elif dialect == "postgresql":
            self._insert = postgresql.insert(bars_table).on_conflict_do_nothing()
        else:
            raise ValueError(f"bars cannot be stored on {dialect!r}; use SQLite or PostgreSQL")

    def dispose(self) -> None:
        self._engine.dispose()

    def write(self, bars: Sequence[Bar]) -> None:
        """Store bars in one transaction; a bar already stored (same symbol and minute) stays."""
        if not bars:
            return
        rows = [b._asdict() for b in bars]
        with self._engine.begin() as conn:
            conn.execute(self._insert, rows)

    def archive_horizon(self) -> int | None:
        """Feed-built bars before this time (ns) were moved to `bars_archive` by `mcp-trading
        archive` (None: none were)."""
        h = archive_horizons.c
        with self._engine.connect() as conn:
            before = conn.execute(select(h.before_ns).where(h.name == "bars")).scalar()
        return None if before is None else int(before)

    def read(self, symbol: str, *, start: int | None, end: int | None, limit: int,
             latest: bool) -> list[Bar]:
        """Up to `limit` bars in [start, end], ascending: the first ones, or the latest ones."""
        t = bars_table
        query = select(t.c.symbol, t.c.ts, t.c.open, t.c.high, t.c.low, t.c.close, t.c.n,
                       t.c.volume).where(t.c.symbol == symbol)
        if start is not None:
            query = query.where(t.c.ts >= start)
        if end is not None:
            query = query.where(t.c.ts <= end)
        query = query.order_by(t.c.ts.desc() if latest else t.c.ts.asc()).limit(limit)
        with self._engine.connect() as conn:
            rows = [Bar(*row) for row in conn.execute(query)]
        if latest:
            rows.reverse()
        return rows
