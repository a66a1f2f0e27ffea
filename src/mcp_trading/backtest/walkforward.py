"""Walk-forward analysis: choose parameters in sample, judge them out of sample, stitch.

Windows (`--train 3y --test 1y --step 1y`; durations `Nd`, `Nw`, `Nm`, `Ny` in calendar days,
weeks, months, years): the first train window starts on the first bar's (New York) date;
train = [t, t + train), test = [t + train, t + train + test); the next window starts at
t + step. The last test window may end past the data: it is kept, cut at the last bar, and
marked `partial`. `step` must be at least `test`, so test windows never overlap and the
stitched curve has each day once.

Each window: every parameter point is backtested on the train window's bars alone; the best
by the ranking metric (`sweep.RANK_METRICS`; a window where no point has the metric defined
takes the first point) is backtested on the test window's bars alone — its indicators warm
up inside the test window, as a strategy started that day would, so nothing of the train
window leaks into the out-of-sample run. The first test window starts with the given cash,
each later one with the previous one's ending equity: a position still open at a window's
end is valued at that window's last close, and the next window starts flat with that value
as cash (no trade is recorded for it). The stitched out-of-sample curve is the test
windows' daily curves end to end; its metrics come from `analytics.compute_metrics` with
the test windows' closed trades.

All the train runs of all windows are one map on the executor: the bars are shipped once
and each task cuts its own window out of them.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.analytics.equity import EquityCurve
from mcp_trading.analytics.metrics import Metrics, compute_metrics
from mcp_trading.analytics.trades import RoundTrip
from mcp_trading.backtest.executors import Executor, Progress, SerialExecutor
from mcp_trading.backtest.sweep import (
    PointResult,
    SweepShared,
    SweepSpec,
    evaluate_point,
    rank_points,
)
from mcp_trading.backtest.vector_run import vector_run
from mcp_trading.domain.errors import InvalidError

__all__ = [
    "WalkForwardResult",
    "Window",
    "WindowResult",
    "add_duration",
    "parse_duration",
    "walk_forward",
    "windows",
]

_DURATION = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$", re.IGNORECASE)
_NY = ZoneInfo("America/New_York")  # a bar's day is its New York date (daily bars' ts: midnight)


def parse_duration(text: str, name: str) -> tuple[int, str]:
    """`3y` -> (3, "y"); InvalidError naming `name` otherwise."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise InvalidError(f"{name} is {text!r}; write a positive count and a unit: 30d, 8w, "
                           "6m or 3y", field=name)
    return int(match.group(1)), match.group(2).lower()


def add_duration(day: date, amount: tuple[int, str]) -> date:
    """`day` plus a duration; months and years keep the day of the month where it exists."""
    count, unit = amount
    if unit == "d":
        return day + timedelta(days=count)
    if unit == "w":
        return day + timedelta(weeks=count)
    months = count * (12 if unit == "y" else 1)
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Window(NamedTuple):
    train_start: date
    test_start: date  # = the train window's end (exclusive)
    test_end: date  # exclusive
    partial: bool  # the test window runs past the data


def _bar_day(ts: int) -> date:
    return datetime.fromtimestamp(ts / 1e9, _NY).date()


def windows(first_ts: int, last_ts: int, train: str, test: str, step: str) -> list[Window]:
    """The rolling windows over bars from `first_ts` to `last_ts` (module docstring)."""
    tr, te, st = (parse_duration(train, "train"), parse_duration(test, "test"),
                  parse_duration(step, "step"))
    first, last = _bar_day(first_ts), _bar_day(last_ts)
    probe = date(2001, 1, 1)
    if add_duration(probe, st) < add_duration(probe, te):
        raise InvalidError(f"step {step} is shorter than test {test}: test windows would "
                           "overlap; give step >= test", field="step")
    out: list[Window] = []
    start = first
    while True:
        test_start = add_duration(start, tr)
        if test_start > last:
            break
        test_end = add_duration(test_start, te)
        out.append(Window(start, test_start, test_end, test_end > last + timedelta(days=1)))
        start = add_duration(start, st)
    if not out:
        raise InvalidError(f"the data ({first} to {last}) is shorter than one train window "
                           f"({train}) plus a day of test; give a shorter --train or more data",
                           field="train")
    return out


def _ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=_NY).timestamp()) * 1_000_000_000


def _cut(bars: Mapping[str, BarColumns], lo: date, hi: date) -> dict[str, BarColumns]:
    """The bars of New York days [lo, hi), per symbol (symbols without any left out)."""
    out = {}
    for symbol, cols in bars.items():
        a, b = np.searchsorted(cols.ts, [_ns(lo), _ns(hi)], side="left")
        if b > a:
            out[symbol] = BarColumns(cols.ts[a:b], cols.open[a:b], cols.high[a:b], cols.low[a:b],
                                     cols.close[a:b], cols.volume[a:b], cols.adj_factor[a:b])
    return out


class _WalkShared(NamedTuple):
    spec: SweepSpec
    bars: Mapping[str, BarColumns]


def _train_task(shared: _WalkShared, item: tuple[int, date, date, dict[str, Any]]) -> \
        tuple[int, PointResult | None]:
    index, lo, hi, params = item
    cut = _cut(shared.bars, lo, hi)
    symbols = tuple(s for s in shared.spec.symbols if s in cut)
    if not symbols:
        return index, None
    spec = dataclasses.replace(shared.spec, symbols=symbols)
    return index, evaluate_point(SweepShared(spec, cut), params)


@dataclass(frozen=True)
class WindowResult:
    window: Window
    params: dict[str, Any]  # the train window's best
    train_metric: float | None
    test_metrics: Metrics
    trades: list[RoundTrip]
    start_equity: float
    end_equity: float

    def as_dict(self, rank: str) -> dict[str, object]:
        w = self.window
        return {"train": [w.train_start.isoformat(), w.test_start.isoformat()],
                "test": [w.test_start.isoformat(), w.test_end.isoformat()],
                "partial": w.partial, "params": self.params,
                f"train_{rank}": self.train_metric,
                f"test_{rank}": self.test_metrics.as_dict().get(rank),
                "test_total_return": self.test_metrics.as_dict()["total_return"],
                "trades": len(self.trades), "start_equity": round(self.start_equity, 6),
                "end_equity": round(self.end_equity, 6)}


@dataclass(frozen=True)
class WalkForwardResult:
    spec: SweepSpec
    windows: list[WindowResult]
    curve: EquityCurve  # out of sample, stitched
    metrics: Metrics
    trades: list[RoundTrip]
    points: int  # parameter points tried per window

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: the windows with their chosen parameters, the stitched OOS metrics."""
        return {"strategy": self.spec.strategy, "symbols": list(self.spec.symbols),
                "rank": self.spec.rank, "points_per_window": self.points,
                "windows": [w.as_dict(self.spec.rank) for w in self.windows],
                "out_of_sample": self.metrics.as_dict(),
                "equity": self.curve.rows(), "trades": [t.as_dict() for t in self.trades]}


def _test_run(spec: SweepSpec, bars: Mapping[str, BarColumns], params: dict[str, Any],
              cash: Decimal) -> tuple[list[RoundTrip], EquityCurve, Metrics]:
    symbols = tuple(s for s in spec.symbols if s in bars)
    costs = dataclasses.replace(spec.costs, cash=cash)
    if spec.uses_vector():
        run = vector_run(spec.strategy, params, bars, symbols, costs)
        return run.trades, run.curve, run.metrics
    from mcp_trading.backtest.event_run import event_run

    return event_run(spec.strategy, params, bars, symbols, costs, timeframe=spec.timeframe,
                     strategy_dir=spec.strategy_dir)


def _stitch(parts: Sequence[EquityCurve], cash: Decimal) -> EquityCurve:
    def join(name: str) -> Any:
        series = [getattr(c, name) for c in parts]
        return None if any(s is None for s in series) else np.concatenate(series)

    return EquityCurve.of(join("ts"), join("equity"), initial=float(cash), cash=join("cash"),
                          gross_exposure=join("gross_exposure"),
                          net_exposure=join("net_exposure"), traded=join("traded"))


def _best(results: list[PointResult], rank: str) -> PointResult:
    return rank_points(results, rank)[0]


def walk_forward(spec: SweepSpec, points: Sequence[dict[str, Any]],
                 bars: Mapping[str, BarColumns], *, train: str, test: str, step: str,
                 executor: Executor | None = None,
                 progress: Progress | None = None) -> WalkForwardResult:
    """Rolling train/test windows over `bars` (module docstring)."""
    if not points:
        raise InvalidError("walk-forward needs at least one parameter point", field="grid")
    sizes = [cols for cols in bars.values() if cols.size]
    if not sizes:
        raise InvalidError("walk-forward got no bars", field="symbols")
    plan = windows(min(int(c.ts[0]) for c in sizes), max(int(c.ts[-1]) for c in sizes),
                   train, test, step)
    items = [(i, w.train_start, w.test_start, p) for i, w in enumerate(plan) for p in points]
    done = (executor or SerialExecutor()).map(_train_task, items, _WalkShared(spec, bars),
                                              progress=progress)
    per_window: dict[int, list[PointResult]] = {}
    for index, result in done:
        if result is not None:
            per_window.setdefault(index, []).append(result)
    cash = spec.costs.cash
    results, curves, trades = [], [], []
    for i, w in enumerate(plan):
        test_bars = _cut(bars, w.test_start, w.test_end)
        if i not in per_window or not test_bars:
            continue
        best = _best(per_window[i], spec.rank)
        run_trades, curve, metrics = _test_run(spec, test_bars, best.params, cash)
        end = Decimal(repr(float(curve.equity[-1])))
        results.append(WindowResult(w, best.params, best.value(spec.rank), metrics, run_trades,
                                    float(cash), float(end)))
        curves.append(curve)
        trades += run_trades
        cash = end
    if not curves:
        raise InvalidError("no window had bars to test on; check the symbols and the range",
                           field="test")
    stitched = _stitch(curves, spec.costs.cash)
    return WalkForwardResult(spec, results, stitched,
                             compute_metrics(stitched, trades,
                                             risk_free_rate=spec.costs.risk_free_rate),
                             trades, len(points))
