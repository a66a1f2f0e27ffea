"""Fixtures for the trading-strategies service: a real platform (opened, not started) over
the shipped sample's daily prices (AAPL, GOOGL, IBM, META, MSFT, 2000-2013) in an in-memory
history store, results in the platform's SQLite database, and a strategy directory holding a
slow strategy (for the 202-then-poll path) and a broken file (a load problem)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.platform.conftest import FakeAuthenticator

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.services.strategies.service import StrategiesService

SLOW_STRATEGY = '''
import time

from mcp_trading.strategy import Strategy, StrategyParams, param


class Slow(Strategy):
    """Buys 10 shares on its first bar and holds them; sleeps on every bar (a slow run)."""

    name = "slow"

    class Params(StrategyParams):
        sleep_ms: int = param(5, min=0, max=1000, description="milliseconds slept per bar")

    def on_bar(self, ctx, bar):
        if not ctx.position(bar.symbol) and not ctx.open_orders(bar.symbol):
            ctx.submit(bar.symbol, "buy", 10)
        time.sleep(self.params.sleep_ms / 1000)
'''


@pytest.fixture(scope="session")
def sample_history() -> MemoryHistoryStore:
    store = MemoryHistoryStore()
    import_sample(store)
    return store


@pytest.fixture
def strategy_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "strategies"
    directory.mkdir()
    (directory / "slow.py").write_text(SLOW_STRATEGY)
    (directory / "broken.py").write_text("raise RuntimeError('this file is broken')\n")
    return directory


@pytest.fixture
def settings(tmp_path: Path, strategy_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", strategy_dir=strategy_dir, projection="off")


@pytest.fixture
def platform(settings: Settings, sample_history: MemoryHistoryStore) -> Iterator[Platform]:
    plat = bootstrap(settings, authenticator=FakeAuthenticator(), history=sample_history)
    plat.open()
    plat.accepting = True
    try:
        yield plat
    finally:
        plat.accepting = False
        StrategiesService.for_platform(plat).close()
        if plat.runtime is not None:
            plat.runtime.close()
