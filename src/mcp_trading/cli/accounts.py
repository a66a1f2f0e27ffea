"""`mcp-trading accounts …`: open accounts and list them.

The kernel is the only writer of accounts (an `AccountOpened` journal event), so `create`
goes through it either way:

- a running platform: `POST /accounts` on trading-engine (an operator credential: `--key` /
  MCP_TRADING_API_KEY, or the dev profile's loopback trust), journaled before it answers;
- no platform running: this process recovers the kernel from the journal, opens the account
  with the same validation, waits until the event is durable and closes, exactly as the
  platform would have (it finds the account on its next start). It refuses while a platform
  runs, so there is never a second writer; the journal's unique sequence numbers would make a
  racing second writer fail rather than interleave.

`list` reads the journal (the latest snapshot plus what follows), running platform or not,
like `keys list` reads the key table: access to the data directory is the credential. Over
the network the same list is `GET /accounts` and the MCP tool `list_accounts`.

Exit codes: 0 done, 1 refused or failed, 2 bad usage, 3 the account id is already taken.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcp_trading.config import Settings
from mcp_trading.platform.filemodes import secure_data_dir

if TYPE_CHECKING:
    from mcp_trading.domain.accounts import Account

__all__ = ["EXIT_EXISTS", "accounts_app", "create", "journaled_accounts", "list_accounts"]

accounts_app = typer.Typer(help="Accounts: open one (journaled by the kernel), list them.",
                           no_args_is_help=True)
console = Console()
errors = Console(stderr=True)
EXIT_EXISTS = 3

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Key = Annotated[str | None, typer.Option("--key", envvar="MCP_TRADING_API_KEY",
                                         help="Operator API key for a running platform (or "
                                              "MCP_TRADING_API_KEY).", show_default=False)]


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def journaled_accounts(settings: Settings) -> dict[str, Account]:
    """Every account the journal holds (read only; safe beside a running platform).

    The configured default account counts even before the first start: the kernel opens it
    on recovery, so a key can be bound to it on a fresh data directory.
    """
    from mcp_trading.adapters.feeds.universe import default_instruments
    from mcp_trading.adapters.store import open_store, upgrade
    from mcp_trading.domain.accounts import Account
    from mcp_trading.kernel.runtime import load_state

    secure_data_dir(settings)
    url = settings.resolved_database_url
    upgrade(url)
    store = open_store(url)
    try:
        state, _ = load_state(store, default_instruments(), settings.kernel_config())
    finally:
        store.close()
    accounts = dict(state.accounts)
    if settings.default_account not in accounts:
        accounts[settings.default_account] = Account(settings.default_account,
                                                     settings.default_cash)
    return accounts


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


def _create_online(settings: Settings, record: dict[str, Any], key: str | None,
                   account_id: str, cash: str) -> dict[str, Any]:
    import httpx

    from mcp_trading.cli.ops import _base_urls

    url = _base_urls(settings, record)["trading-engine"] + "/accounts"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.post(url, json={"account_id": account_id, "cash": cash},
                              headers=headers, timeout=15.0)
    except httpx.HTTPError as exc:
        raise _fail(f"the platform did not answer at {url} ({type(exc).__name__})") from None
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {}
    if response.status_code == 409:
        raise _fail(str(body.get("message")), EXIT_EXISTS)
    if response.status_code >= 400:
        raise _fail(f"{response.status_code} {body.get('code', '')}: {body.get('message')}")
    return body


def _create_offline(settings: Settings, account_id: str, cash: str) -> dict[str, Any]:
    from mcp_trading.adapters.calendars import calendar_by_name
    from mcp_trading.adapters.feeds.universe import default_instruments
    from mcp_trading.adapters.store import open_store, upgrade
    from mcp_trading.clocks import WallClock
    from mcp_trading.domain.errors import ConflictError, InvalidError
    from mcp_trading.kernel.runtime import recover
    from mcp_trading.services.trading_engine.accounts import check_new_account
    from mcp_trading.services.views import account_view

    secure_data_dir(settings)
    url = settings.resolved_database_url
    upgrade(url)
    runtime = recover(open_store(url), instruments=default_instruments(), clock=WallClock(),
                      calendar=calendar_by_name(settings.calendar),
                      config=settings.kernel_config(), snapshot_every=0)
    try:
        kernel = runtime.kernel
        try:
            valid_id, valid_cash = check_new_account(kernel, account_id, cash)
        except (InvalidError, ConflictError) as exc:
            raise _fail(exc.message, EXIT_EXISTS if isinstance(exc, ConflictError) else 1) from None
        account = kernel.open_account(valid_id, valid_cash)
        runtime.journal.flush()  # raises if the event could not be stored: nothing is claimed
        return account_view(account)
    finally:
        runtime.close()


@accounts_app.command("create")
def create(
    account_id: Annotated[str, typer.Argument(metavar="ID", help="1-32 letters, digits, '-' or "
                                                                 "'_', e.g. swing-1.")],
    *,
    cash: Annotated[str, typer.Option("--cash", help="Starting cash in USD: > 0, at most "
                                                     "1e12, in cents (e.g. 250000).")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    key: Key = None,
) -> None:
    """Open an account with starting cash (through the running platform, or offline)."""
    from mcp_trading.cli.ops import _running
    from mcp_trading.domain.errors import InvalidError
    from mcp_trading.services.trading_engine.accounts import parse_account_id, parse_cash

    try:  # the same checks the kernel's service runs, before reaching for anything
        parse_account_id(account_id)
        parse_cash(cash)
    except InvalidError as exc:
        raise _fail(exc.message, 2) from None
    settings = _settings(data_dir)
    record = _running(settings)
    if record is not None:
        view, how = _create_online(settings, record, key, account_id, cash), "via the platform"
    else:
        view, how = _create_offline(settings, account_id, cash), "offline, in the journal"
    if as_json:
        print(json.dumps(view))
        return
    console.print(f"opened account [bold]{escape(view['id'])}[/bold] with cash "
                  f"{escape(str(view['cash']))} ({how})")


@accounts_app.command("list")
def list_accounts(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """List the accounts the journal holds (internal ones, such as _selftest, are left out)."""
    from mcp_trading.services.views import account_view

    accounts = [a for a in journaled_accounts(_settings(data_dir)).values() if not a.internal]
    views = [account_view(a) for a in sorted(accounts, key=lambda a: a.id)]
    if as_json:
        print(json.dumps(views))
        return
    table = Table("account", "cash", "equity", "open orders", "state")
    for view in views:
        table.add_row(escape(view["id"]), str(view["cash"]), str(view["equity"]),
                      str(view["open_orders"]), str(view["trading_state"]))
    console.print(table)
