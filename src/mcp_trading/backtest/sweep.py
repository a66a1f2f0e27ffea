"""Parameter sweeps: one strategy over many parameter points, each a full backtest, ranked.

    bars = load_bars(history, ["AAPL", "MSFT"], "1Day", start="2004-01-01", end="2013-12-31")
    axes = parse_axes(SmaCrossoverParams, ["fast=5:20:5", "slow=20,30,50"])
    result = run_sweep(SweepSpec(strategy="sma_crossover", symbols=("AAPL", "MSFT")),
                       grid_points(SmaCrossoverParams, axes), bars, executor=LocalExecutor())

The bars are read once (`load_bars`, the history store's one read path) and shipped to the
workers with the points (`executors`). Each point runs on the vectorised path when the
strategy has one (`strategy.vector.VECTORISED`: same trades as the event-driven engine, a
test holds them to it) and on the event-driven engine otherwise (`path="event"` forces it).
Points are ranked by one metric of `analytics.metrics` (RANK_METRICS says which way is
better); a point whose metric is undefined (null: no trades, flat returns) ranks last.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from mcp_trading.backtest.executors import Executor, Progress, SerialExecutor
from mcp_trading.backtest.points import PointSet
from mcp_trading.backtest.vector_run import RunCosts, vector_run
from mcp_trading.domain.errors import InvalidError, NotFoundError
from mcp_trading.strategy.vector import VECTORISED

if TYPE_CHECKING:
    from mcp_trading.adapters.history.contract import BarColumns, HistoryStore

__all__ = ["PATHS", "RANK_METRICS", "PointResult", "SweepResult", "SweepShared", "SweepSpec",
           "evaluate_point", "load_bars", "rank_points", "run_sweep", "trade_rows"]

#: metric -> True when higher is better (max_drawdown is <= 0: closer to 0 is better)
RANK_METRICS: dict[str, bool] = {
    "sharpe": True, "sortino": True, "total_return": True, "cagr": True, "calmar": True,
    "max_drawdown": True, "annual_volatility": False, "max_drawdown_duration_days": False,
    "win_rate": True, "profit_factor": True, "average_trade_return": True,
}
PATHS = ("auto", "vector", "event")


@dataclass(frozen=True, kw_only=True)
class SweepSpec:
    """What is swept: the strategy, its symbols and data, the costs, the ranking metric."""

    strategy: str
    symbols: tuple[str, ...]
    timeframe: str = "1Day"
    costs: RunCosts = field(default_factory=RunCosts)
    rank: str = "sharpe"
    path: str = "auto"  # auto: vectorised when the strategy has the form; vector | event
    strategy_dir: str | None = None  # user strategies (Settings.strategy_dir), for the event path

    def __post_init__(self) -> None:
        if self.rank not in RANK_METRICS:
            raise InvalidError(f"rank {self.rank!r} is not a metric to rank by; use one of: "
                               + ", ".join(RANK_METRICS), field="rank",
                               extra={"allowed": list(RANK_METRICS)})
        if self.path not in PATHS:
            raise InvalidError(f"path {self.path!r} is not one of {', '.join(PATHS)}", field="path")
        if self.path == "vector" and self.strategy not in VECTORISED:
            raise InvalidError(f"strategy {self.strategy!r} has no vectorised form; those with "
                               "one: " + ", ".join(VECTORISED), field="path")
        if not self.symbols:
            raise InvalidError("give at least one symbol", field="symbols")

    def uses_vector(self) -> bool:
        return self.path == "vector" or (self.path == "auto" and self.strategy in VECTORISED)


class SweepShared(NamedTuple):
    """What every point of one sweep needs; sent to each worker once."""

    spec: SweepSpec
    bars: Mapping[str, BarColumns]
    keep_trades: bool = False


class PointResult(NamedTuple):
    params: dict[str, Any]
    path: str  # "vector" or "event": how this point was computed
    metrics: dict[str, object]  # Metrics.as_dict()
    trades: int
    final_equity: float
    trade_list: tuple[dict[str, object], ...] | None = None  # with keep_trades

    def value(self, metric: str) -> float | None:
        raw = self.metrics.get(metric)
        return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def trade_rows(trades: Sequence[Any]) -> tuple[dict[str, object], ...]:
    """Round trips (analytics RoundTrip) as JSON rows, for comparing and showing."""
    return tuple(t.as_dict() for t in trades)


def evaluate_point(shared: SweepShared, params: dict[str, Any]) -> PointResult:
    """One point's backtest (module docstring); runs in a worker."""
    spec = shared.spec
    if spec.uses_vector():
        run = vector_run(spec.strategy, params, shared.bars, spec.symbols, spec.costs)
        trades, curve, metrics, path = run.trades, run.curve, run.metrics, "vector"
    else:
        from mcp_trading.backtest.event_run import event_run

        trades, curve, metrics = event_run(spec.strategy, params, shared.bars, spec.symbols,
                                           spec.costs, timeframe=spec.timeframe,
                                           strategy_dir=spec.strategy_dir)
        path = "event"
    final = float(curve.equity[-1]) if len(curve) else float(spec.costs.cash)
    return PointResult(params, path, metrics.as_dict(), len(trades), final,
                       trade_rows(trades) if shared.keep_trades else None)


def rank_points(points: Sequence[PointResult], metric: str) -> list[PointResult]:
    """Best first by `metric` (RANK_METRICS gives the direction); undefined values last,
    ties in the points' given order."""
    higher = RANK_METRICS[metric]

    def key(item: tuple[int, PointResult]) -> tuple[bool, float, int]:
        value = item[1].value(metric)
        if value is None:
            return True, 0.0, item[0]
        return False, -value if higher else value, item[0]

    return [p for _, p in sorted(enumerate(points), key=key)]


@dataclass(frozen=True)
class SweepResult:
    spec: SweepSpec
    points: list[PointResult]  # ranked, best first
    skipped: list[tuple[dict[str, Any], str]]
    executor: str
    wall_s: float
    data_range: tuple[int, int] | None  # first and last bar ts over the symbols

    @property
    def best(self) -> PointResult | None:
        return self.points[0] if self.points else None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: the spec, the ranked points, the skipped ones with their reasons."""
        spec = self.spec
        return {"strategy": spec.strategy, "symbols": list(spec.symbols),
                "timeframe": spec.timeframe, "rank": spec.rank,
                "rank_higher_is_better": RANK_METRICS[spec.rank],
                "cash": str(spec.costs.cash), "executor": self.executor,
                "wall_s": round(self.wall_s, 4), "data_range": list(self.data_range or ()),
                "points": [{"rank": i + 1, "params": p.params, "path": p.path,
                            "metric": p.value(spec.rank), "trades": p.trades,
                            "final_equity": round(p.final_equity, 6), "metrics": p.metrics,
                            **({"trade_list": list(p.trade_list)} if p.trade_list is not None
                               else {})}
                           for i, p in enumerate(self.points)],
                "skipped": [{"params": raw, "reason": why} for raw, why in self.skipped]}


def run_sweep(spec: SweepSpec, points: PointSet | Sequence[dict[str, Any]],
              bars: Mapping[str, BarColumns], *, executor: Executor | None = None,
              progress: Progress | None = None, keep_trades: bool = False) -> SweepResult:
    """Evaluate every point on `bars` with `executor` (default: this process) and rank them."""
    skipped = list(points.skipped) if isinstance(points, PointSet) else []
    todo = list(points.points if isinstance(points, PointSet) else points)
    if not todo:
        why = f"; every point was invalid, e.g. {skipped[0][1]}" if skipped else ""
        raise InvalidError(f"the sweep has no point to evaluate{why}", field="grid")
    missing = [s for s in spec.symbols if s not in bars or not bars[s].size]
    if missing:
        raise NotFoundError(f"no bars given for {', '.join(missing)}", field="symbols")
    executor = executor or SerialExecutor()
    started = time.perf_counter()
    results = executor.map(evaluate_point, todo, SweepShared(spec, bars, keep_trades),
                           progress=progress)
    wall = time.perf_counter() - started
    first = min(int(bars[s].ts[0]) for s in spec.symbols)
    last = max(int(bars[s].ts[-1]) for s in spec.symbols)
    return SweepResult(spec, rank_points(results, spec.rank), skipped, executor.name, wall,
                       (first, last))


def _day_bounds(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    from mcp_trading.adapters.feeds.replay import day_start_ns

    def parse(text: str, name: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise InvalidError(f"{name} is {text!r}; write YYYY-MM-DD", field=name) from None

    lo = day_start_ns(parse(start, "start")) if start else None
    hi = day_start_ns(parse(end, "end") + timedelta(days=1)) - 1 if end else None
    if lo is not None and hi is not None and lo > hi:
        raise InvalidError(f"start {start} is after end {end}; give start <= end", field="start")
    return lo, hi


def load_bars(history: HistoryStore, symbols: Sequence[str], timeframe: str, *,
              start: str | None = None, end: str | None = None,
              source: str | None = None) -> dict[str, BarColumns]:
    """Every bar of each symbol in [start, end] (dates, New York days), read once."""
    from mcp_trading.adapters.history.reads import read_bars
    from mcp_trading.adapters.history.summary import bar_time_text

    lo, hi = _day_bounds(start, end)
    out: dict[str, BarColumns] = {}
    for symbol in symbols:
        read = read_bars(history, symbol, timeframe, start=lo, end=hi, limit=None, source=source)
        if read is None or not read.columns.size:
            stored = history.series(symbol)
            shown = "; ".join(f"{s.source} {s.timeframe} {bar_time_text(s.first, s.timeframe)} to "
                              f"{bar_time_text(s.last, s.timeframe)}" for s in stored)
            raise NotFoundError(f"no {timeframe} bars of {symbol} between {start or 'the first'} "
                                f"and {end or 'the last'}; stored: {shown or 'nothing'} "
                                "(mcp-trading data list)", field="symbols",
                                extra={"symbol": symbol})
        out[symbol] = read.columns
    return out
