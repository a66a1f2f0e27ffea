"""The `mcp-trading` command line (typer + rich): every verb, from this package's modules."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table

from mcp_trading import __version__
from mcp_trading.cli.accounts import accounts_app
from mcp_trading.cli.backtest import register as register_backtest
from mcp_trading.cli.backup import register as register_backup
from mcp_trading.cli.cache import cache_app
from mcp_trading.cli.certs import register as register_certs
from mcp_trading.cli.data import data_app
from mcp_trading.cli.dataops import register as register_dataops
from mcp_trading.cli.db_maintain import register as register_db_maintain
from mcp_trading.cli.display import plain_flags
from mcp_trading.cli.distributed import register as register_distributed
from mcp_trading.cli.incident import register as register_incident
from mcp_trading.cli.keys import keys_app
from mcp_trading.cli.logs import register as register_logs
from mcp_trading.cli.memory import memory_app
from mcp_trading.cli.monitor import register as register_monitor
from mcp_trading.cli.ops import register as register_ops
from mcp_trading.cli.optimize import register as register_optimize
from mcp_trading.cli.portfolio import portfolio_app
from mcp_trading.cli.report import register as register_report
from mcp_trading.cli.secrets import secrets_app
from mcp_trading.cli.sweep import register as register_sweep
from mcp_trading.config import Settings
from mcp_trading.platform.filemodes import restrict_umask, secure_data_dir
from mcp_trading.security.tls import trust_platform_ca

__all__ = ["app", "db_upgrade", "journal_info", "journal_project", "main", "mcp", "serve", "settings",
           "version"]

plain_flags()
app = typer.Typer(help="MCP Trading Platform: operate the platform from one command.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema (Alembic migrations) and maintenance.",
                    no_args_is_help=True)
journal_app = typer.Typer(help="The kernel's event journal.", no_args_is_help=True)


@app.callback()
def _private_files() -> None:
    # first in every verb: the files it or its children create (keys, logs, PID) are private
    restrict_umask()
    # and its HTTPS clients (and its children's curl) trust MCP_TRADING_TLS_CA
    with contextlib.suppress(ValueError):  # bad settings: the verb itself says what is wrong
        trust_platform_ca(Settings())


app.add_typer(db_app, name="db")
app.add_typer(journal_app, name="journal")
app.add_typer(keys_app, name="keys")
app.add_typer(secrets_app, name="secrets")
app.add_typer(accounts_app, name="accounts")
app.add_typer(cache_app, name="cache")
app.add_typer(data_app, name="data")
app.add_typer(portfolio_app, name="portfolio")
app.add_typer(memory_app, name="memory")
register_ops(app)
register_backtest(app)
register_distributed(app)
register_sweep(app)
register_dataops(app)
register_db_maintain(db_app)
register_monitor(app)
register_backup(app)
register_optimize(app)
register_report(app)
register_incident(app)
register_logs(app)
register_certs(app)
console = Console()

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _redact(url: str) -> str:
    """Never print a password that may sit in a database URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def version() -> None:
    """Print the platform version."""
    console.print(f"mcp-trading {__version__}")


@app.command()
def settings(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Show the effective settings and where each comes from (no secrets)."""
    s = _settings(data_dir)
    from mcp_trading.adapters.bus.connection import redact_url

    # any URL may carry a password (the admin URLs, history_url, service_urls): never shown
    values = {name: redact_url(str(getattr(s, name))) for name in type(s).model_fields}
    values["database_url"] = _redact(s.resolved_database_url)
    values["redis_url"] = _redact(s.redis_url) if s.redis_url else "None"
    values["jwt_secret"] = "***"
    if as_json:
        print(json.dumps(values))
        return
    fields = type(s).model_fields
    # at 80 columns the names stay whole and long values wrap (rich's min_width over-widens)
    table = Table(Column("setting", no_wrap=True), Column("value", overflow="fold"),
                  Column("meaning", overflow="fold"))
    for name, field in fields.items():
        table.add_row(name, values[name], field.description or "")
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply the schema migrations to the configured database."""
    from mcp_trading.adapters.store import upgrade

    s = _settings(data_dir)
    secure_data_dir(s)
    upgrade(s.resolved_database_url)
    console.print(f"[green]schema up to date[/green] at {_redact(s.resolved_database_url)}")


@journal_app.command("info")
def journal_info(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Recover the kernel from the journal (read only) and summarise it."""
    from mcp_trading.adapters.feeds.universe import default_instruments
    from mcp_trading.adapters.store import open_store, upgrade
    from mcp_trading.kernel import codec
    from mcp_trading.kernel.snapshot import load
    from mcp_trading.kernel.state import KernelState

    s = _settings(data_dir)
    secure_data_dir(s)
    url = s.resolved_database_url
    upgrade(url)
    store = open_store(url)
    try:
        snap = store.latest_snapshot()
        cfg = s.kernel_config()
        state = load(snap, default_instruments(), cfg.slippage) if snap else KernelState(
            default_instruments(), cfg.slippage)
        replayed = 0
        for seq, event in codec.events(store.read(after_seq=state.seq), state.seq):
            state.apply(seq, event)
            replayed += 1
    finally:
        store.close()
    accounts = {
        a.id: {"cash": str(a.cash), "equity": str(a.equity),
               "positions": str(len([p for p in a.positions.values() if p.qty])),
               "open_orders": str(len(a.open_orders)), "trading_state": a.state.value}
        for a in state.accounts.values()
    }
    info: dict[str, object] = {
        "database": _redact(url),
        "last_seq": state.seq,
        "snapshot_seq": snap.seq if snap else None,
        "replayed_events": replayed,
        "platform_state": state.platform_state.value,
        "orders": len(state.orders),
        "accounts": accounts,
    }
    if as_json:
        print(json.dumps(info))
        return
    console.print(f"journal at {info['database']}: last seq {state.seq}, "
                  f"{replayed} events replayed after snapshot {info['snapshot_seq']}")
    table = Table("account", "cash", "equity", "positions", "open orders", "state")
    for account_id, a in accounts.items():
        table.add_row(account_id, a["cash"], a["equity"], str(a["positions"]), str(a["open_orders"]),
                      a["trading_state"])
    console.print(table)


@journal_app.command("project")
def journal_project(data_dir: DataDir = None) -> None:
    """Bring the accounts/orders/fills/positions tables up to date with the journal."""
    from mcp_trading.adapters.store import Projector, open_store, upgrade

    s = _settings(data_dir)
    url, reports = s.resolved_database_url, s.resolved_reports_url
    upgrade(url)
    upgrade(reports)
    source = open_store(url) if reports != url else None
    projector = Projector(reports, source=source)
    try:
        applied = projector.catch_up()
        console.print(f"projected {applied} journal records into {_redact(reports)}; "
                      f"checkpoint at seq {projector.checkpoint()}")
    finally:
        projector.close()
        if source is not None:
            source.close()


@app.command("mcp")
def mcp(embedded: Annotated[bool, typer.Option(
            "--embedded", help="Run the platform in this process instead of forwarding to "
                               "the running one's services.")] = False,
        data_dir: DataDir = None) -> None:
    """Serve every service's MCP tools on stdio for one caller (key: MCP_TRADING_API_KEY)."""
    from mcp_trading.faces.mcp.stdio import run  # the SDK loads only for this verb

    run(embedded, data_dir)


@app.command("serve")
def serve(service: Annotated[str, typer.Argument(help="market-data, providers, trading-engine, "
                                                      "orders, risk, portfolio or alerts.")],
          data_dir: DataDir = None) -> None:
    """Run one service in the foreground (distributed mode: PostgreSQL + Redis)."""
    from mcp_trading.platform.logs import configure_logging
    from mcp_trading.processes.runner import PortInUseError
    from mcp_trading.processes.serve import ServeError, run_service

    settings = _settings(data_dir)
    secure_data_dir(settings)
    configure_logging(settings, name=service)
    try:
        run_service(settings, service)
    except (ServeError, PortInUseError) as exc:
        Console(stderr=True).print(f"[red]cannot serve {service}[/red]: {exc}")
        raise typer.Exit(1) from None


def main() -> None:  # pragma: no cover - console script entry
    app()
