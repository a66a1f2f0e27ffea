"""Where a live instance's bars come from: the replay's stored bars, or market data's live bars.

Both answer the same two questions, for one symbol at the instance's timeframe:

    completed(symbol, after)   the bars CLOSED since `after` (ns; None: none delivered yet)
    latest(symbol, n)          the last n closed bars (the warm-up), oldest first

"Closed" is what the feed has played, never the wall clock's idea of it:

- `ReplayBars` (MCP_TRADING_FEED=replay): a bar is closed once the replay has emitted its
  close mark (the 4th quote of the bar, replay.py); bars are read from the history store, from
  the source the replay plays, up to that bar — so nothing after the replay time is ever
  seen, though the store holds years more. Before the first step, only bars before the
  replay's first bar count. The instance's timeframe is the replay's.
- `LiveBars` (the simulator, or any feed quoting in real time): market data's 1-minute bars
  folded from the quotes (memory, then the live bars table, through its `history` read with
  the feed as source); a 1Day bar is the session's roll-up, closed once the session has ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from mcp_trading.adapters.feeds.replay import ReplayFeed
from mcp_trading.adapters.feeds.replay_quotes import MARKS_PER_BAR
from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.adapters.history.reads import read_bars
from mcp_trading.domain.errors import InvalidError
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.market_data.bars import Bar, rollup, session_day_start
from mcp_trading.services.views import iso
from mcp_trading.strategy.api import StrategyBar

if TYPE_CHECKING:
    from mcp_trading.platform.platform import Platform
    from mcp_trading.services.market_data.service import MarketDataService

__all__ = ["BarSource", "LiveBars", "ReplayBars", "bar_source", "check_timeframe"]

_SYSTEM = Principal(Role.VIEWER, None, None, "strategy-runner", confirm_orders=False)
_MAX_READ = 10_000  # bars per read of the live bars (market data's page limit)


class BarSource(Protocol):
    async def completed(self, symbol: str, after: int | None) -> list[StrategyBar]: ...
    async def latest(self, symbol: str, n: int) -> list[StrategyBar]: ...


def check_timeframe(platform: Platform, timeframe: str) -> None:
    """A replay feeds its own timeframe only (InvalidError naming `timeframe` otherwise)."""
    feed = platform.feed
    if isinstance(feed, ReplayFeed) and feed.status().timeframe != timeframe:
        raise InvalidError(f"timeframe: the live feed replays {feed.status().timeframe} bars; "
                           f"an instance on it must use {feed.status().timeframe}, not "
                           f"{timeframe}", field="timeframe")


def bar_source(platform: Platform, timeframe: str) -> BarSource:
    """The bars of the platform's feed (module docstring)."""
    feed = platform.feed
    if isinstance(feed, ReplayFeed):
        return ReplayBars(platform, feed, timeframe)
    from mcp_trading.services.market_data.service import MarketDataService

    return LiveBars(platform, MarketDataService.for_platform(platform), timeframe)


def _strategy_bars(symbol: str, cols: BarColumns) -> list[StrategyBar]:
    return [StrategyBar(symbol, t, o, h, lo, c, v) for t, o, h, lo, c, v in zip(
        cols.ts.tolist(), cols.open.tolist(), cols.high.tolist(), cols.low.tolist(),
        cols.close.tolist(), cols.volume.tolist(), strict=True)]


class ReplayBars:
    """Bars of a replay, closed as its close marks are emitted."""

    def __init__(self, platform: Platform, feed: ReplayFeed, timeframe: str) -> None:
        self._history = platform.history
        self._feed = feed
        self._timeframe = timeframe

    def _cutoff(self, symbol: str) -> tuple[int, str] | None:
        """(ts of the last closed bar or just before, source) of `symbol`; None: not replayed."""
        status = self._feed.status()
        source = status.sources.get(symbol)
        if source is None:
            return None
        mark = self._feed.last_marks().get(symbol)
        if mark is None:
            return status.first_ns - 1, source
        return (mark.bar_ts if mark.mark == MARKS_PER_BAR - 1 else mark.bar_ts - 1), source

    async def completed(self, symbol: str, after: int | None) -> list[StrategyBar]:
        cut = self._cutoff(symbol)
        if cut is None or (after is not None and cut[0] <= after):
            return []
        end, source = cut
        start = None if after is None else after + 1
        read = await self._history.run(read_bars, symbol, self._timeframe, start=start,
                                       end=end, limit=None, source=source)
        return [] if read is None else _strategy_bars(symbol, read.columns)

    async def latest(self, symbol: str, n: int) -> list[StrategyBar]:
        cut = self._cutoff(symbol)
        if cut is None or n <= 0:
            return []
        end, source = cut
        read = await self._history.run(read_bars, symbol, self._timeframe, end=end, limit=n,
                                       latest=True, source=source)
        return [] if read is None else _strategy_bars(symbol, read.columns)


def _bar(symbol: str, row: dict[str, Any], ts: int) -> StrategyBar:
    volume = row.get("v")
    return StrategyBar(symbol, ts, float(row["o"]), float(row["h"]), float(row["l"]),
                       float(row["c"]), float("nan") if volume is None else float(volume))


class LiveBars:
    """Market data's bars of a real-time feed: 1-minute bars, or the sessions' roll-ups."""

    def __init__(self, platform: Platform, market_data: MarketDataService,
                 timeframe: str) -> None:
        self._platform = platform
        self._md = market_data
        self._timeframe = timeframe
        self._day_start = session_day_start(platform.calendar)

    def _closed(self, bars: list[Bar]) -> list[Bar]:
        if self._timeframe == "1Min":
            return bars
        today = self._day_start(self._platform.clock.now_ns())
        days = rollup(bars, "1Day", day_start=self._day_start)
        return [b for b in days if today is None or b.ts < today]

    async def completed(self, symbol: str, after: int | None) -> list[StrategyBar]:
        # memory holds the last day of closed minutes: enough between two cycles
        return [StrategyBar(symbol, b.ts, float(b.open), float(b.high), float(b.low),
                            float(b.close), float("nan"))
                for b in self._closed(self._md.bars.completed(symbol))
                if after is None or b.ts > after]

    async def latest(self, symbol: str, n: int) -> list[StrategyBar]:
        if n <= 0:
            return []
        reply = await self._md.history(
            _SYSTEM, symbol, timeframe=self._timeframe, start=None,
            end=iso(self._platform.clock.now_ns()), limit=str(min(n + 1, _MAX_READ)),
            source=self._md.feed_name)
        rows = reply["bars"]
        bars = [_bar(symbol, row, _ns(row["t"])) for row in rows]
        closed = {b.ts for b in self._closed(self._md.bars.completed(symbol))} \
            if self._timeframe == "1Day" else None
        if closed is not None and bars and bars[-1].ts not in closed:
            bars = bars[:-1]  # today's session is still under way
        return bars[-n:]


def _ns(text: str) -> int:
    from mcp_trading.security.access import parse_time

    ns = parse_time("t", text)
    assert ns is not None
    return ns
