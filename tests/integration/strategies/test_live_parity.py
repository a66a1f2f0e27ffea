"""Live paper instances on the replay feed, stepped bar by bar, against the backtest engine.

The same strategy (sma_crossover fast=3 slow=5, 100 shares) on the same real daily bars (the
shipped sample's AAPL, whose history starts 2000-03-01, to 2000-06-30: 86 bars) through
(a) `run_backtest` and (b) a live instance on an in-memory platform whose feed replays those
bars (speed 0, 4 quotes a bar, stepped one bar at a time) must place the same orders:
sequence, side, quantity, type, limit and stop price. Also: a restart mid-way (the journal
and the replay position kept) re-warms the instance and the orders still match; a halted
platform refuses its orders and it keeps running; a strategy that raises or hangs is stopped
with a reason and an alert.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.integration.platform.conftest import FakeAuthenticator

from mcp_trading.adapters.feeds.replay import ReplayFeed, ReplayState
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.backtest.engine import run_backtest
from mcp_trading.backtest.spec import BacktestSpec
from mcp_trading.config import Settings
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.strategies.instances import InstancesService
from mcp_trading.services.strategies.live import LiveRunner
from mcp_trading.services.strategies.service import StrategiesService
from mcp_trading.strategy.loader import load_registry

START, END = date(2000, 1, 3), date(2000, 6, 30)
PARAMS = {"fast": 3, "slow": 5, "qty": 100}
TRADER = Principal(Role.TRADER, "k-trader", "paper", "trader")
OPERATOR = Principal(Role.OPERATOR, "k-ops", None, "ops")

FAULTY = '''
import time

from mcp_trading.strategy import Strategy, StrategyParams, param


class Faulty(Strategy):
    """Raises (mode 1) or sleeps past any bound (mode 2) on its third bar."""

    name = "faulty"

    class Params(StrategyParams):
        mode: int = param(1, min=1, max=2, description="1 raise, 2 hang")

    @classmethod
    def warmup_bars(cls, params):
        return 0

    def on_start(self, ctx):
        self.n = 0

    def on_bar(self, ctx, bar):
        self.n += 1
        if self.n == 3:
            if self.params.mode == 1:
                raise ValueError("boom on the third bar")
            time.sleep(30)
'''


def _sample() -> MemoryHistoryStore:
    """The shipped sample in a memory store (one per platform: stopping one closes it)."""
    store = MemoryHistoryStore()
    import_sample(store)
    return store


@pytest.fixture
def sample() -> MemoryHistoryStore:
    return _sample()


def _settings(tmp_path: Path) -> Settings:
    directory = tmp_path / "strategies"
    directory.mkdir(exist_ok=True)
    (directory / "faulty.py").write_text(FAULTY)
    return Settings(data_dir=tmp_path / "var", feed="replay", replay_symbols=["AAPL"],
                    replay_start=START, replay_end=END, replay_speed=0, feed_interval_ms=10,
                    projection="off", strategy_dir=directory,
                    strategy_callback_timeout_s=1.0)


async def _started(settings: Settings, history: MemoryHistoryStore, *,
                   steps: int = 0) -> Platform:
    """A platform over the journal in settings.data_dir (SQLite: it outlives a restart),
    its replay `steps` steps in before anything runs (where a restarted replay resumes)."""
    platform = bootstrap(settings, history=history, authenticator=FakeAuthenticator())
    if steps:
        feed = platform.feed
        assert isinstance(feed, ReplayFeed)
        feed.step(steps)
    await platform.start()
    return platform


async def _until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def _view(platform: Platform, instance_id: str) -> dict[str, Any]:
    return LiveRunner.for_platform(platform).view(instance_id) or {}


async def _step_bars(platform: Platform, instance_id: str, bars: int) -> None:
    """Step the replay one bar (4 quotes) at a time, each once the runner has decided on it."""
    feed = platform.feed
    assert isinstance(feed, ReplayFeed)
    for _ in range(bars):
        done = _view(platform, instance_id).get("bars", 0)
        if feed.status().state is ReplayState.FINISHED:
            return
        feed.step(4)
        await _until(lambda d=done: _view(platform, instance_id).get("bars", 0) > d,
                     "the runner to take the bar")


def _live_orders(platform: Platform, instance_id: str) -> list[tuple[object, ...]]:
    mine = f"strategy:{instance_id}"
    return [(o.side.value, o.qty, o.type.value, o.limit_price, o.stop_price)
            for o in platform.kernel_runtime.kernel.state.orders.values()
            if o.attribution == mine]


def _backtest_orders(history: MemoryHistoryStore, settings: Settings) -> list[tuple[object, ...]]:
    spec = BacktestSpec(strategy="sma_crossover", symbols=("AAPL",), start=START, end=END,
                        params=PARAMS, cash=Decimal(100_000))
    result = run_backtest(spec, history=history, registry=load_registry(), settings=settings)
    assert result.status == "completed"
    return [(o.side, o.qty, o.type, o.limit_price, o.stop_price) for o in result.orders]


async def _stop(platform: Platform) -> None:
    StrategiesService.for_platform(platform).close()
    await platform.stop()


def test_a_live_instance_on_the_replay_places_the_backtests_orders_across_a_restart(
        tmp_path: Path, sample: MemoryHistoryStore) -> None:
    settings = _settings(tmp_path)
    expected = _backtest_orders(sample, settings)
    assert len(expected) >= 4  # the half year crosses a few times

    async def scenario() -> tuple[list[tuple[object, ...]], dict[str, Any]]:
        platform = await _started(settings, sample)
        svc = InstancesService(platform, StrategiesService.for_platform(platform))
        started = await svc.start(TRADER, "sma_crossover",
                                  {"symbols": ["AAPL"], "params": PARAMS})
        iid = started["id"]
        assert started["timeframe"] == "1Day" and started["status"] == "running"
        await _until(lambda: _view(platform, iid).get("runner") == "trading", "warm-up")
        assert _view(platform, iid)["warmed_bars"] == 0  # nothing before the replay's start
        await _step_bars(platform, iid, 60)
        first = _live_orders(platform, iid)
        feed = platform.feed
        assert isinstance(feed, ReplayFeed)
        done = feed.status().steps_done
        # a restart: the same journal, a new platform, the replay resumed where it was
        await _stop(platform)
        again = await _started(settings, _sample(), steps=done)
        again_feed = again.feed
        assert isinstance(again_feed, ReplayFeed)
        await _until(lambda: again_feed.status().steps_done == done, "the replay to catch up")
        assert again.kernel_runtime.kernel.state.instances[iid].running
        await _until(lambda: _view(again, iid).get("runner") == "trading", "re-warm")
        rewarmed = _view(again, iid)
        await _step_bars(again, iid, 200)
        orders = _live_orders(again, iid)
        await _stop(again)
        assert orders[:len(first)] == first
        assert 0 < len(first) < len(orders)  # orders on both sides of the restart
        return orders, rewarmed

    orders, rewarmed = asyncio.run(scenario())
    assert rewarmed["warmup_bars"] == 6 and rewarmed["warmed_bars"] == 6
    assert orders == [(side, qty, typ, lim, stop) for side, qty, typ, lim, stop in expected]


def test_a_halted_platform_refuses_the_instances_orders_and_the_instance_keeps_running(
        tmp_path: Path, sample: MemoryHistoryStore) -> None:
    async def scenario() -> None:
        platform = await _started(_settings(tmp_path), sample)
        svc = InstancesService(platform, StrategiesService.for_platform(platform))
        iid = (await svc.start(TRADER, "sma_crossover",
                               {"symbols": "AAPL", "params": PARAMS}))["id"]
        kernel = platform.kernel_runtime.kernel
        kernel.halt(level=TradingState.HALTED, reason="drill", actor="ops")
        await _until(lambda: _view(platform, iid).get("runner") == "trading", "warm-up")
        await _step_bars(platform, iid, 130)
        mine = [o for o in kernel.state.orders.values() if o.attribution == f"strategy:{iid}"]
        shown = svc.get(TRADER, iid)
        feed = platform.feed
        assert isinstance(feed, ReplayFeed)
        await _stop(platform)
        assert mine and all(o.status.value == "rejected" for o in mine)
        assert shown["status"] == "running" and shown["runner"] == "trading"
        assert shown["bars"] == feed.status().steps_total // 4  # every bar, 4 quotes each
        assert shown["last_error"] is None
        assert shown["refusals"] and shown["refusals"][0]["code"] == mine[0].reject_code
        assert "halt" in shown["refusals"][0]["message"].lower()

    asyncio.run(scenario())


@pytest.mark.parametrize(("mode", "said"), [(1, "on_bar raised: ValueError: boom on the third "
                                                 "bar"), (2, "on_bar hung: on_bar did not "
                                                             "return within 1 s")])
def test_a_strategy_that_raises_or_hangs_is_stopped_with_the_reason_and_an_alert(
        tmp_path: Path, sample: MemoryHistoryStore, mode: int, said: str) -> None:
    async def scenario() -> None:
        platform = await _started(_settings(tmp_path), sample)
        svc = InstancesService(platform, StrategiesService.for_platform(platform))
        iid = (await svc.start(TRADER, "faulty", {"symbols": ["AAPL"],
                                                  "params": {"mode": mode}}))["id"]
        healthy = (await svc.start(TRADER, "sma_crossover",
                                   {"symbols": ["AAPL"], "params": PARAMS}))["id"]
        await _until(lambda: _view(platform, healthy).get("runner") == "trading", "warm-up")
        await _step_bars(platform, healthy, 5)
        await _until(lambda: not platform.kernel_runtime.kernel.state.instances[iid].running,
                     "the faulty instance to stop")
        shown = svc.get(OPERATOR, iid)
        alerts = [a for a in platform.alerts.list() if a.kind == "strategy_stopped"]
        other = svc.get(OPERATOR, healthy)
        await _stop(platform)
        assert shown["status"] == "stopped" and shown["stopped_by"] == "strategy-runner"
        assert shown["stop_reason"].startswith(said)
        assert shown["last_error"]["kind"] == ("raised" if mode == 1 else "hung")
        assert len(alerts) == 1 and iid in alerts[0].message
        assert other["status"] == "running" and other["bars"] == 5  # the platform went on

    asyncio.run(scenario())
