"""The composition root: real adapters by default, in-memory ones when given; a kernel with a
manual clock and an in-memory journal in one call (what backtests and strategies build)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from mcp_trading.adapters.store import MemoryJournalStore
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.bootstrap import bootstrap, in_memory
from mcp_trading.security.authenticator import Authenticator
from mcp_trading.security.principal import Principal
from mcp_trading.security.tokens import InsecureSecretError

SECOND = 1_000_000_000


class NoCredentials:
    def authenticate(self, authorization_header: str | None, client_host: str | None, *,
                     api_key: str | None = None, loopback_trust: bool = True) -> Principal | None:
        return None


class OneQuoteFeed:
    name = "one-quote"

    def __init__(self) -> None:
        self.sent = False

    def next_quotes(self, ts: int) -> list[Quote]:
        if self.sent:
            return []
        self.sent = True
        return [Quote("AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(100), Decimal(100),
                      None, ts)]


def test_a_kernel_with_a_manual_clock_and_an_in_memory_journal(tmp_path: Path) -> None:
    clock, store = ManualClock(), MemoryJournalStore()
    platform = in_memory(Settings(data_dir=tmp_path), clock=clock, store=store,
                         authenticator=NoCredentials())
    try:
        kernel = platform.kernel_runtime.kernel
        kernel.on_quote(Quote("AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(100),
                              Decimal(100), None, clock.now_ns()))
        clock.advance(5 * SECOND)
        order = kernel.submit("paper", OrderRequest.parse(
            symbol="AAPL", qty="2", side="buy", type="market", time_in_force="day"))
        assert order.created_at == clock.now_ns()  # the kernel's time is the manual clock's
        assert order.status.value == "filled"
        platform.kernel_runtime.journal.flush()
        assert store.last_seq() == kernel.seq > 0  # journaled in memory...
        assert not list(tmp_path.glob("*.db"))  # ...and nowhere on disk
        assert platform.settings.projection == "off"
    finally:
        platform.kernel_runtime.close()


def test_bootstrap_builds_the_real_authenticator_by_default(tmp_path: Path) -> None:
    platform = bootstrap(Settings(data_dir=tmp_path))
    assert isinstance(platform.authenticator, Authenticator)
    with pytest.raises(InsecureSecretError):
        bootstrap(Settings(data_dir=tmp_path, profile="production"))


def test_a_given_feed_and_store_run_in_the_started_platform(tmp_path: Path) -> None:
    feed, store = OneQuoteFeed(), MemoryJournalStore()
    settings = Settings(data_dir=tmp_path, projection="off", feed_interval_ms=10)

    async def main() -> None:
        platform = bootstrap(settings, store=store, feed=feed, authenticator=NoCredentials())
        await platform.start()
        try:
            for _ in range(200):
                if platform.last_quote_ns:
                    break
                await asyncio.sleep(0.01)
            state = platform.kernel_runtime.kernel.state
            assert state.venue.books["AAPL"].quote is not None  # the feed's quote reached it
            platform.kernel_runtime.journal.flush()
            assert store.last_seq() > 0  # the default account's opening, in the given store
        finally:
            await platform.stop()

    asyncio.run(main())
    assert feed.sent
