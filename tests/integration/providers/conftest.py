"""Fixtures for the providers service over real adapters: two local fake Alpha Vantage servers
(a primary and a backup), a real opened Platform for its alerts, the in-memory bar store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from tests.fakes.alphavantage import FakeAlphaVantage, running_fake

from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.providers.alphavantage import AlphaVantageProvider
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.services.providers.registry import ProviderRegistry
from mcp_trading.services.providers.service import ProvidersService

S = 1_000_000_000
NY = ZoneInfo("America/New_York")
KEY = "fake-av-key-SEKRET-0123456789"
CHAIN = ["alphavantage", "alphavantage-b"]


def ny(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=NY).timestamp()) * S


class Rig(NamedTuple):
    svc: ProvidersService
    clock: ManualClock
    primary: FakeAlphaVantage
    backup: FakeAlphaVantage
    store: MemoryHistoryStore
    platform: Platform


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    plat = bootstrap(Settings(data_dir=tmp_path, database_url=None))
    plat.open()
    yield plat
    if plat.runtime is not None:
        plat.runtime.close()
    if plat.projector is not None:
        plat.projector.stop()


@pytest.fixture
def rig(platform: Platform) -> Iterator[Rig]:
    """Both fakes' today is 2010-01-08; the clock is five minutes after that day's close."""
    clock = ManualClock(ny("2010-01-08 16:05"))
    with running_fake(FakeAlphaVantage(KEY, as_of="2010-01-08")) as (primary, url_a), \
            running_fake(FakeAlphaVantage(KEY, as_of="2010-01-08")) as (backup, url_b):
        registry = ProviderRegistry(clock=clock, failure_threshold=2, cool_down_s=60)
        for name, url in zip(CHAIN, (url_a, url_b), strict=True):
            registry.register(AlphaVantageProvider(
                name=name, api_key=SecretStr(KEY), clock=clock, base_url=url,
                calls_per_minute=None, calls_per_day=None))
        store = MemoryHistoryStore()
        svc = ProvidersService(platform.core, registry, clock=clock, history=store,
                               chains={"quotes": CHAIN, "daily": CHAIN, "intraday": CHAIN})
        yield Rig(svc, clock, primary, backup, store, platform)
