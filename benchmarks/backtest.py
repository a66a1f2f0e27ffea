"""Backtest speed against backtrader and vectorbt, with the trades checked equal.

    pip install -e ".[bench]"        # backtrader and vectorbt: development only
    python benchmarks/backtest.py [--bars 1000000] [--points 100] [--part a|b|all]

Prints one JSON object on stdout (progress on stderr). Not a timed test.

(a) `sma_crossover` (fast 10, slow 30, qty 100) on `--bars` GENERATED 1-minute bars (one
    symbol, a seeded random walk rounded to cents, 390 bars per New York session on
    weekdays — synthetic, not market data): our event-driven engine (`run_backtest`, the real
    kernel), backtrader (market orders fill at the next bar's open — its default; no
    cheat-on-close; zero commission and slippage; the same rule in `next()`, ties of the two
    means within `sma_crossover.TIE` skipped as ours are) and our vectorised path (`vector_run`:
    decisions, fills, daily curve, metrics). Bars/s each, the ratios to backtrader, and
    whether the three fill lists (bar, side, qty, price) are identical. Each runs in its own
    child process (spawn), which also gives its peak RSS (`ru_maxrss`) including the bars.
(b) A sweep of `--points` random (fast, slow) sets (seed 14; fast 2..50 < slow 10..200) over
    4 GENERATED symbols × 2,520 daily bars (10 years; seeded random walks in cents): our
    `run_sweep` on the local process pool (2 workers at nice +10, the default, and at nice 0;
    the bars shipped once per worker) and serially, and vectorbt's `MA.run` +
    `Portfolio.from_signals` on the same points — cold (a fresh process: the first call,
    numba compilation included; the import timed apart) and warm (the second call);
    vectorbt's crossings (`crossed_above_nb`) of its own moving averages, with ties within
    `TIE` made equal first. Identity: every point's closed trades (symbol, entry bar, exit
    bar, entry and exit price, size) and its total return are compared.

calib.py's loop is timed before and after; `normalised` scales each figure to the reference
machine (loop 0.40 s): a rate × loop / 0.40, a time × 0.40 / loop, with the mean loop.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from mcp_trading.adapters.history.contract import BarColumns

CALIB = Path("/work/shared/tools/calib.py")
REFERENCE_LOOP_S = 0.40
NY = ZoneInfo("America/New_York")
CASH = Decimal(10_000_000)  # covers every buy: the comparison is of signals and fills
FAST, SLOW, QTY = 10, 30, 100


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def calib() -> float:
    out = subprocess.run([sys.executable, str(CALIB)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _walk(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = np.round(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0008, n))), 2)
    open_ = np.round(np.concatenate(([100.0], close[:-1])) + rng.normal(0.0, 0.01, n), 2)
    open_ = np.maximum(open_, 0.01)
    wick = np.round(np.abs(rng.normal(0.0, 0.02, n)), 2)
    return open_, np.maximum(open_, close) + wick, np.maximum(np.minimum(open_, close) - wick,
                                                              0.01), close


def minute_bars(n: int) -> BarColumns:
    """GENERATED: n 1-minute bars, 09:30-16:00 New York on weekdays from 2010-01-04."""
    stamps: list[int] = []
    day = date(2010, 1, 4)
    while len(stamps) < n:
        if day.weekday() < 5:
            open_ns = int(datetime(day.year, day.month, day.day, 9, 30, tzinfo=NY).timestamp()) * 10**9
            stamps.extend(open_ns + k * 60 * 10**9 for k in range(390))
        day += timedelta(days=1)
    o, h, lo, c = _walk(n, seed=14)
    return BarColumns(np.array(stamps[:n], dtype=np.int64), o, h, lo, c, np.full(n, 1000.0),
                      np.full(n, np.nan))


def daily_bars(symbols: int, days: int) -> dict[str, BarColumns]:
    """GENERATED: `symbols` series of `days` weekday bars from 2003-01-02 (NY midnight)."""
    stamps: list[int] = []
    day = date(2003, 1, 2)
    while len(stamps) < days:
        if day.weekday() < 5:
            stamps.append(int(datetime(day.year, day.month, day.day, tzinfo=NY).timestamp()) * 10**9)
        day += timedelta(days=1)
    out = {}
    for i in range(symbols):
        o, h, lo, c = _walk(days, seed=100 + i)
        out[f"GEN{i}"] = BarColumns(np.array(stamps, dtype=np.int64), o, h, lo, c,
                                    np.full(days, 1000.0), np.full(days, np.nan))
    return out


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- (a): one symbol, a million minutes --------------------------------------------------

def run_engine(n: int) -> dict[str, Any]:
    from mcp_trading.adapters.history.memory import MemoryHistoryStore
    from mcp_trading.backtest import BacktestSpec, run_backtest
    from mcp_trading.config import Settings
    from mcp_trading.domain.models import CommissionModel, SlippageModel
    from mcp_trading.strategy.loader import load_registry

    bars = minute_bars(n)
    store = MemoryHistoryStore()
    with store.writer() as writer:
        writer.add("GEN", "bench", "1Min", bars)
    first = datetime.fromtimestamp(bars.ts[0] / 1e9, NY).date()
    last = datetime.fromtimestamp(bars.ts[-1] / 1e9, NY).date()
    spec = BacktestSpec(strategy="sma_crossover", symbols=("GEN",), start=first, end=last,
                        timeframe="1Min", params={"fast": FAST, "slow": SLOW, "qty": QTY},
                        cash=CASH, source="bench", commission=CommissionModel(),
                        slippage=SlippageModel())
    t0 = time.perf_counter()
    result = run_backtest(spec, history=store, registry=load_registry(), settings=Settings())
    seconds = time.perf_counter() - t0
    index = {int(t): i for i, t in enumerate(bars.ts.tolist())}
    fills = [(index[f.ts], f.side, str(f.qty), float(f.price)) for f in result.fills]
    return {"seconds": seconds, "bars": n, "fills": fills, "status": result.status,
            "peak_rss_mb": _peak_mb()}


def run_vector(n: int) -> dict[str, Any]:
    from mcp_trading.backtest.vector_run import RunCosts, vector_run

    bars = {"GEN": minute_bars(n)}
    t0 = time.perf_counter()
    run = vector_run("sma_crossover", {"fast": FAST, "slow": SLOW, "qty": QTY}, bars, ("GEN",),
                     RunCosts(cash=CASH))
    seconds = time.perf_counter() - t0
    fills = [(f.bar, f.side, str(f.qty), float(f.price)) for f in run.fills]
    return {"seconds": seconds, "bars": n, "fills": fills, "peak_rss_mb": _peak_mb()}


def run_backtrader(n: int) -> dict[str, Any]:
    import backtrader as bt
    import pandas as pd

    from mcp_trading.strategy.builtin.sma_crossover import tied

    bars = minute_bars(n)
    frame = pd.DataFrame({"open": bars.open, "high": bars.high, "low": bars.low,
                          "close": bars.close, "volume": bars.volume},
                         index=pd.to_datetime(bars.ts, unit="ns"))

    class SmaCross(bt.Strategy):  # type: ignore[misc]
        """The issue's sma_crossover rule: the sign against the last bar where it differed."""

        def __init__(self) -> None:
            self.fast = bt.indicators.SimpleMovingAverage(self.data.close, period=FAST)
            self.slow = bt.indicators.SimpleMovingAverage(self.data.close, period=SLOW)
            self.last = 0
            self.fills: list[tuple[int, str, str, float]] = []

        def next(self) -> None:
            fast, slow = self.fast[0], self.slow[0]
            if tied(fast, slow):  # the same tie rule as ours (float rounding of equal means)
                return
            sign = 1 if fast > slow else -1
            last, self.last = self.last, sign
            if sign == 1 and last == -1 and not self.position:
                self.buy(size=QTY)
            elif sign == -1 and last == 1 and self.position:
                self.close()

        def notify_order(self, order: Any) -> None:
            if order.status == order.Completed:
                self.fills.append((len(self.data) - 1, "buy" if order.isbuy() else "sell",
                                   str(abs(int(order.executed.size))), float(order.executed.price)))

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes))
    cerebro.addstrategy(SmaCross)
    cerebro.broker.setcash(float(CASH))
    cerebro.broker.setcommission(commission=0.0)
    cerebro.broker.set_coc(False)  # no cheat-on-close: a market order fills at the next open
    t0 = time.perf_counter()
    (strategy,) = cerebro.run()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "bars": n, "fills": strategy.fills, "peak_rss_mb": _peak_mb()}


def _child(fn: Any, *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result: dict[str, Any] = pool.submit(fn, *args).result()
        return result


def part_a(n: int, with_backtrader: bool) -> dict[str, Any]:
    log(f"(a) vectorised path on {n:,} bars")
    vector = _child(run_vector, n)
    log(f"(a) event-driven engine on {n:,} bars")
    engine = _child(run_engine, n)
    out: dict[str, Any] = {"bars": n, "data": "GENERATED 1-minute bars (seeded random walk)"}
    runs = {"engine": engine, "vector": vector}
    if with_backtrader:
        log(f"(a) backtrader on {n:,} bars")
        runs["backtrader"] = _child(run_backtrader, n)
    for name, run in runs.items():
        out[name] = {"seconds": round(run["seconds"], 3), "bars_per_s": round(n / run["seconds"]),
                     "fills": len(run["fills"]), "peak_rss_mb": round(run["peak_rss_mb"], 1)}
    out["engine_status"] = engine["status"]
    out["vector_fills_equal_engine"] = vector["fills"] == engine["fills"]
    if with_backtrader:
        bt_run = runs["backtrader"]
        out["engine_fills_equal_backtrader"] = engine["fills"] == bt_run["fills"]
        out["vector_fills_equal_backtrader"] = vector["fills"] == bt_run["fills"]
        out["engine_vs_backtrader"] = round(bt_run["seconds"] / engine["seconds"], 2)
        out["vector_vs_backtrader"] = round(bt_run["seconds"] / vector["seconds"], 1)
        if bt_run["fills"] != engine["fills"]:
            diff = next(i for i, (a, b) in enumerate(zip(bt_run["fills"], engine["fills"],
                                                         strict=False)) if a != b)
            out["first_difference"] = {"index": diff, "backtrader": bt_run["fills"][diff],
                                       "engine": engine["fills"][diff]}
    return out


# ---- (b): a sweep of 100 points, 4 symbols x 10 years daily --------------------------------

def sweep_points(count: int) -> list[dict[str, Any]]:
    from mcp_trading.backtest.points import parse_axes, random_points
    from mcp_trading.strategy.builtin.sma_crossover import SmaCrossoverParams

    axes = parse_axes(SmaCrossoverParams, ["fast=2:50", "slow=10:200"])
    return random_points(SmaCrossoverParams, axes, count, seed=14).points


def run_ours(count: int, workers: int, nice: int = 10) -> dict[str, Any]:
    from mcp_trading.backtest.executors import LocalExecutor, SerialExecutor
    from mcp_trading.backtest.sweep import SweepSpec, run_sweep
    from mcp_trading.backtest.vector_run import RunCosts

    bars = daily_bars(4, 2520)
    points = sweep_points(count)
    spec = SweepSpec(strategy="sma_crossover", symbols=tuple(bars), costs=RunCosts(cash=CASH),
                     rank="total_return")
    executor = LocalExecutor(workers, nice=nice) if workers > 1 else SerialExecutor()
    t0 = time.perf_counter()
    result = run_sweep(spec, points, bars, executor=executor, keep_trades=True)
    seconds = time.perf_counter() - t0
    index = {int(t): i for i, t in enumerate(bars["GEN0"].ts.tolist())}
    per_point = {}
    for p in result.points:
        rows: list[dict[str, Any]] = [dict(t) for t in p.trade_list or ()]
        trades = sorted((t["symbol"], index[int(t["entry_time"])], index[int(t["exit_time"])],
                         float(t["entry_price"]), float(t["exit_price"]), float(t["qty"]))
                        for t in rows)
        per_point[f"{p.params['fast']}/{p.params['slow']}"] = {
            "total_return": p.metrics["total_return"], "trades": trades}
    return {"seconds": seconds, "points": per_point, "peak_rss_mb": _peak_mb()}


def _vbt_sweep(vbt: Any, pd: Any, bars: dict[str, BarColumns], points: list[dict[str, Any]],
               tie: float) -> Any:
    names = list(bars)
    index = pd.to_datetime(bars[names[0]].ts, unit="ns")
    close = pd.DataFrame({s: bars[s].close for s in names}, index=index)
    open_ = pd.DataFrame({s: bars[s].open for s in names}, index=index)
    fast = vbt.MA.run(close, window=[p["fast"] for p in points], short_name="fast")
    slow = vbt.MA.run(close, window=[p["slow"] for p in points], short_name="slow")
    fa, sa = fast.ma.to_numpy(), slow.ma.to_numpy()  # (days, points x symbols), point-major
    # ties of cent prices: equal within float rounding counts as equal, our rule (TIE)
    with np.errstate(invalid="ignore"):
        sa = np.where(np.abs(fa - sa) <= tie * np.maximum(np.abs(fa), np.abs(sa)), fa, sa)
    entries = vbt.generic.nb.crossed_above_nb(fa, sa)
    exits = vbt.generic.nb.crossed_above_nb(sa, fa)
    # decided on bar i's close, filled at bar i + 1's open
    entries = np.vstack([np.zeros((1, entries.shape[1]), bool), entries[:-1]])
    exits = np.vstack([np.zeros((1, exits.shape[1]), bool), exits[:-1]])
    tiles = len(points)
    return vbt.Portfolio.from_signals(
        close=np.tile(close.to_numpy(), tiles), entries=entries, exits=exits,
        price=np.tile(open_.to_numpy(), tiles), size=QTY, size_type="amount", fees=0.0,
        init_cash=float(CASH), cash_sharing=True, group_by=np.repeat(np.arange(tiles), len(names)),
        accumulate=False, freq="1D")


def run_vectorbt(count: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    import pandas as pd
    import vectorbt as vbt

    from mcp_trading.strategy.builtin.sma_crossover import TIE

    imported = time.perf_counter() - t0
    bars = daily_bars(4, 2520)
    points = sweep_points(count)
    t0 = time.perf_counter()
    _vbt_sweep(vbt, pd, bars, points, TIE).total_return()
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    pf = _vbt_sweep(vbt, pd, bars, points, TIE)
    returns = pf.total_return().to_numpy()
    warm = time.perf_counter() - t0
    names = list(bars)
    records = pf.trades.values  # the structured array (records is its DataFrame)
    per_point = {}
    for k, p in enumerate(points):
        trades = sorted((names[int(r["col"]) % len(names)], int(r["entry_idx"]), int(r["exit_idx"]),
                         float(r["entry_price"]), float(r["exit_price"]), float(r["size"]))
                        for r in records if int(r["col"]) // len(names) == k and int(r["status"]) == 1)
        per_point[f"{p['fast']}/{p['slow']}"] = {"total_return": float(returns[k]), "trades": trades}
    return {"import_s": imported, "cold_s": cold, "warm_s": warm, "points": per_point,
            "peak_rss_mb": _peak_mb()}


def part_b(count: int) -> dict[str, Any]:
    log(f"(b) our sweep of {count} points, 2 workers and serially")
    pool = _child(run_ours, count, 2)
    pool_nice0 = _child(run_ours, count, 2, 0)
    serial = _child(run_ours, count, 1)
    log("(b) vectorbt, cold then warm")
    vbt_run = _child(run_vectorbt, count)
    ours, theirs = pool["points"], vbt_run["points"]
    same_trades = all(ours[k]["trades"] == theirs[k]["trades"] for k in ours)
    worst = max(abs(ours[k]["total_return"] - theirs[k]["total_return"]) for k in ours)
    return {"points": count, "data": "GENERATED: 4 symbols x 2,520 daily bars (seeded random walks)",
            "ours_pool_2_workers_s": round(pool["seconds"], 3),
            "ours_pool_2_workers_nice0_s": round(pool_nice0["seconds"], 3),
            "ours_serial_s": round(serial["seconds"], 3),
            "vectorbt_import_s": round(vbt_run["import_s"], 3),
            "vectorbt_cold_s": round(vbt_run["cold_s"], 3),
            "vectorbt_warm_s": round(vbt_run["warm_s"], 3),
            "trades_identical_every_point": same_trades,
            "points_compared": len(ours), "closed_trades": sum(len(v["trades"]) for v in ours.values()),
            "max_total_return_difference": worst,
            "peak_rss_mb": {"ours": round(pool["peak_rss_mb"], 1),
                            "vectorbt": round(vbt_run["peak_rss_mb"], 1)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--part", choices=("a", "b", "all"), default="all")
    parser.add_argument("--no-backtrader", action="store_true")
    args = parser.parse_args()
    before = calib()
    figures: dict[str, Any] = {"machine": {"cpus": multiprocessing.cpu_count()}}
    if args.part in ("a", "all"):
        figures["a"] = part_a(args.bars, not args.no_backtrader)
    if args.part in ("b", "all"):
        figures["b"] = part_b(args.points)
    after = calib()
    loop = statistics.mean([before, after])
    figures["calib_loop_s"] = {"before": before, "after": after}
    scale = loop / REFERENCE_LOOP_S
    norm: dict[str, Any] = {}
    if "a" in figures:
        norm["a_bars_per_s"] = {k: round(v["bars_per_s"] * scale) for k, v in figures["a"].items()
                                if isinstance(v, dict) and "bars_per_s" in v}
    if "b" in figures:
        norm["b_seconds"] = {k: round(v / scale, 3) for k, v in figures["b"].items()
                             if k.endswith("_s") and isinstance(v, float)}
    figures["normalised"] = norm
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
