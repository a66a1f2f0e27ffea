"""`mcp-trading portfolio …`: the equity history.

- `snapshot [--account ID] [--json]`: a running platform journals a "manual" equity snapshot
  of every customer account (or one) now: `POST :8013/portfolio/equity/snapshot`, with an
  operator credential (`--key` / MCP_TRADING_API_KEY, or the dev profile's loopback trust).
  The kernel is the only writer, so there is no offline form: with no platform running it
  says so and exits 2.
- `equity [--account ID] [--since DATE|7d] [--json]`: the end-of-day series (per account and
  day the close snapshot, else the last manual one), read from the journal, running platform
  or not (access to the data directory is the credential, as for `accounts list`).

Exit codes: 0 done, 1 refused or failed, 2 not running / bad usage.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcp_trading.cli.ops import _base_urls, _running
from mcp_trading.config import Settings
from mcp_trading.domain.errors import InvalidError

__all__ = ["equity", "portfolio_app", "snapshot"]

portfolio_app = typer.Typer(help="Portfolio: equity snapshots and the equity history.",
                            no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Key = Annotated[str | None, typer.Option("--key", envvar="MCP_TRADING_API_KEY",
                                         help="Operator API key for a running platform (or "
                                              "MCP_TRADING_API_KEY).", show_default=False)]
AccountOpt = Annotated[str | None, typer.Option("--account", help="One account (default: every "
                                                "customer account).", show_default=False)]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for column in ("account", "day", "reason", "equity", "cash", "positions", "at"):
        table.add_column(column, justify="right" if column in ("equity", "cash") else "left")
    for r in rows:
        table.add_row(escape(r["account_id"]), r["day"], r["reason"], r["equity"], r["cash"],
                      str(len(r["positions"])), r["ts"] or "")
    return table


@portfolio_app.command()
def snapshot(account: AccountOpt = None, as_json: AsJson = False, data_dir: DataDir = None,
             key: Key = None) -> None:
    """Journal an equity snapshot now (a running platform; operator)."""
    settings = _settings(data_dir)
    record = _running(settings)
    if record is None:
        errors.print("[red]the platform is not running[/red] (no live PID file in "
                     f"{settings.data_dir}); the kernel takes snapshots: `mcp-trading start` "
                     "first")
        raise typer.Exit(2)
    url = _base_urls(settings, record)["portfolio"] + "/portfolio/equity/snapshot"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    payload = {"account_id": account} if account is not None else {}
    try:
        response = httpx.post(url, json=payload, headers=headers, timeout=15.0)
    except httpx.HTTPError as exc:
        errors.print(f"[red]request failed[/red]: {type(exc).__name__} ({url})")
        raise typer.Exit(1) from None
    body: dict[str, Any] = response.json() if response.content else {}
    if response.status_code >= 400:
        errors.print(f"[red]{response.status_code} {escape(str(body.get('code', '')))}[/red]: "
                     f"{escape(str(body.get('message')))}")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(body, indent=2))
        return
    console.print(_table(body["snapshots"], f"{body['count']} equity snapshot(s) journaled"))


@portfolio_app.command()
def equity(account: AccountOpt = None,
           since: Annotated[str | None, typer.Option(help="A date (YYYY-MM-DD), an ISO time or "
                                                     "a duration (7d, 12h).")] = None,
           as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """The end-of-day equity series from the journal (offline too)."""
    from mcp_trading.kernel.equity_commands import new_york_day
    from mcp_trading.reports.equity_source import last_per_day, read_equity_snapshots
    from mcp_trading.services.portfolio.equity import parse_since, snapshot_view

    settings = _settings(data_dir)
    try:
        since_ns = parse_since(since, now_ns=time.time_ns())
        snaps = last_per_day(read_equity_snapshots(settings, account_id=account))
    except InvalidError as exc:
        errors.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    first = new_york_day(since_ns) if since_ns is not None else ""
    rows = [snapshot_view(s) for s in snaps if s.day >= first]
    if as_json:
        print(json.dumps({"points": rows}, indent=2))
        return
    console.print(_table(rows, "end-of-day equity (close snapshot, else the last manual one)"))
