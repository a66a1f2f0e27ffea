"""`mcp-trading sweep` and `mcp-trading walk-forward`: parameter sweeps over stored history.

    mcp-trading sweep sma_crossover --grid fast=5:20:5 slow=20,30,50 --symbols AAPL,MSFT \\
        --start 2004-01-01 --end 2013-12-31 --rank sharpe --html sweep.html
    mcp-trading sweep sma_crossover --random 100 --seed 7 fast=2:50 slow=10:200 --symbols AAPL
    mcp-trading walk-forward sma_crossover fast=5:20:5 slow=20,30,50 --symbols AAPL \\
        --train 3y --test 1y --step 1y

The axes (`name=a,b,c`, `name=lo:hi:step`, `name=lo:hi` for random draws) follow the strategy
name; `--grid` is the default. The verbs read the bars once from the configured history
store (or `--history-url`), offline, and run the points on the local cores at a lower CPU
priority (`--executor local[:N]`, the default), in this process (`serial`) or on a Dask
cluster (`dask://HOST:PORT`). Exit codes: 0 done; 1 refused (the reason on stderr).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from mcp_trading.cli.data import HistoryUrl, _fail, _store
from mcp_trading.config import Settings
from mcp_trading.domain.errors import InvalidError, TradingError

if TYPE_CHECKING:
    from mcp_trading.backtest.points import Axis, PointSet
    from mcp_trading.backtest.sweep import SweepResult, SweepSpec

__all__ = ["register", "sweep", "walk_forward_cmd"]

console = Console()

Axes = Annotated[list[str] | None, typer.Argument(
    help="Parameter axes: name=a,b,c | name=lo:hi:step | name=lo:hi (random draws).",
    show_default=False)]
Symbols = Annotated[str, typer.Option("--symbols", help="Comma-separated symbols.")]
Start = Annotated[str | None, typer.Option("--start", help="First day, YYYY-MM-DD.")]
End = Annotated[str | None, typer.Option("--end", help="Last day, YYYY-MM-DD.")]
Timeframe = Annotated[str, typer.Option("--timeframe", help="1Min ... 1Day.")]
Cash = Annotated[str, typer.Option("--cash", help="Starting cash.")]
Params = Annotated[list[str] | None, typer.Option(
    "--param", help="A fixed parameter k=v for every point (repeatable).", show_default=False)]
Rank = Annotated[str, typer.Option("--rank", help="Metric to rank by: sharpe, total_return, "
                                                  "cagr, calmar, sortino, max_drawdown, ...")]
ExecutorOpt = Annotated[str, typer.Option(
    "--executor", help="local (every core, nice +10), local:N, serial or dask://HOST:PORT.")]
RandomN = Annotated[int | None, typer.Option("--random", help="Draw N random points instead "
                                                              "of the grid.", show_default=False)]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the random draws.")]
PathOpt = Annotated[str, typer.Option("--path", help="auto (vectorised where the strategy has "
                                                     "it), vector or event.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Html = Annotated[Path | None, typer.Option("--html", help="Write the HTML page here.",
                                           show_default=False)]
Source = Annotated[str | None, typer.Option("--source", help="Only bars of this source.",
                                            show_default=False)]


def register(app: typer.Typer) -> None:
    """Add `sweep` and `walk-forward` to `app`."""
    app.command("sweep")(sweep)
    app.command("walk-forward")(walk_forward_cmd)


def _cash(text: str) -> Decimal:
    try:
        cash = Decimal(text)
    except InvalidOperation:
        raise InvalidError(f"cash is {text!r}, not a number", field="cash") from None
    if not cash.is_finite() or cash <= 0:
        raise InvalidError(f"cash is {text}; give a positive amount", field="cash")
    return cash


def _points(strategy: str, axes: list[str], fixed: list[str], random_n: int | None,
            seed: int) -> tuple[PointSet, list[Axis]]:
    from mcp_trading.backtest.points import Axis, grid_points, parse_axes, random_points
    from mcp_trading.strategy.loader import load_registry

    params = load_registry(Settings().strategy_dir).get(strategy).Params
    parsed = parse_axes(params, axes)
    for text in fixed:
        name, sep, value = text.partition("=")
        if not sep:
            raise InvalidError(f"--param {text!r} is not k=v", field="params")
        if any(a.name == name.strip() for a in parsed):
            raise InvalidError(f"parameter {name!r} is both an axis and fixed; give it once",
                               field=f"params.{name.strip()}")
        parsed.append(Axis(name.strip(), (value.strip(),)))
    if random_n is not None:
        return random_points(params, parsed, random_n, seed), parsed
    return grid_points(params, parsed), parsed


def _spec(strategy: str, *, symbols: str, timeframe: str, cash: str, rank: str,
          path: str) -> SweepSpec:
    from mcp_trading.backtest.sweep import SweepSpec
    from mcp_trading.backtest.vector_run import RunCosts

    names = tuple(s.strip().upper() for s in symbols.split(",") if s.strip())
    settings = Settings()
    strategy_dir = str(settings.strategy_dir) if settings.strategy_dir else None
    return SweepSpec(strategy=strategy, symbols=names, timeframe=timeframe,
                     costs=RunCosts(cash=_cash(cash)), rank=rank, path=path,
                     strategy_dir=strategy_dir)


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    with bar:
        task = bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def _varied(axes: list[Axis]) -> list[str]:
    return [a.name for a in axes if len(a.values) != 1]


def _print_sweep(result: SweepResult, varied: list[str], top: int) -> None:
    from mcp_trading.backtest.heatmap import heatmap_of, heatmap_text

    spec = result.spec
    names = list(result.points[0].params) if result.points else []
    table = Table("#", *names, spec.rank, "total return", "max dd", "trades",
                  title=f"{spec.strategy} {', '.join(spec.symbols)}: {len(result.points)} points "
                        f"in {result.wall_s:.2f} s ({result.executor})")
    for i, p in enumerate(result.points[:top]):
        shown = [p.value(m) for m in (spec.rank, "total_return", "max_drawdown")]
        table.add_row(str(i + 1), *(str(p.params[n]) for n in names),
                      *("n/a" if v is None else f"{v:.4g}" for v in shown), str(p.trades))
    console.print(table)
    if result.skipped:
        console.print(f"{len(result.skipped)} point(s) skipped as invalid, e.g. "
                      f"{escape(result.skipped[0][1])}", highlight=False)
    if len(varied) == 2:
        console.print(heatmap_text(heatmap_of(result, varied[0], varied[1])), highlight=False,
                      markup=False)


def _guard(action: Callable[[], None]) -> None:
    try:
        action()
    except TradingError as exc:
        raise _fail(exc.message) from None


def sweep(strategy: Annotated[str, typer.Argument(help="Strategy name (list_strategies).")],
          axes: Axes = None, *, symbols: Symbols = "AAPL", start: Start = None, end: End = None,
          timeframe: Timeframe = "1Day", cash: Cash = "100000", param: Params = None,
          rank: Rank = "sharpe",
          grid: Annotated[bool, typer.Option("--grid", help="Every combination of the axes "
                                                            "(the default).")] = False,
          random_n: RandomN = None, seed: Seed = 0, executor: ExecutorOpt = "local",
          path: PathOpt = "auto", top: Annotated[int, typer.Option(help="Rows shown.")] = 20,
          as_json: AsJson = False, html: Html = None, history_url: HistoryUrl = None,
          source: Source = None) -> None:
    """Run a grid or random parameter sweep of STRATEGY and rank the points by a metric."""
    from mcp_trading.backtest.executors import open_executor
    from mcp_trading.backtest.heatmap import sweep_html
    from mcp_trading.backtest.sweep import load_bars, run_sweep

    if grid and random_n is not None:
        raise _fail("give --grid or --random N, not both", code=2)

    def run() -> None:
        spec = _spec(strategy, symbols=symbols, timeframe=timeframe, cash=cash, rank=rank,
                     path=path)
        points, parsed = _points(strategy, axes or [], param or [], random_n, seed)
        with _store(history_url) as store:
            bars = load_bars(store, spec.symbols, timeframe, start=start, end=end, source=source)
        with open_executor(executor) as pool, _progress(not as_json, "sweep") as report:
            result = run_sweep(spec, points, bars, executor=pool, progress=report)
        varied = _varied(parsed)
        if html is not None:
            html.write_text(sweep_html(result, varied if len(varied) == 2 else ()),
                            encoding="utf-8")
        if as_json:
            print(json.dumps(result.as_dict()))
            return
        _print_sweep(result, varied, top)
        if html is not None:
            console.print(f"wrote {escape(str(html))}", highlight=False)

    _guard(run)


def _print_walk(result: Any) -> None:
    spec = result.spec
    table = Table("train", "test", "params", f"train {spec.rank}", f"test {spec.rank}",
                  "test return", "trades", title=f"walk-forward {spec.strategy} "
                  f"{', '.join(spec.symbols)} ({result.points} points per window)")
    for w in result.windows:
        row = w.as_dict(spec.rank)
        shown = [row[f"train_{spec.rank}"], row[f"test_{spec.rank}"], row["test_total_return"]]
        table.add_row(" to ".join(row["train"]), " to ".join(row["test"])
                      + (" (partial)" if w.window.partial else ""),
                      ", ".join(f"{k}={v}" for k, v in w.params.items()),
                      *("n/a" if v is None else f"{v:.4g}" for v in shown), str(len(w.trades)))
    console.print(table)
    m = result.metrics.as_dict()
    console.print("out of sample, stitched: " + ", ".join(
        f"{k} {'n/a' if m[k] is None else format(m[k], '.4g')}"
        for k in ("total_return", "cagr", "sharpe", "max_drawdown", "trades")), highlight=False)


def _walk_html(result: Any, path: Path) -> None:
    from mcp_trading.analytics.report import report_html
    from mcp_trading.analytics.run import RunReport

    spec = result.spec
    chosen = "; ".join(f"{w.window.test_start}: " + ", ".join(f"{k}={v}" for k, v in
                                                                w.params.items())
                       for w in result.windows)
    report = RunReport(title=f"walk-forward {spec.strategy} {', '.join(spec.symbols)} "
                             "(out of sample)", curve=result.curve, metrics=result.metrics,
                       trades=result.trades, strategy=spec.strategy, symbols=spec.symbols,
                       params={"chosen per test window": chosen},
                       fill_rules="market orders fill at the next bar's open")
    path.write_text(report_html(report), encoding="utf-8")


def walk_forward_cmd(
        strategy: Annotated[str, typer.Argument(help="Strategy name (list_strategies).")],
        axes: Axes = None, *, symbols: Symbols = "AAPL", start: Start = None, end: End = None,
        timeframe: Timeframe = "1Day", cash: Cash = "100000", param: Params = None,
        rank: Rank = "sharpe",
        train: Annotated[str, typer.Option("--train", help="Train window: 30d, 8w, 6m, 3y.")] = "3y",
        test: Annotated[str, typer.Option("--test", help="Test window.")] = "1y",
        step: Annotated[str, typer.Option("--step", help="Window step (>= test).")] = "1y",
        random_n: RandomN = None, seed: Seed = 0, executor: ExecutorOpt = "local",
        path: PathOpt = "auto", as_json: AsJson = False, html: Html = None,
        history_url: HistoryUrl = None, source: Source = None) -> None:
    """Walk forward: the best parameters of each train window, tested on the next window."""
    from mcp_trading.backtest.executors import open_executor
    from mcp_trading.backtest.sweep import load_bars
    from mcp_trading.backtest.walkforward import walk_forward

    def run() -> None:
        spec = _spec(strategy, symbols=symbols, timeframe=timeframe, cash=cash, rank=rank,
                     path=path)
        points, _ = _points(strategy, axes or [], param or [], random_n, seed)
        with _store(history_url) as store:
            bars = load_bars(store, spec.symbols, timeframe, start=start, end=end, source=source)
        with open_executor(executor) as pool, _progress(not as_json, "walk-forward") as report:
            result = walk_forward(spec, points.points, bars, train=train, test=test, step=step,
                                  executor=pool, progress=report)
        if html is not None:
            _walk_html(result, html)
        if as_json:
            print(json.dumps(result.as_dict()))
            return
        _print_walk(result)

    _guard(run)
