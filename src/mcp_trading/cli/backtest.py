"""`mcp-trading backtest STRATEGY ...` and `mcp-trading backtests list|show|compare|delete`.

Offline, like `mcp-trading data`: the verbs open the configured history store (read only),
the strategy registry (built-ins, MCP_TRADING_STRATEGY_DIR, entry points) and the backtest
store (the platform's database) themselves, so they work while the platform is stopped. A
run goes through the same request parser and engine as `POST :8090/backtests`, so it refuses
the same input with the same message. Exit codes: 0 done; 1 refused (the reason on stderr);
2 wrong usage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError

if TYPE_CHECKING:
    from mcp_trading.backtest.result import BacktestResult
    from mcp_trading.backtest.store import BacktestStore

__all__ = ["backtest", "backtests_app", "compare", "delete", "list_", "register", "show",
           "strategies"]

backtests_app = typer.Typer(help="Stored backtests: list, show, compare, delete.",
                            no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Html = Annotated[Path | None, typer.Option("--html", show_default=False,
                                           help="Also write the HTML report to this file.")]


def register(app: typer.Typer) -> None:
    app.command()(backtest)
    app.add_typer(backtests_app, name="backtests")


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


@contextmanager
def _results(settings: Settings) -> Iterator[BacktestStore]:
    from mcp_trading.services.strategies.service import open_backtest_store

    try:
        store = open_backtest_store(settings, migrate=True)
    except TradingError as exc:
        raise _fail(f"cannot open the backtest store: {exc.message}") from None
    try:
        yield store
    finally:
        getattr(store, "close", lambda: None)()


def _params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise _fail(f"--param {pair!r}: write it as name=value, e.g. --param fast=10", code=2)
        params[name.strip()] = value.strip()
    return params


def _run(settings: Settings, body: dict[str, Any], *, show: bool) -> BacktestResult:
    from mcp_trading.adapters.history.factory import open_history_store
    from mcp_trading.backtest.engine import run_backtest
    from mcp_trading.services.strategies.requests import parse_request
    from mcp_trading.strategy.loader import load_registry

    registry = load_registry(settings.strategy_dir)
    for problem in registry.problems:
        errors.print(f"[yellow]strategy not loaded:[/yellow] {escape(problem.source)}: "
                     f"{escape(problem.error)}", highlight=False, soft_wrap=True)
    request = parse_request(body, registry)
    history = open_history_store(settings.resolved_history_url)
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[bars]}"), TimeRemainingColumn(), console=errors,
                   transient=True, disable=not show)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total, bars=f"{done:,} of {total:,} bars")

    try:
        with bar:
            task = bar.add_task(escape(request.spec.strategy), total=None, bars="")
            return run_backtest(request.spec, history=history, registry=registry,
                                settings=settings, progress=progress)
    finally:
        history.close()


def _print_summary(result: BacktestResult) -> None:
    from mcp_trading.services.strategies.views import report_of, summary_rows_of

    table = Table("", "", title=escape(report_of(result).title), title_justify="left",
                  show_header=False)
    rules = ""
    for label, value in summary_rows_of(result):
        if label == "Fill rules":  # a paragraph: after the table, not in a cell
            rules = value
            continue
        table.add_row(escape(label), escape(value))
    console.print(table)
    if rules:
        console.print(f"fill rules: {escape(rules)}", highlight=False, soft_wrap=True)
    for note in result.metrics.notes:
        console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    for warning in result.warnings:
        errors.print(f"[yellow]warning:[/yellow] {escape(str(warning))}", highlight=False,
                     soft_wrap=True)


def _write_html(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"--html {path}: cannot write it ({exc.strerror})") from None
    errors.print(f"report written to {escape(str(path))}", highlight=False)


def backtest(
    strategy: Annotated[str, typer.Argument(help="A strategy name (`mcp-trading backtests "
                                                 "strategies` lists them).")],
    *,
    symbols: Annotated[str, typer.Option("--symbols", help="Comma-separated, e.g. AAPL,MSFT.")],
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last day, YYYY-MM-DD.")],
    timeframe: Annotated[str, typer.Option("--timeframe", help="1Min ... 1Day.")] = "1Day",
    param: Annotated[list[str] | None, typer.Option(
        "--param", show_default=False, help="A strategy parameter, name=value (repeat it).")] = None,
    cash: Annotated[str, typer.Option("--cash", help="Starting cash.")] = "100000",
    source: Annotated[str | None, typer.Option("--source", show_default=False,
                                               help="The stored source to read.")] = None,
    limits: Annotated[str, typer.Option("--limits", help="none (the venue's rules only) or "
                                                         "live (the account's live limits).")] = "none",
    as_json: AsJson = False,
    html: Html = None,
    data_dir: DataDir = None,
) -> None:
    """Backtest a strategy on stored history, store the result and print its summary."""
    settings = _settings(data_dir)
    body: dict[str, Any] = {"strategy": strategy, "symbols": symbols, "start": start,
                            "end": end, "timeframe": timeframe, "params": _params(param or []),
                            "cash": cash, "source": source, "limits": limits}
    try:
        result = _run(settings, body, show=not as_json)
        with _results(settings) as store:
            store.save(result)
    except TradingError as exc:
        raise _fail(exc.message) from None
    if html is not None:
        from mcp_trading.services.strategies.views import run_html

        _write_html(html, run_html(result))
    if as_json:
        print(json.dumps({"id": result.id, "summary": result.summary()}, default=str))
        return
    _print_summary(result)
    console.print(f"stored as {result.id} (mcp-trading backtests show {result.id})",
                  highlight=False)


@backtests_app.command()
def strategies(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """The strategies a backtest may run, with their parameters (and any that failed to load)."""
    from mcp_trading.strategy.loader import load_registry

    registry = load_registry(_settings(data_dir).strategy_dir)
    if as_json:
        print(json.dumps({"strategies": registry.describe(), "problems": [
            {"source": p.source, "error": p.error} for p in registry.problems]}, default=str))
        return
    table = Table("strategy", "parameters", "summary")
    for item in registry.describe():
        props: dict[str, Any] = item["params"]["properties"]  # type: ignore[index]
        params = ", ".join(f"{k}={v['default']}" for k, v in props.items())
        table.add_row(escape(str(item["name"])), escape(params), escape(str(item["summary"])))
    console.print(table)
    for problem in registry.problems:
        errors.print(f"[yellow]not loaded:[/yellow] {escape(problem.source)}: "
                     f"{escape(problem.error)}", highlight=False, soft_wrap=True)


@backtests_app.command("list")
def list_(limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
          offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
          as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Stored backtests, newest first."""
    from mcp_trading.services.strategies.service import plain_row

    with _results(_settings(data_dir)) as store:
        rows = [plain_row(r) for r in store.list(limit=limit, offset=offset)]
    if as_json:
        print(json.dumps(rows, default=str))
        return
    if not rows:
        console.print("no stored backtests (run one: mcp-trading backtest sma_crossover "
                      "--symbols AAPL --start 2010-01-01 --end 2012-12-31)")
        return
    table = Table("id", "strategy", "symbols", "period", "return", "trades")
    table.columns[0].no_wrap = True  # the whole id: `backtests show ID` needs it
    for row in rows:
        ret = row.get("total_return")
        table.add_row(escape(str(row["id"])), escape(str(row.get("strategy", ""))),
                      escape(_cell(row.get("symbols"))),
                      f"{row.get('start', '')}..{row.get('end', '')}",
                      "n/a" if ret is None else f"{ret * 100:.2f} %", str(row.get("trades", "")))
    console.print(table)


def _cell(value: object) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _get(store: BacktestStore, backtest_id: str) -> BacktestResult:
    try:
        return store.get(backtest_id)
    except TradingError as exc:
        raise _fail(exc.message) from None


@backtests_app.command()
def show(backtest_id: Annotated[str, typer.Argument(help="A backtest id.")], *,
         as_json: AsJson = False, html: Html = None, data_dir: DataDir = None) -> None:
    """One stored backtest: its summary and metrics (and, with --html, its report)."""
    from mcp_trading.services.strategies.views import backtest_view, run_html

    with _results(_settings(data_dir)) as store:
        result = _get(store, backtest_id)
    if html is not None:
        _write_html(html, run_html(result))
    if as_json:
        print(json.dumps(backtest_view(result), default=str))
    else:
        _print_summary(result)


@backtests_app.command()
def compare(backtest_ids: Annotated[list[str], typer.Argument(help="2 to 10 backtest ids.")], *,
            as_json: AsJson = False, html: Html = None, data_dir: DataDir = None) -> None:
    """Several stored backtests side by side."""
    from mcp_trading.analytics.run import METRIC_ROWS, format_metric
    from mcp_trading.services.strategies.views import MAX_COMPARE, compare_html, compare_view

    if not 2 <= len(backtest_ids) <= MAX_COMPARE:
        raise _fail(f"name 2 to {MAX_COMPARE} backtest ids", code=2)
    with _results(_settings(data_dir)) as store:
        results = [_get(store, i) for i in backtest_ids]
    if html is not None:
        _write_html(html, compare_html(results))
    if as_json:
        print(json.dumps(compare_view(results), default=str))
        return
    table = Table("metric", *(escape(r.id[:12]) for r in results))
    table.add_row("strategy", *(escape(r.spec.strategy) for r in results))
    for name, label, kind in METRIC_ROWS:
        table.add_row(escape(label), *(format_metric(getattr(r.metrics, name), kind)
                                       for r in results))
    console.print(table)


@backtests_app.command()
def delete(backtest_id: Annotated[str, typer.Argument(help="A backtest id.")], *,
           data_dir: DataDir = None) -> None:
    """Delete a stored backtest."""
    with _results(_settings(data_dir)) as store:
        try:
            store.delete(backtest_id)
        except TradingError as exc:
            raise _fail(exc.message) from None
    console.print(f"deleted {escape(backtest_id)}", highlight=False)
