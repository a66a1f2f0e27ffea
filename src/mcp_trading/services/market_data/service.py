"""Market-data service functions: latest quotes, instruments, the market clock, bars, the stream.

Framework-free: the REST routes and MCP tools call these with a Principal and plain strings,
and every refusal is an error of a kind (domain/errors.py) naming the field and what is allowed.

One `MarketDataService` per platform (`for_platform`). Its background task (`run`) takes the
quotes the platform's pump fans out, folds them into bars, publishes them to stream clients
and writes completed bars to the store in batches, off the event loop. The stream's routing
(QuoteHub, one Subscriber per client) is market_data/stream.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

from mcp_trading.adapters.calendars import CalendarRangeError
from mcp_trading.adapters.store import MEMORY_URLS
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.clocks import WallClock
from mcp_trading.domain.errors import InvalidError, NotFoundError, UnavailableError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.sessions import AlwaysOpen, SessionCalendar
from mcp_trading.platform.alert_center import Severity
from mcp_trading.platform.history import PlatformHistory
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.market_data.bar_query import BarQuery, parse_query
from mcp_trading.services.market_data.bars import (
    TIMEFRAMES,
    Bar,
    BarAggregator,
    SqlBarStore,
    max_limit,
    rollup,
    session_day_start,
)
from mcp_trading.services.market_data.history import HistoryReads, bars_reply
from mcp_trading.services.market_data.stream import QuoteHub
from mcp_trading.services.views import iso, quote_view

__all__ = ["ALWAYS_OPEN_NOTE", "FEED_STATUS_TO_HEALTH", "MarketDataService", "background"]

log = logging.getLogger("mcp_trading.market_data")

#: market_data_status -> the service's overall status.
ALWAYS_OPEN_NOTE = ("the always_open calendar never closes, so there is no next open or close "
                    "(null); a session is one UTC day and day orders expire at session.close")
FEED_STATUS_TO_HEALTH = {"streaming": "healthy", "stale": "degraded", "down": "down"}
_QUEUE_SIZE = 10_000  # quotes buffered for this consumer; the pump drops the oldest beyond
_FLUSH_S = 1.0


def _bar_view(bar: Bar) -> dict[str, Any]:
    return {"t": iso(bar.ts), "o": str(bar.open), "h": str(bar.high), "l": str(bar.low),
            "c": str(bar.close), "v": None if bar.volume is None else str(bar.volume),
            "n": bar.n}


_services: weakref.WeakKeyDictionary[Platform, MarketDataService] = weakref.WeakKeyDictionary()


class MarketDataService:
    def __init__(self, core: ServiceCore, *, instruments: dict[str, Instrument],
                 calendar: SessionCalendar, quote_listeners: list[asyncio.Queue[Quote]],
                 feed_name: str, bars_url: str, history: PlatformHistory,
                 clock: Any = None) -> None:
        """`quote_listeners`: the platform's fan-out of every quote (this service adds its
        queue while it runs); `bars_url`: the database completed bars are written to;
        `history`: the platform's stored history."""
        self.core = core
        self.instruments = instruments
        self.calendar = calendar
        self.quote_listeners = quote_listeners
        self.feed_name = feed_name
        self.bars_url = bars_url
        self.clock = clock or WallClock()
        self.bars = BarAggregator()
        self.stored = HistoryReads(history, feed_name=feed_name, instruments=instruments)
        self._day_start = session_day_start(calendar)
        self.hub = QuoteHub(instruments, self._latest)
        self._store: SqlBarStore | None = None
        self.store_error: str | None = None
        self._active: asyncio.Task[None] | None = None

    @classmethod
    def for_platform(cls, platform: Platform) -> MarketDataService:
        """The one service of this platform (REST and MCP faces share its bars and streams)."""
        svc = _services.get(platform)
        if svc is None:
            svc = _services[platform] = cls(
                platform.core, instruments=platform.instruments, calendar=platform.calendar,
                quote_listeners=platform.quote_listeners, feed_name=platform.feed.name,
                bars_url=platform.settings.resolved_database_url, history=platform.history)
        return svc

    # ---- quotes, instruments, clock -------------------------------------------------------
    def _latest(self, symbol: str) -> Quote | None:
        runtime = self.core.runtime
        if runtime is None:
            return None
        book = runtime.kernel.state.venue.books.get(symbol)
        return None if book is None else book.quote

    def _known(self, symbol: str) -> str:
        """A symbol the live feed quotes (one known from history only has no quotes)."""
        name = symbol.strip().upper()
        if name not in self.instruments and name in self.stored.history.cached_symbols():
            raise NotFoundError(f"no quotes for {name}: it is known from stored history only "
                                f"and no live feed quotes it; GET /bars/{name} serves its "
                                "history", code="NO_QUOTE", field="symbol")
        if name not in self.instruments:
            raise NotFoundError(f"unknown symbol {symbol!r}; GET /symbols lists "
                                f"the {len(self.instruments)} known symbols", code="UNKNOWN_SYMBOL",
                                field="symbol")
        return name

    def quote(self, principal: Principal | None, symbol: str) -> dict[str, Any]:
        require(principal, Role.VIEWER)
        name = self._known(symbol)
        quote = self._latest(name)
        if quote is None:
            raise NotFoundError(f"no quote yet for {name}; the feed has not quoted it "
                                "(see GET /health for market_data_status)", code="NO_QUOTE")
        return quote_view(quote)

    def quotes(self, principal: Principal | None, symbols: str | None) -> dict[str, Any]:
        """Latest quotes of comma-separated `symbols` (every symbol when None)."""
        require(principal, Role.VIEWER)
        if symbols is None:
            names = list(self.instruments)
        else:
            names = list(dict.fromkeys(s.strip().upper() for s in symbols.split(",") if s.strip()))
            if not names:
                raise InvalidError("symbols: give one or more comma-separated "
                                   "symbols, e.g. AAPL,MSFT (or omit it for every symbol)",
                                   code="INVALID_PARAMETER", field="symbols")
            unknown = [s for s in names if s not in self.instruments]
            if unknown:
                raise InvalidError(f"symbols: unknown symbol(s) "
                                   f"{', '.join(unknown)}; GET /symbols lists the known ones",
                                   code="UNKNOWN_SYMBOL", field="symbols", extra={"unknown": unknown})
        found: dict[str, Any] = {}
        missing: list[str] = []
        for name in names:
            quote = self._latest(name)
            if quote is None:
                missing.append(name)
            else:
                found[name] = quote_view(quote)
        return {"quotes": found, "missing": missing}

    def symbols(self, principal: Principal | None) -> list[dict[str, Any]]:
        require(principal, Role.VIEWER)
        return [{"symbol": i.symbol, "name": i.name, "tick_size": str(i.tick_size),
                 "lot_size": str(i.lot_size), "min_qty": str(i.min_qty), "max_qty": str(i.max_qty),
                 "currency": i.currency, "tradable": i.tradable}
                for i in self.instruments.values()]

    async def symbols_with_history(self, principal: Principal | None) -> list[dict[str, Any]]:
        """The instruments with their stored series, then the history-only symbols."""
        return await self.stored.symbols(self.symbols(principal))

    async def list_history(self, principal: Principal | None,
                           symbol: str | None = None) -> list[dict[str, Any]]:
        """The stored history series (of one symbol): source, timeframe, first, last, bars."""
        require(principal, Role.VIEWER)
        return await self.stored.series(symbol)

    def market_clock(self, principal: Principal | None) -> dict[str, Any]:
        """The session calendar's view of now: open or not, this session, next open and close."""
        require(principal, Role.VIEWER)
        calendar = self.calendar
        now = self.clock.now_ns()
        try:
            session = calendar.session_at(now)
            is_open = session.open_ns <= now < session.close_ns
            next_open = calendar.session_at(session.close_ns).open_ns if is_open else session.open_ns
        except CalendarRangeError as exc:
            raise UnavailableError(str(exc), code="CALENDAR_RANGE") from None
        body = {"calendar": calendar.name, "timestamp": iso(now), "is_open": is_open,
                "session": {"day": session.day, "open": iso(session.open_ns),
                            "close": iso(session.close_ns)},
                "next_open": iso(next_open), "next_close": iso(session.close_ns), "note": None}
        if calendar.name == AlwaysOpen.name:  # never closes: a session's end is no close
            body.update(next_open=None, next_close=None, note=ALWAYS_OPEN_NOTE)
        return body

    # ---- bars ----------------------------------------------------------------------------
    async def history(self, principal: Principal | None, symbol: str, *, timeframe: str | None,
                      start: str | None, end: str | None, limit: str | None,
                      adjustment: str | None = None, source: str | None = None,
                      page_token: str | None = None) -> dict[str, Any]:
        """Bars, ascending: the first `limit` from `start` (paged), else the latest to `end`.

        Stored history when a stored source serves the timeframe, else the live feed's bars
        (the rule: market_data/history.py)."""
        require(principal, Role.VIEWER)
        query = parse_query(symbol, timeframe=timeframe, start=start, end=end, limit=limit,
                            adjustment=adjustment, source=source, page_token=page_token)
        name = query.symbol
        if not await self.stored.known(name):
            raise NotFoundError(f"unknown symbol {symbol!r}; GET /symbols?history=true lists "
                                "the known symbols", code="UNKNOWN_SYMBOL", field="symbol")
        reply = await self.stored.bars(query)
        if reply is not None:
            return reply
        if name not in self.instruments:
            if query.read_source == self.feed_name:
                raise NotFoundError(f"no {self.feed_name} bars for {name}: the live feed does "
                                    "not quote it (it is known from stored history only); "
                                    "leave out source to read its history",
                                    code="NO_BARS", field="source")
            raise await self.stored.no_bars(query)
        return await self._live_bars(query)

    async def _live_bars(self, query: BarQuery) -> dict[str, Any]:
        """The live feed's bars: 1-minute bars rolled up; a forward read pages by token."""
        tf = query.timeframe
        n = query.page_limit(max_limit(tf))
        t0 = query.from_ts
        latest = t0 is None
        rows = (n if latest else n + 1) * TIMEFRAMES[tf]
        minute_bars = await self._minute_bars(query.symbol, t0, query.end, rows, latest=latest)
        try:
            out = rollup(minute_bars, tf, day_start=self._day_start)
        except CalendarRangeError as exc:
            raise UnavailableError(str(exc), code="CALENDAR_RANGE") from None
        next_start = None
        if latest:
            out = out[-n:]
        elif len(out) > n:
            next_start, out = out[n].ts, out[:n]
        elif len(minute_bars) >= rows and len(out) > 1:  # the read ended inside the last bar
            next_start, out = out[-1].ts, out[:-1]
        reply = bars_reply(query, source=self.feed_name, adjusted=False,
                           bars=[_bar_view(b) for b in out], next_start=next_start,
                           what=f"the {self.feed_name} feed's bars")
        archived = await self._archived(t0, full=len(out) >= n)
        if archived is not None:
            reply["archived"] = archived
        return reply

    async def _archived(self, start: int | None, *, full: bool) -> dict[str, Any] | None:
        """Say so when the asked range reaches before the archive horizon of feed-built bars:
        a `start` before it, or a latest read that ran out of stored bars (not `full`)."""
        store = self._bar_store()
        if store is None or (start is None and full):
            return None
        horizon = await asyncio.to_thread(store.archive_horizon)
        if horizon is None or (start is not None and start >= horizon):
            return None
        return {"before": iso(horizon),
                "note": f"feed-built bars before {iso(horizon)} were archived (moved by "
                        "`mcp-trading archive`) and are not in this answer: query the "
                        "bars_archive table (same columns as bars) for them"}

    async def _minute_bars(self, symbol: str, start: int | None, end: int | None, rows: int, *,
                           latest: bool) -> list[Bar]:
        memory = [b for b in self.bars.completed(symbol)
                  if (start is None or b.ts >= start) and (end is None or b.ts <= end)]
        covered = self.bars.covered_from(symbol)
        # memory holds every bar from `covered` on: enough when the answer lies inside it
        if covered is not None and (start >= covered if start is not None
                                    else len(memory) >= rows):
            stored: list[Bar] = []
        else:
            store = self._bar_store()
            stored = [] if store is None else await asyncio.to_thread(
                store.read, symbol, start=start, end=end, limit=rows, latest=latest)
        seen = {b.ts for b in stored}
        merged = stored + [b for b in memory if b.ts not in seen]  # bars not yet written
        merged.sort(key=lambda b: b.ts)
        return merged[-rows:] if latest else merged[:rows]

    def _bar_store(self) -> SqlBarStore | None:
        url = self.bars_url
        if url in MEMORY_URLS:
            return None  # the in-memory deployment keeps the last day in memory only
        if self._store is None:
            self._store = SqlBarStore(create_store_engine(url))
        return self._store

    async def flush_bars(self) -> None:
        """Write the completed bars not yet stored, in one transaction off the event loop."""
        batch = self.bars.take_pending()
        store = self._bar_store() if batch else None
        if store is None:
            return
        try:
            await asyncio.to_thread(store.write, batch)
        except Exception as exc:  # the writer's boundary: market data goes on, the bars wait
            dropped = self.bars.restore_pending(batch)
            if self.store_error is None:
                log.exception("bars: writing %d bars failed; retrying", len(batch))
                self.core.alerts.raise_alert(
                    "bars", f"bars cannot be stored ({type(exc).__name__}); kept in memory and "
                    "retried", severity=Severity.WARNING, source="market-data")
            if dropped:
                log.warning("bars: %d unstored bars dropped (pending buffer full)", dropped)
            self.store_error = type(exc).__name__
        else:
            self.store_error = None

    # ---- background -----------------------------------------------------------------------
    def on_quote(self, quote: Quote) -> None:
        self.bars.on_quote(quote)
        self.hub.publish(quote)

    async def run(self) -> None:
        """Consume the platform's quotes until cancelled; a second concurrent run returns at once."""
        if self._active is not None:
            return
        self._active = asyncio.current_task()
        queue: asyncio.Queue[Quote] = asyncio.Queue(maxsize=_QUEUE_SIZE)
        listeners = self.quote_listeners
        listeners.append(queue)
        loop = asyncio.get_running_loop()
        flush_at = loop.time() + _FLUSH_S
        try:
            while True:
                try:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
                    # cancel that lands as the quote arrives, and the platform's stop hung
                    async with asyncio.timeout(_FLUSH_S):
                        quote = await queue.get()
                    self.on_quote(quote)
                    while not queue.empty():
                        self.on_quote(queue.get_nowait())
                except TimeoutError:
                    pass
                if loop.time() >= flush_at:
                    await self.flush_bars()
                    flush_at = loop.time() + _FLUSH_S
        finally:
            listeners.remove(queue)
            self._active = None
            await self.flush_bars()
            if self._store is not None:
                self._store.dispose()
                self._store = None

    async def stop(self) -> None:
        task = self._active
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---- health ---------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Answered from the platform's cached health: never waits on anything."""
        h = self.core.health
        status = FEED_STATUS_TO_HEALTH.get(h.feed_status, "down")
        if status == "healthy" and self.store_error is not None:
            status = "degraded"
        quoted = sum(1 for s in self.instruments if self._latest(s) is not None)
        last = self.core.last_quote_ns
        return {"status": status, "market_data_status": h.feed_status,
                "provider": self.feed_name, "symbols": len(self.instruments),
                "symbols_quoted": quoted, "last_tick_age_s": h.feed_age_s,
                "last_tick_at": iso(last) if last else None,
                "bars": {"aggregating": self._active is not None,
                         "pending_writes": self.bars.pending_count, "store_error": self.store_error},
                "stream_clients": len(self.hub.clients)}


def background(platform: Platform) -> MarketDataService:
    """The spec's task: the platform's one service folds quotes into bars and streams them."""
    return MarketDataService.for_platform(platform)
