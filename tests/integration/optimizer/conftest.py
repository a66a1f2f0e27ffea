"""Fixtures for the optimizer service: a real platform (opened, not started) over the shipped
sample's daily prices (AAPL, GOOGL, IBM, META, MSFT, 2000-2013) in an in-memory history
store, runs and previews in the platform's SQLite database, and quotes fed to the kernel
for the rebalance tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.platform.conftest import FakeAuthenticator

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.services.optimizer.service import OptimizerService

Quotes = Callable[..., None]


@pytest.fixture(scope="session")
def sample_history() -> MemoryHistoryStore:
    store = MemoryHistoryStore()
    import_sample(store)
    return store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", projection="off")


@pytest.fixture
def platform(settings: Settings, sample_history: MemoryHistoryStore) -> Iterator[Platform]:
    plat = bootstrap(settings, authenticator=FakeAuthenticator(), history=sample_history)
    plat.open()
    plat.accepting = True
    try:
        yield plat
    finally:
        plat.accepting = False
        OptimizerService.for_platform(plat).close()
        if plat.runtime is not None:
            plat.runtime.close()


def feed_quotes(platform: Platform, **prices: str) -> None:
    """Feed the kernel one quote per symbol (bid = price, ask = price + 0.02)."""
    kernel = platform.kernel_runtime.kernel
    for symbol, price in prices.items():
        bid = Decimal(price)
        kernel.on_quote(Quote(symbol, bid, bid + Decimal("0.02"), Decimal(100_000),
                              Decimal(100_000), None, time.time_ns()))


@pytest.fixture
def quotes(platform: Platform) -> Quotes:
    return lambda **prices: feed_quotes(platform, **prices)
