"""Runs of several symbols and intraday bars, a strategy that hangs, progress and cancel."""

from __future__ import annotations

import gc
import time
import weakref
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from tests.unit.backtest.handmade import DAY0, bar_store, day_ts, settings_for

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.backtest import BacktestResult, BacktestSpec, run_backtest
from mcp_trading.strategy.api import Strategy, StrategyBar, StrategyContext
from mcp_trading.strategy.loader import StrategyRegistry, load_registry

_MIN = 60_000_000_000
_DAY = 86_400_000_000_000
FLAT = (100.0, 101.0, 99.0, 100.0)


class Recorder(Strategy):
    """Buys 10 of every symbol on its first bar; records the bars in delivery order."""

    name = "recorder"
    seen: list[tuple[str, int]] = []  # noqa: RUF012 - a test's shared record

    def on_start(self, ctx: StrategyContext) -> None:
        type(self).seen = []
        self._bought: set[str] = set()

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        type(self).seen.append((bar.symbol, bar.ts))
        if bar.symbol not in self._bought:
            self._bought.add(bar.symbol)
            ctx.submit(bar.symbol, "buy", 10)


class Sleeper(Strategy):
    name = "sleeper"

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        if bar.ts == day_ts(2):
            time.sleep(1.5)


def _registry() -> StrategyRegistry:
    registry = load_registry()
    registry.add(Recorder, "test")
    registry.add(Sleeper, "test")
    return registry


def _minute_store(series: dict[str, list[tuple[int, float]]]) -> MemoryHistoryStore:
    store = MemoryHistoryStore()
    with store.writer() as w:
        for symbol, rows in series.items():
            ts = np.asarray([t for t, _ in rows], dtype=np.int64)
            px = np.asarray([p for _, p in rows], dtype=np.float64)
            w.add(symbol, "test", "1Min", BarColumns(ts, px, px + 0.5, px - 0.5, px,
                                                     np.full(ts.size, 1.0),
                                                     np.full(ts.size, np.nan)))
    return store


def test_intraday_symbols_merge_in_time_then_spec_order_and_mark_daily(tmp_path: Path) -> None:
    open1 = day_ts(0) + 9 * 3_600_000_000_000  # 14:00 UTC of DAY0
    open2 = open1 + _DAY
    store = _minute_store({
        "AAA": [(open1, 10.0), (open1 + _MIN, 11.0), (open1 + 2 * _MIN, 12.0),
                (open2, 13.0), (open2 + _MIN, 14.0)],
        "BBB": [(open1 + _MIN, 50.0), (open1 + 2 * _MIN, 51.0), (open2, 52.0)]})
    result = run_backtest(
        BacktestSpec(strategy="recorder", symbols=("BBB", "AAA"), start=DAY0,
                     end=DAY0.replace(day=DAY0.day + 2), timeframe="1Min"),
        history=store, registry=_registry(), settings=settings_for(tmp_path))
    assert Recorder.seen == [
        ("AAA", open1), ("BBB", open1 + _MIN), ("AAA", open1 + _MIN),
        ("BBB", open1 + 2 * _MIN), ("AAA", open1 + 2 * _MIN),
        ("BBB", open2), ("AAA", open2), ("AAA", open2 + _MIN)]
    assert [(f.symbol, f.price, f.ts) for f in result.fills] == [
        ("AAA", Decimal("11.0"), open1 + _MIN), ("BBB", Decimal("51.0"), open1 + 2 * _MIN)]
    # one row a day, marked at each symbol's last close of the day
    assert len(result.equity) == 2
    cash = 100_000 - 10 * 11.0 - 10 * 51.0
    assert result.equity.equity.tolist() == [cash + 10 * 12.0 + 10 * 51.0,
                                             cash + 10 * 14.0 + 10 * 52.0]


def _daily(tmp_path: Path, strategy: str, **kw: object) -> BacktestResult:
    return run_backtest(BacktestSpec(strategy=strategy, symbols=("XYZ",), start=DAY0,
                                     end=DAY0.replace(year=DAY0.year + 1)),
                        history=bar_store({"XYZ": [FLAT] * 6}), registry=_registry(),
                        settings=settings_for(tmp_path), **kw)  # type: ignore[arg-type]


def test_a_strategy_that_hangs_is_stopped_and_reported(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = _daily(tmp_path, "sleeper", callback_timeout_s=0.3)
    assert time.perf_counter() - started < 1.4  # not waited out
    assert result.status == "stopped" and result.fault is not None
    assert (result.fault["kind"], result.fault["callback"]) == ("hung", "on_bar")
    assert "did not return within 0.3 s" in result.warnings[0]


def test_progress_is_reported_and_a_stop_request_cancels(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    done = _daily(tmp_path, "recorder", progress=lambda a, b: calls.append((a, b)))
    assert calls == [(6, 6)] and done.status == "completed"
    canceled = _daily(tmp_path, "recorder", should_stop=lambda: True)
    assert canceled.status == "canceled" and canceled.bars == 0
    assert any("canceled before the end" in w for w in canceled.warnings)


def test_a_finished_run_leaves_no_kernel_in_memory(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Platform.open freezes the objects alive (gc.freeze): a cycle left in the run's kernel
    # would keep every run's state for good
    import mcp_trading.backtest.engine as engine

    states: list[weakref.ref[object]] = []
    opened = engine.open_kernel

    def keep(*args: object, **kwargs: object) -> object:
        run = opened(*args, **kwargs)  # type: ignore[arg-type]
        states.append(weakref.ref(run.kernel.state))
        return run

    monkeypatch.setattr(engine, "open_kernel", keep)
    for _ in range(2):
        _daily(tmp_path, "recorder")
    gc.collect()
    assert len(states) == 2 and [ref() for ref in states] == [None, None]


class Replacer(Strategy):
    """Bar 0: a GTC buy limit at 90 and one at 80; bar 1: the first moved to 99, the second
    canceled."""

    name = "replacer"

    def on_bar(self, ctx: StrategyContext, bar: StrategyBar) -> None:
        if bar.ts == day_ts(0):
            self.first = ctx.submit("XYZ", "buy", 5, type="limit", limit_price=90.0,
                                    time_in_force="gtc")
            self.second = ctx.submit("XYZ", "buy", 5, type="limit", limit_price="80",
                                     time_in_force="gtc")
        elif bar.ts == day_ts(1):
            self.moved = ctx.replace(self.first, limit_price=99.004)
            ctx.cancel(self.second)
            assert ctx.open_orders("XYZ") == [self.moved]


def test_replace_and_cancel_go_through_the_kernel(tmp_path: Path) -> None:
    registry = _registry()
    registry.add(Replacer, "test")
    result = run_backtest(BacktestSpec(strategy="replacer", symbols=("XYZ",), start=DAY0,
                                       end=DAY0.replace(year=DAY0.year + 1)),
                          history=bar_store({"XYZ": [FLAT, FLAT, (100, 101, 98, 100)]}),
                          registry=registry, settings=settings_for(tmp_path))
    assert result.status == "completed", result.fault
    assert [(o.limit_price, o.status) for o in result.orders] == [
        (Decimal("90.00"), "replaced"), (Decimal("80"), "canceled"), (Decimal("99.00"), "filled")]
    assert [(f.price, f.qty) for f in result.fills] == [(Decimal("99.00"), Decimal(5))]


def test_a_backtest_journals_no_close_equity_snapshots(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_trading.backtest import engine, kernel_setup
    from mcp_trading.domain.events import EquitySnapshotted
    from mcp_trading.kernel import codec

    records: list[object] = []

    def spy(*args: object, **kwargs: object) -> kernel_setup.RunKernel:
        run = kernel_setup.open_kernel(*args, **kwargs)  # type: ignore[arg-type]
        assert run.kernel.config.equity_at_close is False
        append = run.store.append

        def recording(batch):  # type: ignore[no-untyped-def]
            batch = list(batch)
            records.extend(batch)
            return append(batch)

        run.store.append = recording  # type: ignore[method-assign]
        return run

    monkeypatch.setattr(engine, "open_kernel", spy)
    # a loss limit marks every session, so each one rolls: the platform's kernel values each
    run_backtest(BacktestSpec(strategy="recorder", symbols=("XYZ",), start=DAY0,
                              end=DAY0.replace(year=DAY0.year + 1),
                              limits={"max_drawdown_pct": "90"}),
                 history=bar_store({"XYZ": [FLAT] * 6}), registry=_registry(),
                 settings=settings_for(tmp_path))
    events = [e for _, e in codec.events(records)]  # type: ignore[arg-type]
    assert sum(type(e).__name__ == "TradingDayStarted" for e in events) >= 5
    assert not any(isinstance(e, EquitySnapshotted) for e in events)
