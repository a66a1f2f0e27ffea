"""MCP_TRADING_FEED=replay: a platform whose paper venue trades on replayed real prices, and the
startup errors that name the setting to fix."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.sample_bars import AAPL_2010_ROWS, bars_of

from mcp_trading.adapters.feeds.replay import ReplayFeed, ReplayState
from mcp_trading.adapters.history import HistoryInstrument, MemoryHistoryStore, open_history_store
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.bootstrap import bootstrap, in_memory
from mcp_trading.platform.replay import ReplaySetupError
from mcp_trading.security.principal import Principal

FB_ROWS = "FB,2012-05-18,42.05,45.0,38.0,38.2318,573576400"  # the sample's first FB day


class NoCredentials:
    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        return None


def history(*, fb_registered: bool = True) -> MemoryHistoryStore:
    store = MemoryHistoryStore()
    with store.writer() as w:
        w.add("AAPL", "sample", "1Day", bars_of(AAPL_2010_ROWS))
        w.add("FB", "sample", "1Day", bars_of(FB_ROWS))
        w.add("AAPL", "simulator", "1Day", bars_of(AAPL_2010_ROWS.replace("213.43", "999")))
    if fb_registered:
        store.register_instruments([HistoryInstrument("FB", "0.01", "1", "sample", 0)])
    return store


def replay_settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path, feed="replay", replay_speed=0, **kw)


def test_a_market_order_fills_at_the_ask_derived_from_the_replayed_bar(tmp_path: Path) -> None:
    clock = ManualClock()
    platform = in_memory(replay_settings(tmp_path, replay_symbols="AAPL"), clock=clock,
                         history=history(), authenticator=NoCredentials())
    try:
        feed = platform.feed
        assert isinstance(feed, ReplayFeed)
        assert feed.status().sources == {"AAPL": "sample"}  # real bars, never the simulator's
        kernel = platform.kernel_runtime.kernel
        feed.step(1)
        for quote in feed.next_quotes(clock.now_ns()):
            kernel.on_quote(quote)
        order = kernel.submit("paper", OrderRequest.parse(
            symbol="AAPL", qty="10", side="buy", type="market", time_in_force="day"))
        assert order.status.value == "filled"
        # 2010-01-04's open 213.43, ask = 213.43 × (1 + 1 bp) = 213.451343 up to the cent
        assert order.filled_avg_price == Decimal("213.46")
    finally:
        platform.kernel_runtime.close()


def test_the_started_platform_pumps_stepped_quotes_into_the_venue(tmp_path: Path) -> None:
    settings = replay_settings(tmp_path, projection="off", feed_interval_ms=10, feed_stale_s=0.3)

    async def main() -> None:
        from mcp_trading.adapters.store import MemoryJournalStore

        platform = bootstrap(settings, store=MemoryJournalStore(), history=history(),
                             authenticator=NoCredentials())
        feed = platform.feed
        assert isinstance(feed, ReplayFeed)
        assert platform.instruments["FB"].tradable  # history-only, tradable while replayed
        await platform.start()
        try:
            feed.step(1)
            for _ in range(200):
                if platform.last_quote_ns:
                    break
                await asyncio.sleep(0.01)
            books = platform.kernel_runtime.kernel.state.venue.books
            aapl = books["AAPL"].quote
            assert aapl is not None and aapl.last == Decimal("213.43")
            assert "FB" not in books or books["FB"].quote is None  # FB's day is in 2012
            assert feed.status().state is ReplayState.RUNNING
            assert feed.step(1000) == 23  # to the end: 6 bars, 4 marks each
            for _ in range(300):
                if platform.health.feed_status == "stale":
                    break
                await asyncio.sleep(0.01)
            assert feed.status().state is ReplayState.FINISHED
            fb = books["FB"].quote
            assert fb is not None and fb.last == Decimal("38.23")  # FB's close, to the cent
            assert platform.health.feed_status == "stale"  # nothing after the end
        finally:
            await platform.stop()

    asyncio.run(main())


@pytest.mark.parametrize(("settings", "setting", "fb_registered"), [
    ({"replay_symbols": "AAPL,TSLA"}, "MCP_TRADING_REPLAY_SYMBOLS", True),  # no history
    ({"replay_symbols": "FB"}, "MCP_TRADING_REPLAY_SYMBOLS", False),  # not an instrument
    ({"replay_start": "2013-01-01"}, "MCP_TRADING_REPLAY_START", True),  # nothing in range
    ({"replay_symbols": "AAPL", "replay_start": "2010-01-09"}, "MCP_TRADING_REPLAY_START", True),
    ({"replay_symbols": "AAPL", "replay_source": "alphavantage"}, "MCP_TRADING_REPLAY_SOURCE",
     True),
    ({"replay_timeframe": "1Min"}, "MCP_TRADING_FEED", True),  # no 1Min history at all
])
def test_bad_replay_settings_stop_the_start_naming_the_setting(
        tmp_path: Path, settings: dict[str, str], setting: str, fb_registered: bool) -> None:
    with pytest.raises(ReplaySetupError, match=setting):
        bootstrap(replay_settings(tmp_path, **settings), history=history(
            fb_registered=fb_registered), authenticator=NoCredentials())


def test_a_range_plays_only_its_days(tmp_path: Path) -> None:
    settings = replay_settings(tmp_path, replay_start="2010-01-05", replay_end="2010-01-06")
    platform = bootstrap(settings, history=history(), authenticator=NoCredentials())
    feed = platform.feed
    assert isinstance(feed, ReplayFeed)
    assert feed.symbols() == ["AAPL"]  # FB has nothing in range: left out
    assert feed.status().steps_total == 8  # two bars, four marks each


def test_the_settings_bar_store_is_replayed_by_default(tmp_path: Path) -> None:
    settings = replay_settings(tmp_path, replay_end="2010-01-05")
    with pytest.raises(ReplaySetupError, match="data import --sample"):  # a fresh data dir
        bootstrap(settings, authenticator=NoCredentials())
    store = open_history_store(settings.resolved_history_url)  # SQLite <data_dir>/history.db
    try:
        with store.writer() as w:
            w.add("AAPL", "sample", "1Day", bars_of(AAPL_2010_ROWS))
    finally:
        store.close()
    feed = bootstrap(settings, authenticator=NoCredentials()).feed
    assert isinstance(feed, ReplayFeed)
    assert feed.status().steps_total == 8
    feed.step(8)
    assert [q.last for q in feed.next_quotes(1)][-1] == Decimal("214.38")  # 01-05's close
