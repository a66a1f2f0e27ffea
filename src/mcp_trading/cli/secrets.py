"""`mcp-trading secrets rotate [--jwt] [--database] [--redis] [--all] [--grace 1h] [--json]`.

Each rotation rewrites the secrets file (`MCP_TRADING_SECRETS_FILE`, default
`<data_dir>/secrets.json`, mode 0600, by rename); running processes re-read it, nothing
restarts. The output says what rotated and when, never a secret. Exit codes: 0 every asked
rotation done; 1 one failed (the message says what is in force; the others still ran);
2 bad input.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError
from mcp_trading.platform.filemodes import secure_data_dir

__all__ = ["parse_grace", "rotate", "secrets_app"]

secrets_app = typer.Typer(help="The secrets file: rotate the JWT key, database and Redis "
                               "passwords without a restart.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_GRACE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_grace(text: str) -> float:
    """`90`, `90s`, `30m`, `1h`, `2d` -> seconds; ValueError naming the accepted forms."""
    match = _GRACE.match(text.lower())
    if match is None:
        raise ValueError(f"--grace {text!r} is not a duration; use e.g. 0, 90s, 30m, 1h or 2d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _grace(value: str) -> str:
    try:
        parse_grace(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def _run(settings: Settings, what: str, grace_s: float) -> dict[str, Any]:
    if what == "jwt":
        from mcp_trading.security.rotation import rotate_jwt

        return rotate_jwt(settings, grace_s=grace_s)
    if what == "database":
        from mcp_trading.security.db_rotation import rotate_database

        return rotate_database(settings)
    from mcp_trading.security.redis_rotation import rotate_redis

    return rotate_redis(settings)


def _chosen(settings: Settings, *, jwt: bool, database: bool, redis: bool,
            everything: bool) -> list[str]:
    if not (jwt or database or redis or everything):
        errors.print("[red]error:[/red] say what to rotate: --jwt, --database, --redis or --all")
        raise typer.Exit(2)
    if not everything:
        return [name for name, on in (("jwt", jwt), ("database", database), ("redis", redis))
                if on]
    chosen = ["jwt"]  # --all: what this deployment has
    if (settings.database_url or "").startswith(("postgresql", "postgres:")):
        chosen.append("database")
    if (settings.redis_url or "").startswith(("redis://", "rediss://")):
        chosen.append("redis")
    return chosen


def _say(report: dict[str, Any]) -> None:
    what = report["secret"]
    if not report.get("rotated"):
        errors.print(f"[red]✗ {what}:[/red] {escape(str(report.get('error')))}")
    elif what == "jwt":
        until = ", ".join(f"{p['kid']} until {p['valid_until']}" for p in report["previous"])
        console.print(f"✓ jwt: signing key {report['kid']} since {report['rotated_at']}; "
                      f"previous keys verify: {until or 'none'}")
    elif what == "database":
        old = report["previous_login"]
        state = "disabled" if report["previous_disabled"] else "left as it is"
        console.print(f"✓ database: login {report['login']} since {report['rotated_at']}; "
                      f"previous login {old} {state} "
                      f"({report['previous_sessions_open']} sessions still open)")
    else:
        console.print(f"✓ redis: user {report['user']} has a new password since "
                      f"{report['rotated_at']}; ACL change saved to {report['saved']}")


@secrets_app.command("rotate")
def rotate(  # keyword-only: typer passes options by name
    *,
    jwt: Annotated[bool, typer.Option("--jwt", help="A new JWT signing key (new kid).")] = False,
    database: Annotated[bool, typer.Option("--database", help="A new PostgreSQL password "
                                           "(the idle one of the two login roles).")] = False,
    redis: Annotated[bool, typer.Option("--redis", help="A new Redis ACL password.")] = False,
    everything: Annotated[bool, typer.Option("--all", help="Every secret this deployment has "
                                             "(JWT; database and Redis when configured).")] = False,
    grace: Annotated[str, typer.Option("--grace", callback=_grace, help="How long tokens of the "
                                       "previous JWT keys stay valid (0, 90s, 30m, 1h, 2d).")
                     ] = "1h",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Rotate secrets without a restart: running processes re-read the secrets file."""
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    secure_data_dir(settings)
    grace_s = parse_grace(grace)
    reports = []
    for what in _chosen(settings, jwt=jwt, database=database, redis=redis,
                        everything=everything):
        if what != "jwt" and not as_json:  # these wait for every process to switch: say so
            errors.print(f"rotating the {what} login (waits {settings.rotation_settle_s:g} s "
                         "for every process to switch)…")
        try:
            reports.append(_run(settings, what, grace_s))
        except (TradingError, ValueError) as exc:  # messages name no secret
            reports.append({"secret": what, "rotated": False, "error": str(exc)})
    if as_json:
        print(json.dumps({"secrets_file": str(settings.resolved_secrets_file),
                          "rotations": reports}))
    else:
        for report in reports:
            _say(report)
    if not all(r["rotated"] for r in reports):
        raise typer.Exit(1)
