"""`mcp-trading report trading --date YYYY-MM-DD [--json] [--html [FILE]]`, `mcp-trading
report risk [--date YYYY-MM-DD] [--json] [--html [FILE]]` and `mcp-trading report performance
[--date D] [--since DATE|7d] [--account ID] [--benchmark SYM] [--json] [--html [FILE]]`: the
end-of-day reports, offline (read from the store; the platform may be running or stopped).
The risk and performance reports' date defaults to today (New York); the trading report's is
required.

Every run writes `<data dir>/reports/<date>/<name>.{json,html,txt}` and stores the report in
the database (served by `GET :8013/portfolio/reports`). The terminal shows the rich tables,
or with `--json` the JSON document; `--html` alone prints the HTML file's path, `--html FILE`
also writes the page to FILE. Exit 0 on success, 2 for a bad date (malformed or future) or
--since, 1 when the store cannot be read or the --account does not exist.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError

if TYPE_CHECKING:
    from mcp_trading.reports.store import Report

__all__ = ["performance", "register", "report_app", "risk", "schema", "trading"]

report_app = typer.Typer(help="End-of-day reports (text, --json, --html).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

_OWN = "-"  # --html without a FILE: the report's own path under the data directory
#: the options that take a value, as --html may swallow them: option -> key in `opts`
_VALUED = {"--date": "day", "--data-dir": "data_dir", "--since": "since", "--account": "account",
           "--benchmark": "benchmark"}


def _unswallow(ctx: typer.Context, html: str | None, opts: dict[str, object]) -> str | None:
    """Click gives `--html --json` the value "--json": put such an option back."""
    if html is None or not html.startswith("-"):
        if ctx.args:
            err.print(f"[red]unexpected argument(s)[/red]: {' '.join(ctx.args)}")
            raise typer.Exit(2)
        return html
    extra = list(ctx.args)
    if html == "--json":
        opts["as_json"] = True
    elif html in _VALUED and extra:
        opts[_VALUED[html]] = extra.pop(0)
    else:
        err.print(f"[red]--html[/red]: {html} is not a file name; put FILE after --html")
        raise typer.Exit(2)
    if extra:
        err.print(f"[red]unexpected argument(s)[/red]: {' '.join(extra)}")
        raise typer.Exit(2)
    return _OWN


DayOpt = Annotated[str | None, typer.Option("--date", help="The trading day, YYYY-MM-DD "
                                            "(America/New_York), not in the future.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the JSON document.")]
HtmlOpt = Annotated[str | None, typer.Option(
    "--html", is_flag=False, flag_value=_OWN, metavar="[FILE]",
    help="Write the HTML page (to FILE, or only to the data directory) and print its path.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default "
                                                 "./var or MCP_TRADING_DATA_DIR).")]


def trading(ctx: typer.Context, day: DayOpt = None, as_json: JsonOpt = False,
            html: HtmlOpt = None, data_dir: DataDirOpt = None) -> None:
    """The daily trading report: orders, fills, P&L, slippage, rejections, halts, traders."""
    _run(ctx, "trading", {"as_json": as_json, "day": day, "data_dir": data_dir}, html)


def risk(ctx: typer.Context, day: DayOpt = None, as_json: JsonOpt = False,
         html: HtmlOpt = None, data_dir: DataDirOpt = None) -> None:
    """The daily risk report: VaR/ES, stress, limit utilisation and the day's breaches,
    concentration, exposure by symbol (positions at the day's end; --date defaults to today)."""
    _run(ctx, "risk", {"as_json": as_json, "day": day, "data_dir": data_dir}, html)


SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="Start of the metrics window and an extra return period: a date "
                    "(YYYY-MM-DD) or a duration back from --date (7d, 8w, 6m, 1y); default "
                    "inception.")]
AccountOpt = Annotated[str | None, typer.Option("--account", help="One account only (default: "
                                                "every account and the totals).")]
BenchmarkOpt = Annotated[str | None, typer.Option(
    "--benchmark", help="Symbol whose buy-and-hold to compare with (real daily history in the "
                        "bar store); default MCP_TRADING_PERFORMANCE_BENCHMARK, else SPY, "
                        "else AAPL.")]


def performance(ctx: typer.Context, *, day: DayOpt = None, since: SinceOpt = None,
                account: AccountOpt = None, benchmark: BenchmarkOpt = None,
                as_json: JsonOpt = False, html: HtmlOpt = None,
                data_dir: DataDirOpt = None) -> None:
    """The performance summary: returns for the day, month and year to date and since
    inception, the metrics, a benchmark's buy-and-hold (--date defaults to today)."""
    _run(ctx, "performance", {"as_json": as_json, "day": day, "data_dir": data_dir,
                              "since": since, "account": account, "benchmark": benchmark}, html)


def _performance_args(opts: dict[str, object], parsed: date) -> dict[str, Any]:
    """--since and --benchmark checked (exit 2 naming the option), --account as given."""
    from mcp_trading.reports.performance import parse_benchmark, parse_since

    out: dict[str, Any] = {"account": None if opts["account"] is None else str(opts["account"])}
    for name, parse in (("since", lambda t: parse_since(t, until=parsed)),
                        ("benchmark", parse_benchmark)):
        try:
            out[name] = None if opts[name] is None else parse(str(opts[name]))
        except TradingError as exc:
            err.print(f"[red]--{name}[/red]: {exc.message}")
            raise typer.Exit(2) from None
    return out


def _build(kind: str, settings: Settings, parsed: date, opts: dict[str, object]) -> Report:
    if kind == "performance":
        from mcp_trading.reports.performance import build_performance_report
        return build_performance_report(settings, parsed, **_performance_args(opts, parsed))
    if kind == "risk":
        from mcp_trading.reports.risk import build_risk_report
        return build_risk_report(settings, parsed)
    from mcp_trading.reports.daily import build_trading_report
    return build_trading_report(settings, parsed)


_TITLES = {"trading": "Daily trading report", "risk": "Daily risk report",
           "performance": "Performance summary"}


def _tables(kind: str, doc: dict[str, Any]) -> list[Any]:
    if kind == "performance":
        from mcp_trading.reports.render_performance import performance_tables
        return performance_tables(doc)
    if kind == "risk":
        from mcp_trading.reports.render_risk import risk_tables
        return risk_tables(doc)
    from mcp_trading.reports.render_trading import trading_tables
    return trading_tables(doc) if doc["activity"] else []


def _run(ctx: typer.Context, kind: str, opts: dict[str, object], html: str | None) -> None:
    from mcp_trading.reports.daily import publish
    from mcp_trading.reports.trading_source import TIMEZONE, parse_day

    html = _unswallow(ctx, html, opts)
    day = None if opts["day"] is None else str(opts["day"])
    folder = opts["data_dir"]
    settings = Settings(data_dir=Path(str(folder))) if folder is not None else Settings()
    if day is None and kind in ("risk", "performance"):
        day = datetime.now(ZoneInfo(TIMEZONE)).date().isoformat()
    if day is None:
        err.print("[red]--date[/red] is required: --date YYYY-MM-DD, e.g. --date=$(date +%F)")
        raise typer.Exit(2)
    try:
        parsed = parse_day(day)
    except TradingError as exc:
        err.print(f"[red]--date[/red]: {exc.message}")
        raise typer.Exit(2) from None
    try:
        report = _build(kind, settings, parsed, opts)
        paths = publish(settings, report,
                        html_to=Path(html) if html not in (None, _OWN) else None)
    except (TradingError, SQLAlchemyError) as exc:
        text = exc.message if isinstance(exc, TradingError) else str(exc).splitlines()[0][:300]
        err.print(f"[red]report failed[/red]: {text} (data directory {settings.data_dir})")
        raise typer.Exit(1) from None
    doc = report.document
    if opts["as_json"]:
        print(json.dumps(doc, allow_nan=False))
    elif html is not None:
        print(paths["html"])
    else:
        console.print(f"[bold]{_TITLES[kind]} {report.day}[/bold] "
                      f"({doc['timezone']}): {doc['summary']}")
        for table in _tables(kind, doc):
            console.print(table)
        for note in doc["notes"]:
            console.print(f"[yellow]note[/yellow]: {note}")
        err.print(f"written: {', '.join(str(p) for p in paths.values())}")


def schema(name: Annotated[str, typer.Argument(help="A report name, e.g. daily_trading.")]
           ) -> None:
    """Print a report's JSON schema."""
    from mcp_trading.reports.schemas import SCHEMAS

    if name not in SCHEMAS:
        err.print(f"[red]no report {name!r}[/red]; known: {', '.join(sorted(SCHEMAS))}")
        raise typer.Exit(2)
    print(json.dumps(SCHEMAS[name], indent=2))


report_app.command("trading", context_settings={
    "allow_extra_args": True, "ignore_unknown_options": False})(trading)
report_app.command("risk", context_settings={
    "allow_extra_args": True, "ignore_unknown_options": False})(risk)
report_app.command("performance", context_settings={
    "allow_extra_args": True, "ignore_unknown_options": False})(performance)
report_app.command("schema")(schema)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
