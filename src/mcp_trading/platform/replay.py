"""MCP_TRADING_FEED=replay: which stored bars the replay plays, and the instruments it needs.

Two halves, because in distributed mode every process must know the replayed instruments (the
engine's venue trades them) but only the market-data process runs the feed:

    plan = replay_plan(settings, history, instruments)   cheap: series ranges and instruments
    feed = plan.feed(history, clock=...)                  reads the bars into memory

Sources: per symbol, MCP_TRADING_REPLAY_SOURCE when set, else the one `read_bars` would
choose (adapters/history/reads.py: never `simulator`; the series covering the range, else the
one with most bars in it; then the finest timeframe, rolled up to MCP_TRADING_REPLAY_TIMEFRAME).
Instruments: a replayed symbol must be an instrument of the venue: one of the universe, or a
history-only instrument an import registered, which the replay makes tradable for as long as
it quotes it ("the live venue trades it only once a live feed quotes it").

Every refusal is a `ReplaySetupError` naming the setting to change; the platform does not
start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mcp_trading.adapters.feeds.replay import ReplayFeed, day_start_ns
from mcp_trading.adapters.feeds.replay_quotes import ReplaySeries
from mcp_trading.adapters.history.contract import HistoryStore, SeriesRange
from mcp_trading.adapters.history.reads import choose_series, read_bars
from mcp_trading.adapters.history.rollup import divides
from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.kernel.ports import Clock

__all__ = ["ReplayPlan", "ReplaySetupError", "replay_plan"]

_DAY_NS = 86_400_000_000_000


class ReplaySetupError(TradingError, ValueError):
    """The replay settings name history that is not there (a fault: the platform stops)."""


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """What the replay will play: per symbol a source, the range in ns, the instruments."""

    sources: dict[str, str]
    start_ns: int | None
    end_ns: int | None
    instruments: dict[str, Instrument]  # every replayed symbol's (history-only ones included)
    settings: Settings

    def feed(self, history: HistoryStore, *, clock: Clock | None = None) -> ReplayFeed:
        """The feed, its bars read from `history`; ReplaySetupError when a symbol has none."""
        s = self.settings
        series = []
        for symbol, source in self.sources.items():
            read = read_bars(history, symbol, s.replay_timeframe, start=self.start_ns,
                             end=self.end_ns, limit=None, source=source)
            bars = read.columns if read is not None else None
            if bars is None or bars.size == 0:
                raise ReplaySetupError(
                    f"MCP_TRADING_REPLAY_START/MCP_TRADING_REPLAY_END: no {s.replay_timeframe} "
                    f"bars of {symbol} ({source}) in {_range(s)}; widen the range or drop "
                    f"{symbol} from MCP_TRADING_REPLAY_SYMBOLS", field="replay_start")
            series.append(ReplaySeries(symbol, source, bars))
        return ReplayFeed(series, self.instruments, timeframe=s.replay_timeframe,
                          speed=s.replay_speed, spread_bps=s.replay_spread_bps, clock=clock)


def replay_plan(settings: Settings, history: HistoryStore,
                instruments: Mapping[str, Instrument]) -> ReplayPlan:
    """Choose the replay's symbols and sources from what `history` holds (no bars read)."""
    tf = settings.replay_timeframe
    start = _day_ns(settings.replay_start)
    end = None if settings.replay_end is None else day_start_ns(settings.replay_end) + _DAY_NS - 1
    by_symbol: dict[str, list[SeriesRange]] = {}
    for r in history.series():
        if r.bars > 0 and divides(r.timeframe, tf):
            by_symbol.setdefault(r.symbol, []).append(r)
    symbols = settings.replay_symbols or sorted(by_symbol)
    if not by_symbol:
        raise ReplaySetupError(
            f"MCP_TRADING_FEED=replay: no history that makes {tf} bars is stored; load some "
            "(`mcp-trading data import --sample`) or set MCP_TRADING_REPLAY_TIMEFRAME",
            field="feed")
    sources: dict[str, str] = {}
    for symbol in symbols:
        source = _source(settings, symbol, by_symbol.get(symbol, []), start, end)
        if source is not None:
            sources[symbol] = source
    if not sources:
        raise ReplaySetupError(
            f"MCP_TRADING_REPLAY_START/MCP_TRADING_REPLAY_END: no stored {tf} bars in "
            f"{_range(settings)}" + _source_hint(settings), field="replay_start")
    return ReplayPlan(sources, start, end, _instruments(history, instruments, sources),
                      settings)


def _source(settings: Settings, symbol: str, ranges: list[SeriesRange], start: int | None,
            end: int | None) -> str | None:
    """The source to replay `symbol` from; None: skip it (not asked for, nothing in range)."""
    asked = bool(settings.replay_symbols)
    tf, wanted = settings.replay_timeframe, settings.replay_source
    if not ranges:
        if asked:
            raise ReplaySetupError(
                f"MCP_TRADING_REPLAY_SYMBOLS: no history of {symbol} is stored; import it or "
                "remove it from the list", field="replay_symbols")
        return None
    lo, hi = start if start is not None else -(2**62), end if end is not None else 2**62
    in_range = [r for r in ranges if r.last >= lo and r.first <= hi]
    chosen = choose_series(in_range, tf, start=start, end=end, source=wanted)
    if chosen is not None:
        return chosen.source
    if not asked:
        return None
    if wanted is not None and wanted not in {r.source for r in ranges}:
        raise ReplaySetupError(
            f"MCP_TRADING_REPLAY_SOURCE: {symbol} has no bars from source {wanted!r}; its "
            f"sources are {', '.join(sorted({r.source for r in ranges}))}",
            field="replay_source")
    raise ReplaySetupError(
        f"MCP_TRADING_REPLAY_START/MCP_TRADING_REPLAY_END: no bars of {symbol} that make "
        f"{tf} bars in {_range(settings)}" + _source_hint(settings) + " (simulated bars are "
        "replayed only when MCP_TRADING_REPLAY_SOURCE=simulator)", field="replay_start")


def _instruments(history: HistoryStore, instruments: Mapping[str, Instrument],
                 sources: Mapping[str, str]) -> dict[str, Instrument]:
    known = {h.symbol: h for h in history.instruments()}
    out: dict[str, Instrument] = {}
    for symbol in sources:
        instrument = instruments.get(symbol)
        if instrument is None and symbol in known:
            h = known[symbol]
            instrument = Instrument(symbol=symbol, tick_size=Decimal(h.tick_size),
                                    lot_size=Decimal(h.lot_size), name=f"{symbol} (history)")
        if instrument is None:
            raise ReplaySetupError(
                f"MCP_TRADING_REPLAY_SYMBOLS: {symbol} is neither an instrument of the venue "
                "nor registered by an import; import its history with `mcp-trading data "
                "import`, or leave it out", field="replay_symbols")
        out[symbol] = instrument
    return out


def _day_ns(day: date | None) -> int | None:
    return None if day is None else day_start_ns(day)


def _range(settings: Settings) -> str:
    return f"{settings.replay_start or 'the first stored day'} to " \
           f"{settings.replay_end or 'the last stored day'}"


def _source_hint(settings: Settings) -> str:
    if settings.replay_source is None:
        return ""
    return f" from source {settings.replay_source!r} (MCP_TRADING_REPLAY_SOURCE)"
