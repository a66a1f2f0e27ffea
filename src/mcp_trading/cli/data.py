"""`mcp-trading data import|list|export|delete|fetch`: the history bar store, offline.

The verbs open the configured history store themselves (`Settings().resolved_history_url`, or
`--history-url`), so they work while the platform is stopped. Exit codes: 0 done; 1 refused
(a file, a name, an unconfirmed delete: the reason on stderr, nothing of a refused file
stored); 2 wrong usage. `data fetch` asks the settings' provider chain (Alpha Vantage, the
files directory) for what the store lacks; exit 1 when no provider could serve.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
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
    from mcp_trading.adapters.history.contract import HistoryStore
    from mcp_trading.adapters.history.summary import ImportSummary

__all__ = ["data_app", "delete", "export", "fetch", "import_", "list_"]

data_app = typer.Typer(help="Stored market history: import files and the shipped sample, list, "
                            "export, delete.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

_PROGRESS_BYTES = 4 << 20  # files above this show a progress bar (smaller ones take < 0.1 s)

HistoryUrl = Annotated[str | None, typer.Option(
    "--history-url", show_default=False,
    help="The history store (default: the configured one, MCP_TRADING_HISTORY_URL or the "
         "SQLite file in the data directory).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Source = Annotated[str | None, typer.Option("--source", show_default=False,
                                            help="Only the bars of this source.")]
Timeframe = Annotated[str | None, typer.Option("--timeframe", show_default=False,
                                               help="1Min, 5Min, 15Min, 30Min, 1Hour or 1Day.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL (memory://): nothing secret in it
        return url


@contextmanager
def _store(url: str | None) -> Iterator[HistoryStore]:
    from mcp_trading.adapters.history.factory import open_history_store

    url = url or Settings().resolved_history_url
    try:
        store = open_history_store(url)
    except TradingError as exc:
        raise _fail(f"cannot open the history store {_redacted(url)}: {exc}") from None
    try:
        yield store
    finally:
        store.close()


def _time(ns: int, timeframe: str) -> str:
    from mcp_trading.adapters.history.summary import bar_time_text

    return bar_time_text(ns, timeframe)


def _print_summary(s: ImportSummary) -> None:
    table = Table("symbol", "bars", "first", "last", "gaps", title=escape(Path(s.file).name),
                  title_justify="left")
    for x in s.series:
        gaps = "-" if x.gaps is None else str(x.gaps)
        if x.gap_days:
            gaps += f" ({', '.join(x.gap_days)}{', …' if (x.gaps or 0) > len(x.gap_days) else ''})"
        table.add_row(x.symbol, str(x.bars), _time(x.first, s.timeframe), _time(x.last, s.timeframe), gaps)
    console.print(table)
    notes = [f"source {s.source}, {s.timeframe}: {s.bars} bars, {s.inserted} new, {s.updated} "
             f"updated, {s.unchanged} unchanged"]
    if s.duplicates:
        notes.append(f"{s.duplicates} exact duplicate rows stored once")
    if s.renamed:
        notes.append("stored under the platform's names: "
                     + ", ".join(f"{a} as {b}" for a, b in sorted(s.renamed.items())))
    if s.registered:
        notes.append("registered as history-only instruments: " + ", ".join(s.registered))
    for note in notes:
        console.print(escape(note), highlight=False, soft_wrap=True)


def _import_one(store: HistoryStore, path: Path | None, opts: dict[str, Any],
                show: bool) -> ImportSummary:
    from mcp_trading.adapters.history.importer import import_file
    from mcp_trading.adapters.history.sample import import_sample, sample_path

    target = sample_path() if path is None else path
    big = show and target.is_file() and target.stat().st_size > _PROGRESS_BYTES
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[bars]} bars"), TimeRemainingColumn(),
                   console=errors, transient=True) if big else None
    with bar if bar is not None else nullcontext():
        task = bar.add_task(escape(target.name), total=1.0, bars=0) if bar is not None else None

        def progress(p: Any) -> None:
            if bar is not None and task is not None:
                bar.update(task, completed=p.done, bars=p.bars)

        if path is None:
            return import_sample(store, progress=progress)
        return import_file(store, path, progress=progress, **opts)


@data_app.command("import")
def import_(
    paths: Annotated[list[Path] | None, typer.Argument(show_default=False,
                     help="CSV (.csv, .csv.gz) or Parquet files.")] = None,
    *,
    symbol: Annotated[str | None, typer.Option("--symbol", show_default=False,
                      help="The symbol of a one-symbol file (default: its name, AAPL.csv).")] = None,
    timeframe: Timeframe = None,
    fmt: Annotated[str | None, typer.Option("--format", show_default=False,
                   help="csv or parquet (default: by the file name).")] = None,
    source: Annotated[str | None, typer.Option("--source", show_default=False,
                      help="The source to store the bars under (default import:<file name>).")] = None,
    sample: Annotated[bool, typer.Option("--sample", help="Import the shipped sample: daily "
                      "prices of AAPL, GOOGL, IBM, META, MSFT, 2000-2013 (public domain).")] = False,
    history_url: HistoryUrl = None,
    as_json: AsJson = False,
) -> None:
    """Import files of bars (each all or nothing) and print what was stored."""
    files: list[Path | None] = [None] if sample else []
    files += list(paths or [])
    if not files:
        raise _fail("nothing to import: give one or more files, or --sample", code=2)
    if symbol is not None and len(files) > 1:
        raise _fail("--symbol names the symbol of one file; import one file at a time", code=2)
    opts = {"symbol": symbol, "timeframe": timeframe, "fmt": fmt, "source": source}
    results: list[dict[str, Any]] = []
    refused = False
    with _store(history_url) as store:
        for path in files:
            try:
                summary = _import_one(store, path, opts, show=not as_json)
            except TradingError as exc:
                refused = True
                errors.print(f"[red]refused:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True)
                results.append({"file": str(path or "sample"), "refused": exc.message})
                continue
            results.append(summary.as_dict())
            if not as_json:
                _print_summary(summary)
    if as_json:
        print(json.dumps(results))
    if refused:
        raise typer.Exit(1)


@data_app.command("list")
def list_(history_url: HistoryUrl = None, as_json: AsJson = False) -> None:
    """The stored series: symbol, source, timeframe, first and last bar, bars."""
    with _store(history_url) as store:
        series = store.series()
    rows = [{"symbol": s.symbol, "source": s.source, "timeframe": s.timeframe,
             "first": _time(s.first, s.timeframe), "last": _time(s.last, s.timeframe),
             "bars": s.bars} for s in series]
    if as_json:
        print(json.dumps(rows))
        return
    if not rows:
        console.print("no stored history (try `mcp-trading data import --sample`)")
        return
    table = Table("symbol", "source", "timeframe", "first", "last", "bars")
    for r in rows:
        table.add_row(*(escape(str(v)) for v in r.values()))
    console.print(table)


@data_app.command("export")
def export(
    symbol: Annotated[str, typer.Argument(help="The symbol whose bars to write.")],
    *,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    source: Source = None,
    timeframe: Timeframe = None,
    out: Annotated[Path | None, typer.Option("--out", show_default=False,
                   help="The file to write (default SYMBOL.csv or SYMBOL.parquet here).")] = None,
    history_url: HistoryUrl = None,
    as_json: AsJson = False,
) -> None:
    """Write one stored series to a file an import reads back."""
    from mcp_trading.adapters.history.export import export_series

    with _store(history_url) as store:
        try:
            result = export_series(store, symbol.upper(), fmt=fmt, out=out, source=source,
                                   timeframe=timeframe)
        except TradingError as exc:
            raise _fail(exc.message) from None
    s = result.series
    if as_json:
        print(json.dumps({"file": str(result.path), "symbol": s.symbol, "source": s.source,
                          "timeframe": s.timeframe, "bars": s.bars}))
        return
    console.print(f"wrote {s.bars} bars of {escape(s.symbol)} ({escape(s.source)}, {s.timeframe}) "
                  f"to {escape(str(result.path))}", highlight=False, soft_wrap=True)


@data_app.command("delete")
def delete(
    symbol: Annotated[str, typer.Argument(help="The symbol whose stored bars to delete.")],
    *,
    source: Source = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    history_url: HistoryUrl = None,
    as_json: AsJson = False,
) -> None:
    """Delete a symbol's stored bars (of one source, or all of them)."""
    symbol = symbol.upper()
    with _store(history_url) as store:
        series = [s for s in store.series(symbol) if source is None or s.source == source]
        if not series:
            raise _fail(f"no stored history for {symbol}"
                        + (f" from source {source!r}" if source else "")
                        + "; `mcp-trading data list` shows what is stored")
        bars = sum(s.bars for s in series)
        what = f"{bars} bars of {symbol} ({', '.join(sorted({s.source for s in series}))})"
        if not yes and not _confirmed(f"Delete {what}?"):
            raise _fail("nothing deleted (not confirmed; pass --yes to skip the question)")
        deleted = store.delete(symbol, source)
    if as_json:
        print(json.dumps({"symbol": symbol, "source": source, "deleted": deleted}))
        return
    console.print(f"deleted {deleted} bars of {escape(symbol)}", highlight=False)


@data_app.command("fetch")
def fetch(
    symbol: Annotated[str, typer.Argument(help="The symbol whose history to fetch.")],
    *,
    timeframe: Annotated[str, typer.Option("--timeframe",
                         help="1Min, 5Min, 15Min, 30Min, 1Hour or 1Day.")] = "1Day",
    start: Annotated[str | None, typer.Option("--start", show_default=False,
                     help="YYYY-MM-DD or RFC 3339 (default: all the provider offers).")] = None,
    end: Annotated[str | None, typer.Option("--end", show_default=False,
                   help="YYYY-MM-DD or RFC 3339 (default: now).")] = None,
    history_url: HistoryUrl = None,
    as_json: AsJson = False,
) -> None:
    """Fetch what the store lacks of a range from the provider chain, and store it."""
    import asyncio

    from mcp_trading.services.providers.fetch import fetch_offline, parse_fetch

    settings = Settings()
    try:
        request = parse_fetch(symbol, timeframe=timeframe, start=start, end=end)
    except TradingError as exc:
        raise _fail(exc.message, code=2) from None
    with _store(history_url or settings.resolved_history_url) as store:
        try:
            reply = asyncio.run(fetch_offline(settings, store, request))
        except TradingError as exc:
            raise _fail(exc.message) from None
    if as_json:
        print(json.dumps(reply))
        return
    _print_fetch(reply)


def _print_fetch(reply: dict[str, Any]) -> None:
    for f in reply.get("files_scanned", ()):
        what = f"refused: {f['refused']}" if "refused" in f else f"imported {f['imported']} bars"
        console.print(f"{escape(Path(f['file']).name)}: {escape(what)}", highlight=False,
                      soft_wrap=True)
    table = Table("provider", "served", "fetched", "stored", "why not")
    for p in reply["providers"]:
        stored = p["stored"]
        table.add_row(escape(p["name"]), "yes" if p["served"] else "no", str(p["fetched"]),
                      "-" if stored is None else f"{stored['bars']} ({stored['first'][:10]} to "
                      f"{stored['last'][:10]})", escape(p["reason"] or ""))
    console.print(table)
    done = "from the store, nothing fetched" if reply["from_store"] else \
        f"{reply['fetched']} bars fetched and stored"
    console.print(f"{escape(reply['symbol'])} {reply['timeframe']}: {reply['bars']} bars in the "
                  f"range, served by {escape(reply['served_by'])} ({done})"
                  + ("" if reply["complete"] else "; INCOMPLETE: every provider failed"),
                  highlight=False, soft_wrap=True)


def _confirmed(question: str) -> bool:
    """Ask on stderr (so --json keeps stdout parseable); no answer (EOF, Ctrl-C) is a no."""
    try:
        return typer.confirm(question, err=True)
    except typer.Abort:
        errors.print()
        return False
