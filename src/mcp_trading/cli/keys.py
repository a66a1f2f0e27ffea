"""`mcp-trading keys …`: create, list, rotate and revoke API keys in the configured database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from mcp_trading.config import Settings
from mcp_trading.platform.filemodes import secure_data_dir
from mcp_trading.security.principal import Role

if TYPE_CHECKING:  # the security module (argon2, jwt, sqlalchemy) loads only when a verb runs
    from mcp_trading.security.keys import KeyRecord, KeyStore

__all__ = ["create", "keys_app", "list_keys", "revoke", "rotate"]

keys_app = typer.Typer(help="API keys: create (the key is shown once), list, rotate, revoke (one "
                       "or --all).",
                       no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

# Declared here rather than imported from mcp_trading.cli, which imports this module.
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _role(value: str) -> str:
    try:
        Role.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


@contextmanager
def _key_store(data_dir: Path | None) -> Iterator[KeyStore]:
    from mcp_trading.adapters.store import upgrade
    from mcp_trading.adapters.store.engine import create_store_engine
    from mcp_trading.security.keys import KeyStore

    s = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    secure_data_dir(s)
    url = s.resolved_database_url
    upgrade(url)
    engine = create_store_engine(url)
    try:
        yield KeyStore(engine, legacy_account=s.default_account)
    finally:
        engine.dispose()


def _when(ns: int | None, *, lines: int = 1) -> str:
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime(
        "%Y-%m-%d %H:%M:%SZ" if lines == 1 else "%Y-%m-%d\n%H:%M:%SZ")


def _as_dict(record: KeyRecord) -> dict[str, object]:
    return {"id": record.id, "name": record.name, "role": record.role.label,
            "account_id": record.account_id, "all_accounts": record.account_id is None,
            "legacy": record.legacy, "created_at": record.created_at,
            "revoked_at": record.revoked_at, "last_used_at": record.last_used_at,
            "confirm_orders": record.confirm_orders, "active": record.active}


@keys_app.command("create")
def create(  # keyword-only: typer passes options by name
    *,
    role: Annotated[str, typer.Option("--role", callback=_role,
                                      help="viewer, trader, operator or admin.")],
    account: Annotated[str | None, typer.Option(
        "--account", help="The one account the key acts on (it must exist: `accounts list`).")
    ] = None,
    all_accounts: Annotated[bool, typer.Option(
        "--all-accounts", help="The key acts on every account (say it explicitly, for any "
                               "role; instead of --account).")] = False,
    name: Annotated[str | None, typer.Option("--name", help="Who or what uses the key.")] = None,
    confirm_orders: Annotated[bool, typer.Option(
        "--confirm-orders/--no-confirm-orders",
        help="MCP submit_order needs a confirmation token from preview_order (default: on).")
    ] = True,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Create an API key. The key is printed once and cannot be recovered: store it now.

    Every key names its account (--account ID) or says --all-accounts.
    """
    if bool(account) == all_accounts:
        errors.print("[red]error:[/red] " + (
            "give --account ID or --all-accounts, not both" if all_accounts else
            "say which accounts the key acts on: --account ID (one account; `mcp-trading "
            "accounts list` shows them) or --all-accounts (every account)"))
        raise typer.Exit(2)
    if account is not None:
        from mcp_trading.cli.accounts import journaled_accounts

        s = Settings(data_dir=data_dir) if data_dir is not None else Settings()
        known = journaled_accounts(s)
        if account not in known or known[account].internal:
            listed = ", ".join(sorted(a for a, acc in known.items() if not acc.internal))
            errors.print(f"[red]error:[/red] no account {escape(account)!r}; existing: "
                         f"{escape(listed)}. Open it first with `mcp-trading accounts create "
                         f"{escape(account)} --cash N`")
            raise typer.Exit(1)
    with _key_store(data_dir) as keys:
        record, plaintext = keys.create(Role.parse(role), account, name,
                                        all_accounts=all_accounts, confirm_orders=confirm_orders)
    if as_json:
        print(json.dumps({"id": record.id, "key": plaintext}))
        return
    scope = f"account {escape(record.account_id)}" if record.account_id else "every account"
    policy = "" if record.confirm_orders else ", MCP orders without confirmation"
    console.print(f"created key [bold]{record.id}[/bold] ({escape(record.name)}): {record.role.label}, "
                  f"{scope}{policy}")
    print(plaintext)  # plain print: rich could wrap or style the key
    console.print("[yellow]this is the only time the key is shown; store it now[/yellow]")


@keys_app.command("list")
def list_keys(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """List API keys (ids, roles, usage; never a secret)."""
    with _key_store(data_dir) as keys:
        records = keys.list()
    if as_json:
        print(json.dumps([_as_dict(r) for r in records]))
        return
    # fits 80 columns whole: times on two lines, names and accounts wrap, nothing cut to "…"
    whole, wraps = {"no_wrap": True}, {"overflow": "fold"}
    table = Table(*(Column(h, **kind) for h, kind in (
        ("id", whole), ("name", wraps), ("role", whole), ("account", wraps), ("confirm", whole),
        ("created", whole), ("last used", whole), ("status", whole))),
        box=box.SIMPLE_HEAD, padding=(0, 0))
    for r in records:
        status = "active" if r.active else f"revoked\n{_when(r.revoked_at, lines=2)}"
        scope = r.account_id or "all"
        table.add_row(r.id, escape(r.name), r.role.label,
                      escape(f"{scope} (legacy)" if r.legacy else scope),
                      "yes" if r.confirm_orders else "no", _when(r.created_at, lines=2),
                      _when(r.last_used_at, lines=2), status)
    console.print(table)


@keys_app.command("revoke")
def revoke(  # keyword-only after the id: typer passes options by name
    key_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="The key id (`keys list`).")
                      ] = None,
    *,
    every: Annotated[bool, typer.Option(
        "--all", help="Revoke every active key (a suspected breach); with --role, that role's.")
    ] = False,
    role: Annotated[str | None, typer.Option(
        "--role", callback=lambda v: v if v is None else _role(v),
        help="With --all: only keys of this role (viewer, trader, operator, admin).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --all.")] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Revoke an API key, or every key (--all [--role R]); running servers stop accepting
    them within seconds, and their JWTs with them. Works with the platform stopped too.

    After `--all` nobody holds a key: create one on this host with `mcp-trading keys create`.
    """
    if (key_id is None) == (not every) or (role is not None and not every):
        errors.print("[red]error:[/red] give a key id (`keys revoke ID`) or --all (optionally "
                     "with --role ROLE), not both; --role goes with --all")
        raise typer.Exit(2)
    if every:
        _revoke_all(None if role is None else Role.parse(role), yes=yes, as_json=as_json,
                    data_dir=data_dir)
        return
    assert key_id is not None
    with _key_store(data_dir) as keys:
        try:
            before = keys.get(key_id)
            after = keys.revoke(key_id)
        except LookupError as exc:  # security.UnknownKeyError
            errors.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({"revoked": [after.id] if before.active else [], "count": int(before.active)}))
    elif before.active:
        console.print(f"revoked key {after.id} ({escape(after.name)})")
    else:
        console.print(f"key {after.id} ({escape(after.name)}) was already revoked at "
                      f"{_when(after.revoked_at)}")


def _revoke_all(role: Role | None, *, yes: bool, as_json: bool, data_dir: Path | None) -> None:
    which = "active keys" if role is None else f"active {role.label} keys"
    with _key_store(data_dir) as keys:
        active = [r for r in keys.list() if r.active and (role is None or r.role == role)]
        if active and not yes and not typer.confirm(
                f"revoke all {len(active)} {which}? Every client using them is locked out",
                default=False, err=True):
            errors.print("nothing revoked")
            raise typer.Exit(1)
        revoked = keys.revoke_all(role) if active else []
    if as_json:
        print(json.dumps({"revoked": [r.id for r in revoked], "count": len(revoked)}))
        return
    console.print(f"revoked {len(revoked)} {which}"
                  + (": " + ", ".join(r.id for r in revoked) if revoked else ""))
    if revoked:
        console.print("regain access on this host with `mcp-trading keys create --role admin "
                      "--all-accounts`")


def _grace(value: str) -> str:
    from mcp_trading.cli.secrets import parse_grace

    try:
        parse_grace(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


@keys_app.command("rotate")
def rotate(key_id: Annotated[str, typer.Argument(metavar="ID", help="The key id (`keys list`).")],
           grace: Annotated[str, typer.Option("--grace", callback=_grace, help="How long the "
                                              "current secret stays valid (0, 90s, 30m, 1h, "
                                              "2d).")] = "1h",
           as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Give a key a new secret (shown once); the current one works until the grace ends.

    The id, role, account and the key's JWTs stay; hand the new key to its client within the
    grace period.
    """
    from mcp_trading.cli.secrets import parse_grace
    from mcp_trading.security.rotation import iso_ns

    with _key_store(data_dir) as keys:
        try:
            record, plaintext, until = keys.rotate(key_id, parse_grace(grace))
        except (LookupError, ValueError) as exc:  # UnknownKeyError, RevokedKeyError
            errors.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(1) from None
    previous = iso_ns(until) if until is not None else None
    if as_json:
        print(json.dumps({"id": record.id, "key": plaintext, "previous_valid_until": previous}))
        return
    console.print(f"rotated key [bold]{record.id}[/bold] ({escape(record.name)}); the previous "
                  "secret " + (f"works until {previous}" if previous else "no longer works"))
    print(plaintext)  # plain print: rich could wrap or style the key
    console.print("[yellow]this is the only time the new key is shown; store it now[/yellow]")
