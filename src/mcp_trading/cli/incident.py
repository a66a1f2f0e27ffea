"""`mcp-trading incident …`: the runbook's Security Incident Response.

    incident breach --reason … [--keys ID,ID]   halt, revoke keys, rotate the JWT key,
                                                collect evidence, alert (dataops/incident.py)
    incident collect [--since 1h]               the evidence tarball alone (dataops/evidence.py)

Other verbs join the group through `EXTENSIONS`: a module named there defines
`add_commands(group: typer.Typer)`, called once when the CLI is built.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mcp_trading.cli.ops import _base_urls, _get_health, _running
from mcp_trading.config import Settings
from mcp_trading.platform.filemodes import secure_data_dir

__all__ = ["EXTENSIONS", "breach", "collect", "incident_app", "register"]

incident_app = typer.Typer(help="Incidents: respond to a suspected breach, collect evidence, "
                                "write the post-incident report.", no_args_is_help=True)
#: modules adding verbs to `incident` (each defines add_commands(group)); e.g. `incident report`
EXTENSIONS: tuple[str, ...] = ("mcp_trading.cli.incident_report",)

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Key = Annotated[str | None, typer.Option(
    "--key", envvar="MCP_TRADING_API_KEY", show_default=False,
    help="Operator API key for the halt (or MCP_TRADING_API_KEY); the dev profile's loopback "
         "trust needs none. It is revoked with the others.")]
Since = Annotated[str, typer.Option("--since", help="How far back: 90s, 30m, 1h, 2d.")]


def register(app: typer.Typer) -> None:
    """Mount `incident` on `app`, with the verbs of every module in EXTENSIONS."""
    for name in EXTENSIONS:
        importlib.import_module(name).add_commands(incident_app)
    app.add_typer(incident_app, name="incident")


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _status_and_health(settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """What `status --json` and `health --check-all` read: the PID record and each
    service's /health answer (in this process: no CLI started twice)."""
    from mcp_trading.services import registry

    record = _running(settings)
    urls = _base_urls(settings, record)
    bodies = {name: _get_health(urls[name]) if record else {"status": "down",
                                                            "error": "not running"}
              for name in registry.names()}
    status = {"running": record is not None, "pid_record": record,
              "services": [{"service": name, "url": url, "port": int(url.rsplit(":", 1)[1]),
                            "status": bodies[name].get("status")} for name, url in urls.items()]}
    return status, {"services": bodies}


def _collect(settings: Settings, since_s: float) -> tuple[Path, dict[str, Any]]:
    from mcp_trading.dataops.evidence import collect_evidence

    status, health = _status_and_health(settings)
    return collect_evidence(settings, since_s=since_s, status=status, health=health,
                            progress=lambda part: err.print(f"collecting {part}…"))


def _halt(settings: Settings, key: str | None, reason: str) -> str:
    """Halt with every working order cancelled: over the API when the platform runs, in the
    journal when it does not (it then starts halted)."""
    record = _running(settings)
    if record is None:
        from mcp_trading.dataops.recovery import halt_offline

        done = halt_offline(settings, reason, cancel_working=True, actor="operator:incident")
        return (f"platform not running: halted in the journal ({done['was']} -> "
                f"{done['trading_status']}, {done['canceled_count']} working orders "
                "cancelled); it starts halted")
    url = _base_urls(settings, record)["trading-engine"] + "/emergency/halt"
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.post(url, json={"reason": reason}, headers=headers, timeout=15.0)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"the trading engine at {url} did not answer ({type(exc).__name__}); "
                           "halt it with `mcp-trading halt --cancel-pending`") from None
    body = response.json() if response.content else {}
    if response.status_code >= 400:
        hint = " (give an operator key: --key or MCP_TRADING_API_KEY)" \
            if response.status_code in (401, 403) else ""
        raise RuntimeError(f"halt refused: {response.status_code} {body.get('code', '')}: "
                           f"{body.get('message', '')}{hint}")
    return (f"halted over the API: trading_status {body.get('trading_status')}, "
            f"{body.get('canceled_count', 0)} working orders cancelled")


def _report(outcomes: list[Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"ok": all(o.ok for o in outcomes),
                          "steps": [o.view() for o in outcomes]}))
        return
    table = Table("step", "outcome", "detail")
    for o in outcomes:
        table.add_row(o.step, "[green]ok[/green]" if o.ok else "[red]FAILED[/red]",
                      escape(o.detail))
    console.print(table)


@incident_app.command("breach")
def breach(
    *,
    reason: Annotated[str, typer.Option("--reason", help="What was seen (emergency log, alert).")],
    keys: Annotated[str | None, typer.Option(
        "--keys", help="Revoke only these key ids (comma-separated); default: every key.")
    ] = None,
    since: Since = "24h",
    key: Key = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Respond to a suspected breach: halt (cancel working orders), revoke API keys, rotate the
    JWT key with no grace, collect evidence, alert. Every step runs and is recorded in
    emergency.log; exit 1 when any failed. Regain access with `mcp-trading keys create`."""
    from mcp_trading.dataops import incident
    from mcp_trading.dataops.evidence import parse_since
    from mcp_trading.platform.alert_center import EmergencyLog

    if not reason.strip():
        err.print("[red]error:[/red] --reason must say what was seen")
        raise typer.Exit(2)
    try:
        since_s = parse_since(since)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    ids = None if keys is None else [k.strip() for k in keys.split(",") if k.strip()]
    if ids == []:
        err.print("[red]error:[/red] --keys names no key id; omit it to revoke every key")
        raise typer.Exit(2)
    settings = _settings(data_dir)
    secure_data_dir(settings)
    why = f"security breach: {reason.strip()}"
    evidence: list[str] = []

    def collect_step() -> str:
        path, manifest = _collect(settings, since_s)
        evidence.append(str(path))
        missing = manifest["not_collected"]
        return f"{path}" + (f" (not collected: {'; '.join(missing)})" if missing else "")

    steps = [("halt", lambda: _halt(settings, key, why)),
             ("revoke-keys", lambda: incident.revoke_keys(settings, ids)),
             ("rotate-jwt", lambda: incident.rotate_jwt_now(settings)),
             ("collect-evidence", collect_step)]
    log = EmergencyLog(settings.resolved_log_dir / "emergency.log")
    outcomes = incident.run_steps(steps, log, actor="operator:incident", reason=why,
                                  progress=lambda s: err.print(f"step {s}…"))
    outcomes += incident.run_steps(
        [("alert", lambda: incident.send_alert(settings, reason.strip(), outcomes))], log,
        actor="operator:incident", reason=why)
    _report(outcomes, as_json)
    if not as_json:
        for path in evidence:
            print(f"evidence: {path}")
        console.print("regain access on this host: `mcp-trading keys create --role admin "
                      "--all-accounts`; resume with `mcp-trading resume` once it is safe")
    if not all(o.ok for o in outcomes):
        raise typer.Exit(1)


@incident_app.command("collect")
def collect(since: Since = "1h", as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Collect evidence into one tarball (mode 0600) and print its path: logs, emergency log,
    status, health, settings (secrets masked), connections on the platform's ports, the
    journal's recent events."""
    from mcp_trading.dataops.evidence import parse_since

    try:
        since_s = parse_since(since)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    settings = _settings(data_dir)
    secure_data_dir(settings)
    path, manifest = _collect(settings, since_s)
    if as_json:
        print(json.dumps({"path": str(path), **manifest}))
        return
    for problem in manifest["not_collected"]:
        err.print(f"[yellow]not collected[/yellow]: {escape(problem)}")
    print(path)
