"""`mcp-trading certs check|renew|backup` (wrapped by scripts/manage_certificates.sh).

Exit codes: check 0 valid beyond MCP_TRADING_TLS_CHECK_DAYS, 1 expiring within them (or
expired); renew 0 renewed and served by every running service, 1 renewal failed or a service
still presents the old certificate; 2 bad input (no certificate configured).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from mcp_trading.cli.ops import AsJson, DataDir, _base_urls, _host_port, _running, _settings
from mcp_trading.domain.errors import TradingError
from mcp_trading.security.cert_ops import backup_certificates, configured, renew, wait_served
from mcp_trading.security.certs import describe

__all__ = ["certs_app", "check", "register", "renew_command", "save"]

console = Console()
err = Console(stderr=True)
certs_app = typer.Typer(help="The services' TLS certificate: check, renew, back up.",
                        no_args_is_help=True)


def _fail(exc: TradingError, code: int = 2) -> typer.Exit:
    err.print(f"[red]error[/red]: {exc}")
    return typer.Exit(code)


@certs_app.command("check")
def check(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Subject, issuer and Not After of the configured certificate; exit 1 within
    MCP_TRADING_TLS_CHECK_DAYS (default 7) of expiry."""
    settings = _settings(data_dir)
    try:
        info = describe(configured(settings)[0])
    except TradingError as exc:
        raise _fail(exc) from None
    expiring = info.days_left() <= settings.tls_check_days
    if as_json:
        console.print_json(json.dumps({**info.as_dict(), "expiring": expiring}))
    else:
        console.print(f"Subject:   {info.subject}\nIssuer:    {info.issuer}\n"
                      f"Not After: {info.not_after:%b %d %H:%M:%S %Y} GMT\n"
                      f"Serial:    {info.serial:x}\nDays left: {info.days_left():.1f}")
        if expiring:
            err.print(f"[red]expiring[/red]: within {settings.tls_check_days:g} days; run "
                      "`mcp-trading certs renew`")
    raise typer.Exit(1 if expiring else 0)


@certs_app.command("renew")
def renew_command(
        days: Annotated[float, typer.Option("--days", min=1, help="Validity of a dev "
                                            "certificate.")] = 90,
        timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for "
                                               "every service to present it.")] = 30,
        as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Renew (MCP_TRADING_TLS_RENEW_COMMAND, or in dev a new certificate from the dev CA),
    then wait until every running service presents it (no restart)."""
    settings = _settings(data_dir)
    try:
        info = renew(settings, days=days)
    except TradingError as exc:
        raise _fail(exc, 2 if isinstance(exc, ValueError) else 1) from None
    err.print(f"renewed: serial {info.serial:x}, Not After {info.not_after:%Y-%m-%d %H:%M} UTC")
    record = _running(settings)
    pending: list[str] = []
    if record is not None:
        ports = {name: _host_port(url) for name, url in _base_urls(settings, record).items()}
        pending = wait_served(ports, info.serial, timeout,
                              on_wait=lambda p: err.print(f"waiting for {', '.join(p)}"))
    if as_json:
        console.print_json(json.dumps({**info.as_dict(), "running": record is not None,
                                       "not_reloaded": pending}))
    elif record is None:
        console.print("platform not running: it serves the new certificate when it starts")
    elif not pending:
        console.print("every service presents the new certificate")
    if pending:
        err.print(f"[red]not reloaded[/red]: {', '.join(pending)} still present the old "
                  "certificate; send the process SIGHUP or restart it")
        raise typer.Exit(1)


@certs_app.command("backup")
def save(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """A dated tar.gz of the certificate, key (and CA) under <data dir>/backups/certs."""
    settings = _settings(data_dir)
    try:
        path = backup_certificates(settings)
    except TradingError as exc:
        raise _fail(exc) from None
    console.print_json(json.dumps({"archive": str(path)})) if as_json else console.print(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(certs_app, name="certs")
