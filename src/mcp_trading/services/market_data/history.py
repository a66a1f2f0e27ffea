"""Stored history through market data: bars of a stored source, series listings, known symbols.

The rule of `GET /bars/{symbol}` (the live feed's side is service.py's):

1. a `source` naming the live feed (e.g. `simulator`) asks for the live feed's bars;
2. any other `source` reads that stored source (404 naming the stored ones when it has none);
3. no `source`: `read_bars` picks the stored source that serves the timeframe best; when
   none can (nothing stored, or only finer-grained series that do not divide it) the live
   feed's bars answer, `source` saying so.

Everything here reads in a worker thread (PlatformHistory.run); nothing blocks the event loop.
Running a small read inline instead (no thread hop) was measured and gained nothing: ten
years of daily bars, alternated call by call with the hop in one process
(benchmarks/history_ab.py), 35.3 ms inline against 34.1 ms with the hop (medians of 150,
calib loop 3.2 s); so even small reads hop.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_trading.adapters.history.columns import take_bars
from mcp_trading.adapters.history.contract import HistoryStore, SeriesRange
from mcp_trading.adapters.history.reads import BarRead, read_bars
from mcp_trading.domain.errors import NotFoundError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.platform.history import PlatformHistory
from mcp_trading.services.market_data.bar_query import (
    HISTORY_MAX_LIMIT,
    BarQuery,
    columns_view,
    encode_token,
)
from mcp_trading.services.views import iso

__all__ = ["HistoryReads", "bars_reply", "series_view"]


def bars_reply(query: BarQuery, *, source: str, adjusted: bool, bars: list[dict[str, Any]],
               next_start: int | None, what: str) -> dict[str, Any]:
    """The route's reply; `what` names the prices when `all` was asked but not applied."""
    note = None
    if query.adjustment == "all" and not adjusted:
        note = (f"no adjustment factor is known for {what}: these are raw prices "
                "(adjustment=all equals raw here)")
    return {"symbol": query.symbol, "timeframe": query.timeframe, "source": source,
            "adjustment": query.adjustment, "adjusted": adjusted, "note": note, "bars": bars,
            "next_page_token": None if next_start is None
            else encode_token(query, source, next_start)}


def series_view(series: SeriesRange) -> dict[str, Any]:
    return {"source": series.source, "timeframe": series.timeframe, "first": iso(series.first),
            "last": iso(series.last), "bars": series.bars}


def _read_page(store: HistoryStore, query: BarQuery, n: int
               ) -> tuple[BarRead, list[dict[str, Any]], int | None] | None:
    """One page of stored bars and its view, built in the worker thread: formatting ten
    years of daily bars takes milliseconds the event loop should not spend."""
    start = query.from_ts
    latest = start is None
    read = read_bars(store, query.symbol, query.timeframe, start=start, end=query.end,
                     limit=n if latest else n + 1, latest=latest, adjustment=query.adjustment,
                     source=query.read_source)
    if read is None:
        return None
    columns, next_start = read.columns, None
    if columns.size > n:  # one bar more than asked: the next page starts there
        next_start = int(columns.ts[n])
        columns = take_bars(columns, slice(0, n))
    return read, columns_view(columns), next_start


class HistoryReads:
    """Market data's reads of the platform's history store."""

    def __init__(self, history: PlatformHistory, *, feed_name: str,
                 instruments: Mapping[str, Instrument]) -> None:
        self.history = history
        self.feed_name = feed_name
        self.instruments = instruments

    async def known(self, symbol: str) -> bool:
        """A feed instrument, or a symbol with stored history (re-read once on a miss: an
        import may have run in another process since)."""
        if symbol in self.instruments or symbol in await self.history.symbols():
            return True
        return symbol in await self.history.symbols(refresh=True)

    async def bars(self, query: BarQuery) -> dict[str, Any] | None:
        """The reply from stored history, or None when the live feed's bars should answer."""
        if query.read_source == self.feed_name:
            return None
        page = await self.history.run(_read_page, query, query.page_limit(HISTORY_MAX_LIMIT))
        if page is None:
            return None
        read, bars, next_start = page
        return bars_reply(query, source=read.source, adjusted=read.adjusted, bars=bars,
                          next_start=next_start, what=f"{query.symbol} in {read.source}")

    async def no_bars(self, query: BarQuery) -> NotFoundError:
        """Why a symbol only history knows has no bars of this query's timeframe."""
        stored = await self.history.run(lambda store: store.series(query.symbol))
        have = ", ".join(f"{s.timeframe} ({s.source})" for s in stored) or "none"
        return NotFoundError(
            f"no {query.timeframe} bars for {query.symbol}: no live feed quotes it and its "
            f"stored history cannot serve {query.timeframe} (stored: {have}); ask for a stored "
            "timeframe or a coarser one", code="NO_BARS", field="timeframe")

    async def series(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """Every stored series (of one symbol), with its first and last bar."""
        name = None if symbol is None or not symbol.strip() else symbol.strip().upper()
        stored = await self.history.run(lambda store: store.series(name))
        return [{"symbol": s.symbol, **series_view(s)} for s in stored]

    async def symbols(self, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The feed's instruments (`listed`) and the history-only ones, each with its series."""
        def read(store: Any) -> tuple[list[SeriesRange], list[Any]]:
            return store.series(), store.instruments()

        stored, registered = await self.history.run(read)
        by_symbol: dict[str, list[dict[str, Any]]] = {}
        for s in stored:
            by_symbol.setdefault(s.symbol, []).append(series_view(s))
        out = [{**row, "history_only": False, "history": by_symbol.get(row["symbol"], [])}
               for row in listed]
        seen = {row["symbol"] for row in listed}
        only = {i.symbol: i for i in registered if i.symbol not in seen}
        for name in sorted(set(only) | (set(by_symbol) - seen)):
            inst = only.get(name)
            out.append({"symbol": name, "name": None,
                        "tick_size": None if inst is None else inst.tick_size,
                        "lot_size": None if inst is None else inst.lot_size,
                        "tradable": False, "history_only": True,
                        "history": by_symbol.get(name, [])})
        return out
