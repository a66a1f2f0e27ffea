"""`mcp-trading db maintain`: WAL checkpoint, integrity check, ANALYZE and VACUUM when worth it
(SQLite), VACUUM (ANALYZE) of the platform's tables (PostgreSQL) — dataops/maintain.py.

Exit 0 when every store passed, 1 when a step failed (an integrity problem, a store that
cannot be reached), 2 for bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError

__all__ = ["maintain", "register"]

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _detail(step: dict[str, object]) -> str:
    skip = {"step", "ok", "seconds"}
    return ", ".join(f"{k}={v}" for k, v in step.items() if k not in skip)


def maintain(vacuum: Annotated[str, typer.Option(
                 "--vacuum", help="auto (when >= 20 % of pages are free), always or never; "
                                  "skipped while the platform runs")] = "auto",
             as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """WAL checkpoint, integrity check, ANALYZE and VACUUM when worth it, on every store."""
    from mcp_trading.cli.ops import _running
    from mcp_trading.dataops.maintain import maintain as run
    from mcp_trading.dataops.swap import finish_swap

    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    try:
        finish_swap(settings)
        results = run(settings, vacuum=vacuum, platform_running=_running(settings) is not None,
                      progress=None if as_json else lambda what: err.print(f"maintaining {what}…"))
    except TradingError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    failed = [r.store for r in results if not r.ok]
    if as_json:
        print(json.dumps({"ok": not failed, "failed": failed,
                          "stores": [r.to_dict() for r in results]}))
    else:
        table = Table("store", "step", "result", "s", "detail")
        for r in results:
            for step in r.steps:
                table.add_row(r.store, str(step["step"]),
                              "[green]ok[/green]" if step["ok"] else "[red]FAILED[/red]",
                              str(step.get("seconds", "")), _detail(step))
        console.print(table)
        console.print("[green]database maintenance completed[/green]" if not failed
                      else f"[red]database maintenance failed:[/red] {', '.join(failed)}")
    if failed:
        raise typer.Exit(1)


def register(db_app: typer.Typer) -> None:
    db_app.command("maintain")(maintain)
