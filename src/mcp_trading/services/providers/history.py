"""History through the providers, stored once: fetch what the bar store lacks, then read it.

For a (symbol, timeframe, [start, end]) request, the daily or intraday chain is walked in
order; for each provider its own stored series (source = the provider's name, so sources never
mix) is checked first:

    covered   the stored series spans [start, end]: read from the store, no call at all
    missing   only the parts outside the stored span are fetched (before its first bar, after
              its last), written to the store (source = provider name), then the whole range
              is read back from the store
    failing   the chain moves on (see failover.py); when every provider fails, the best
              stored series of the chain is served with `complete=False`, else the error

"Spans" allows for the market being shut: with `end` omitted (up to now) or later than the last
bar, a daily series whose last bar is at most `slack_days` (default 4: a weekend and a holiday)
before it is covered; an intraday series, at most one day. A part the provider answered with no
bars (before a listing, say) is remembered for the life of the process and not asked again.
Stored gaps inside a span are not detected (a series is taken as contiguous).

The store is the platform's (`PlatformHistory.store`, opened on first use) or any HistoryStore;
every call on it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import NamedTuple

from mcp_trading.adapters.history.contract import (
    HISTORY_TIMEFRAMES,
    BarColumns,
    HistoryStore,
    SeriesRange,
)
from mcp_trading.adapters.history.gaps import Sessions
from mcp_trading.adapters.providers.base import DAILY, INTRADAY, Provider
from mcp_trading.domain.errors import InvalidError, UnavailableError
from mcp_trading.services.providers.failover import Failover

__all__ = ["HistoryFetch", "HistoryFetcher"]

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS


class _Ask(NamedTuple):
    symbol: str
    timeframe: str
    start: int | None
    end: int | None  # as asked (None: up to now)
    until: int  # end, no later than now


class HistoryFetch(NamedTuple):
    source: str  # the provider whose stored series answered
    timeframe: str
    bars: BarColumns
    fetched: int  # bars fetched from the provider by this call (0: all from the store)
    complete: bool  # False: every provider failed and this is what was stored
    skipped: tuple[str, ...] = ()  # "provider: why" of each one that did not serve


class HistoryFetcher:
    def __init__(self, failover: Failover, store: HistoryStore | Callable[[], HistoryStore], *,
                 slack_days: float = 4.0) -> None:
        self.failover = failover
        self._store: Callable[[], HistoryStore] = _given(store) \
            if isinstance(store, HistoryStore) else store
        self.slack_days = slack_days
        self._empty: set[tuple[str, str, str, int | None, int]] = set()
        self._sessions = Sessions()  # NYSE session days, loaded on first need

    async def bars(self, symbol: str, timeframe: str, *, start: int | None = None,
                   end: int | None = None) -> HistoryFetch:
        """Bars of `symbol` in [start, end], fetched only where the store lacks them."""
        if timeframe not in HISTORY_TIMEFRAMES:
            raise InvalidError(f"timeframe {timeframe!r} is not one of "
                               f"{', '.join(HISTORY_TIMEFRAMES)}", field="timeframe")
        symbol = symbol.strip().upper()
        now = self.failover.registry.clock.now_ns()
        until = now if end is None else min(end, now)
        if start is not None and start > until:
            raise InvalidError("start is after end (or after now); give start <= end",
                               field="start")
        ask = _Ask(symbol, timeframe, start, end, until)
        kind = DAILY if timeframe == "1Day" else INTRADAY
        chain = self.failover.chain(kind)
        stored, covering = await asyncio.to_thread(self._look, ask, chain)
        if covering is not None:
            return await self._read(ask, covering, 0, complete=True)

        async def fetch(provider: Provider) -> int:
            return await self._fill(provider, ask, stored.get(provider.name))

        try:
            fetched = await self.failover.call(kind, fetch, subject=symbol)
        except UnavailableError as exc:
            best = max(stored.values(), key=lambda r: r.bars, default=None)
            if best is None:
                raise
            skipped = tuple(f"{r['provider']}: {r['reason']}"
                            for r in exc.extra.get("providers", ()))
            return await self._read(ask, best.source, 0, complete=False, skipped=skipped)
        return await self._read(ask, fetched.provider, fetched.value, complete=True,
                                skipped=fetched.skipped)

    @property
    def store(self) -> HistoryStore:
        """The store (opened now if need be: blocking, call from a worker thread)."""
        return self._store()

    def _look(self, ask: _Ask, chain: list[str]) -> tuple[dict[str, SeriesRange], str | None]:
        """The chain's stored series of the ask, and the first provider whose series covers
        it (None: none does). Blocking: the store, and the NYSE calendar for daily bars."""
        stored = {r.source: r for r in self.store.series(ask.symbol)
                  if r.timeframe == ask.timeframe and r.source in chain}
        covering = next((name for name in chain if self._covers(stored.get(name), ask)), None)
        return stored, covering

    def _covers(self, stored: SeriesRange | None, ask: _Ask) -> bool:
        if stored is None:
            return False
        daily = ask.timeframe == "1Day"
        slack = int((self.slack_days if daily else 1.0) * _DAY_NS)
        if stored.last < ask.until - slack:
            return False
        if ask.start is None or stored.first <= ask.start:
            return True
        # a daily series that starts on the first session on or after `start` covers it (the
        # start was a weekend or a holiday); asking the provider again would return nothing
        return daily and self._sessions_between(ask.start, stored.first - 1) == 0

    def _sessions_between(self, lo: int, hi: int) -> int:
        self._sessions.cover(lo, hi)
        return self._sessions.count(lo, hi)

    async def _fill(self, provider: Provider, ask: _Ask, stored: SeriesRange | None) -> int:
        """Fetch and store the parts of [start, until] outside `stored`; the bars stored."""
        symbol, timeframe, start, until = ask.symbol, ask.timeframe, ask.start, ask.until
        if stored is None:
            parts: list[tuple[int | None, int]] = [(start, until)]
        else:
            parts = []
            if start is None or start < stored.first:
                parts.append((start, stored.first - 1))
            if until > stored.last:
                parts.append((stored.last + 1, until))
        total = 0
        for part in parts:
            key = (provider.name, symbol, timeframe, *part)
            if key in self._empty:
                continue
            lo, hi = part
            if timeframe == "1Day":
                bars = await provider.fetch_daily(symbol, lo, hi)
            else:
                bars = await provider.fetch_intraday(symbol, timeframe, lo, hi)
            if bars.size == 0:
                self._empty.add(key)
                continue
            await asyncio.to_thread(self._write, symbol, provider.name, timeframe, bars)
            total += bars.size
        return total

    def _write(self, symbol: str, source: str, timeframe: str, bars: BarColumns) -> None:
        with self.store.writer() as writer:
            writer.add(symbol, source, timeframe, bars)

    async def _read(self, ask: _Ask, source: str, fetched: int, *, complete: bool,
                    skipped: tuple[str, ...] = ()) -> HistoryFetch:
        def read() -> BarColumns:
            return self.store.read(ask.symbol, source, ask.timeframe, start=ask.start,
                                   end=ask.end)

        bars = await asyncio.to_thread(read)
        return HistoryFetch(source, ask.timeframe, bars, fetched, complete, skipped)


def _given(store: HistoryStore) -> Callable[[], HistoryStore]:
    return lambda: store
