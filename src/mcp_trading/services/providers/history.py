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
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from mcp_trading.adapters.history.contract import (
    HISTORY_TIMEFRAMES,
    BarColumns,
    HistoryStore,
    SeriesRange,
)
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


class HistoryFetcher:
    def __init__(self, failover: Failover, store: HistoryStore, *, slack_days: float = 4.0
                 ) -> None:
        self.failover = failover
        self.store = store
        self.slack_days = slack_days
        self._empty: set[tuple[str, str, str, int | None, int]] = set()

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
        stored = await asyncio.to_thread(self._stored, symbol, timeframe, chain)
        for name in chain:
            if self._covers(stored.get(name), ask):
                return await self._read(ask, name, 0, complete=True)

        async def fetch(provider: Provider) -> int:
            return await self._fill(provider, ask, stored.get(provider.name))

        try:
            fetched = await self.failover.call(kind, fetch, subject=symbol)
        except UnavailableError:
            best = max(stored.values(), key=lambda r: r.bars, default=None)
            if best is None:
                raise
            return await self._read(ask, best.source, 0, complete=False)
        return await self._read(ask, fetched.provider, fetched.value, complete=True)

    def _stored(self, symbol: str, timeframe: str, chain: list[str]) -> dict[str, SeriesRange]:
        return {r.source: r for r in self.store.series(symbol)
                if r.timeframe == timeframe and r.source in chain}

    def _covers(self, stored: SeriesRange | None, ask: _Ask) -> bool:
        if stored is None:
            return False
        slack = int((self.slack_days if ask.timeframe == "1Day" else 1.0) * _DAY_NS)
        return ((ask.start is None or stored.first <= ask.start)
                and stored.last >= ask.until - slack)

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

    async def _read(self, ask: _Ask, source: str, fetched: int, *, complete: bool
                    ) -> HistoryFetch:
        bars = await asyncio.to_thread(self.store.read, ask.symbol, source, ask.timeframe,
                                       start=ask.start, end=ask.end)
        return HistoryFetch(source, ask.timeframe, bars, fetched, complete)
