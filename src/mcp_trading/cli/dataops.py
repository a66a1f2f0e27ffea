"""`mcp-trading archive` and `mcp-trading verify`: archival and the integrity checks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError

__all__ = ["archive", "register", "verify"]

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _before_ns(text: str) -> int:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]--before {text!r}[/red]: not a date; give YYYY-MM-DD (UTC midnight), "
                  "e.g. --before 2025-01-01")
        raise typer.Exit(2) from None
    if day > datetime.now(UTC).date():
        err.print(f"[red]--before {text}[/red] is in the future; archival moves the past only")
        raise typer.Exit(2)
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000_000


def archive(*, before: Annotated[str, typer.Option("--before", help="Move what is older than this "
                                                "date (YYYY-MM-DD, UTC).")],
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would move."
                                                  )] = False,
            include_history: Annotated[list[str] | None, typer.Option(
                "--include-history", help="Also archive this symbol's imported history "
                                          "(repeatable; history stays otherwise).")] = None,
            batch: Annotated[int, typer.Option("--batch", min=1, help="Rows per transaction."
                                               )] = 5_000,
            as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Move old closed orders, fills, feed-built bars, alerts and journal to the archive."""
    from mcp_trading.dataops.archive import archive as run

    settings = _settings(data_dir)
    before_ns = _before_ns(before)

    def progress(what: str, count: int) -> None:
        if not as_json:
            err.print(f"  {what}: {count}", end="\r")

    try:
        report = run(settings, before_ns, dry_run=dry_run, history_symbols=include_history,
                     batch=batch, segment_records=min(50_000, batch * 10), progress=progress)
    except TradingError as exc:
        err.print(f"[red]archive refused[/red] ({exc.code}): {exc.message}")
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:  # a store away or not created: nothing half-moved
        err.print(f"[red]archive stopped[/red]: the store answered {type(exc).__name__}: "
                  f"{str(exc).splitlines()[0][:300]}; nothing is half-moved, run it again")
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({"before": before, **report.as_dict()}))
        return
    verb = "would move" if dry_run else "moved"
    table = Table("table", f"rows {verb}", title=f"archive before {before}"
                  + (" (dry run: nothing changed)" if dry_run else ""))
    for name, count in report.rows.items():
        table.add_row(name, str(count))
    console.print(table)
    j = report.journal
    if dry_run:
        span = (f"records after seq {j['archived_upto']} up to seq {j['target']} "
                f"({j['records']} records)" if j["target"] > j["archived_upto"] else "nothing")
        console.print(f"journal {verb}: {span}; {j['why']}")
    else:
        console.print(f"journal: archived up to seq {j['archived_upto']} ({j['records']} records "
                      f"now, {len(j['segments'])} new segments in {settings.data_dir / 'archive'})"
                      f"; {j['why']}")


def verify(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Check the stores: journal contiguity (hot + archived segments, checksums), projections
    equal to a replay, positions equal to their fills, cash reconciled. Exit 1 on a failure."""
    from mcp_trading.dataops.archive import archive_dir
    from mcp_trading.dataops.integrity import Locations
    from mcp_trading.dataops.integrity import verify as run
    from mcp_trading.dataops.swap import finish_swap

    s = _settings(data_dir)
    finish_swap(s)
    where = Locations(s.resolved_database_url, s.resolved_reports_url, archive_dir(s),
                      s.kernel_config().slippage)
    results = run(where)
    failed = [r.name for r in results if not r.ok]
    if as_json:
        print(json.dumps({"ok": not failed, "failed": failed,
                          "checks": [r.as_dict() for r in results]}))
    else:
        table = Table("check", "result", "detail")
        for r in results:
            table.add_row(r.name, "[green]ok[/green]" if r.ok else "[red]FAILED[/red]", r.detail)
        console.print(table)
        console.print("[green]integrity verified[/green]" if not failed
                      else f"[red]integrity check failed:[/red] {', '.join(failed)}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("archive")(archive)
    app.command("verify")(verify)
