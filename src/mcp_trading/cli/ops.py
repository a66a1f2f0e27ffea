"""Operating verbs: start, stop, status, health, halt, resume (typer + rich).

Every verb finds the running platform through its PID file in the data directory (never by a
process-name pattern) and talks to it over its REST ports.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import psutil
import typer
from rich.console import Console
from rich.table import Table

from mcp_trading.cli.display import item_list
from mcp_trading.config import Settings
from mcp_trading.services import registry

__all__ = ["halt", "health", "print_instances", "register", "resume", "running_instances", "start",
           "status", "stop"]

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./var or "
                                                                  "MCP_TRADING_DATA_DIR).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Key = Annotated[str | None, typer.Option("--key", envvar="MCP_TRADING_API_KEY",
                                         help="API key (or MCP_TRADING_API_KEY).", show_default=False)]
_STATUS_EXIT = {"healthy": 0, "degraded": 1, "down": 2}


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


def _running(settings: Settings) -> dict[str, Any] | None:
    """The running platform: the PID file's record if that exact process still runs (PID reuse
    is detected), else a live distributed supervisor's (with each service's URL)."""
    from mcp_trading.cli.distributed import live_record

    distributed = live_record(settings)
    if distributed is not None:
        return distributed
    try:
        record: dict[str, Any] = json.loads(settings.pid_file.read_text())
        proc = psutil.Process(int(record["pid"]))
        if abs(proc.create_time() - float(record["create_time"])) > 0.01 or not proc.is_running():
            return None
    except (FileNotFoundError, ValueError, KeyError, psutil.Error):
        return None
    return record


def _base_urls(settings: Settings, record: dict[str, Any] | None) -> dict[str, str]:
    if record is not None and "urls" in record:  # distributed: services may be anywhere
        urls: dict[str, str] = record["urls"]
        return urls
    host = (record or {}).get("host") or settings.bind_host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    names = registry.names()
    ports = (record or {}).get("ports") or {s: settings.port(s) for s in names}
    scheme = "https" if settings.tls_cert is not None else "http"
    return {s: f"{scheme}://{host}:{ports.get(s) or settings.port(s)}" for s in names}


def _host_port(url: str) -> tuple[str, int]:
    host, _, port = url.split("://", 1)[-1].rstrip("/").rpartition(":")
    return host, int(port)


def _get_health(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(f"{url}/health", timeout=2.0)
        body: dict[str, Any] = response.json()
        if response.status_code != 200:
            body.setdefault("status", "down")
        return body
    except (httpx.HTTPError, ValueError) as exc:
        return {"status": "down", "error": type(exc).__name__}


def print_instances(instances: list[dict[str, Any]]) -> None:
    for i in instances:  # one line per running live strategy instance
        console.print(f"instance {i['id']}: {i['strategy']} on {i['account']} "
                      f"[{','.join(i['symbols'])}] {i['timeframe']}, {i['runner']}, "
                      f"{i['bars']} bars")


def running_instances(urls: dict[str, str]) -> list[dict[str, Any]]:
    """The running live strategy instances (GET :8090/strategies/instances; the dev profile's
    loopback trust answers it, elsewhere it needs a key: then none are listed)."""
    url = urls.get("strategies")
    if url is None:
        return []
    try:
        response = httpx.get(f"{url}/strategies/instances", params={"status": "running"},
                             timeout=2.0)
        rows: list[dict[str, Any]] = response.json().get("instances", []) \
            if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return rows


def register(app: typer.Typer) -> None:
    """Add the operating verbs to `app`, in the order `--help` lists them."""
    for verb in (start, stop, status, health, halt, resume):
        app.command()(verb)


def start(detach: Annotated[bool, typer.Option("--detach", help="Return once every service "
                                               "answers healthy; write a PID file.")] = False,
          distributed: Annotated[bool, typer.Option(
              "--distributed", help="One process per service over PostgreSQL "
                                    "(DATABASE_URL) and Redis (REDIS_URL), supervised "
                                    "(also: MCP_TRADING_DEPLOYMENT=distributed).")] = False,
          data_dir: DataDir = None,
          timeout: Annotated[float, typer.Option(help="--detach: seconds to wait")] = 30.0,
          ) -> None:
    """Start every service: in one process (embedded: SQLite, in-memory bus, simulator) or
    one process each (--distributed)."""
    from mcp_trading.dataops.swap import finish_swap

    settings = _settings(data_dir)
    if _running(settings) is None and finish_swap(settings) is not None:
        console.print("[yellow]finished an interrupted restore[/yellow] (its swap plan) "
                      "before starting")
    if distributed or settings.deployment == "distributed":
        from mcp_trading.cli.distributed import start_distributed

        start_distributed(settings, detach=detach, timeout=timeout)
        return
    if (record := _running(settings)) is not None:
        err.print(f"[yellow]already running[/yellow] (pid {record['pid']}); "
                  "`mcp-trading stop` first")
        raise typer.Exit(1)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if detach:
        _start_detached(settings, timeout)
        return
    from mcp_trading.platform.logs import configure_logging
    from mcp_trading.processes.runner import PortInUseError, run_embedded

    configure_logging(settings)

    def ready(ports: dict[str, int]) -> None:
        console.print(item_list("[green]platform up[/green]:", (
            f"{name} :{port}" for name, port in ports.items()), "(Ctrl-C stops)"))

    try:
        run_embedded(settings, on_ready=ready)
    except PortInUseError as exc:
        err.print(f"[red]cannot start[/red]: {exc}")
        raise typer.Exit(1) from None
    except ValueError as exc:  # insecure production settings and the like
        err.print(f"[red]cannot start[/red]: {exc}")
        raise typer.Exit(1) from None


def stop(data_dir: DataDir = None,
         timeout: Annotated[float, typer.Option(help="Seconds to wait for a clean exit")] = 30.0,
         ) -> None:
    """Stop gracefully: refuse new orders, flush the journal, stop the services."""
    settings = _settings(data_dir)
    from mcp_trading.cli.distributed import stop_distributed

    if stop_distributed(settings, timeout):
        return
    record = _running(settings)
    if record is None:
        console.print("not running")
        return
    proc = psutil.Process(int(record["pid"]))
    proc.send_signal(signal.SIGTERM)
    if not _wait_exit(proc, timeout):
        err.print(f"[red]pid {proc.pid} did not stop within {timeout} s[/red]; it is still "
                  "flushing or stuck — check the log before killing it")
        raise typer.Exit(1)
    console.print(f"[green]stopped[/green] (pid {record['pid']})")


def status(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Each service: up/down, port, pid, uptime."""
    settings = _settings(data_dir)
    from mcp_trading.cli.distributed import status_distributed

    if status_distributed(settings, as_json=as_json):
        return
    record = _running(settings)
    rows = []
    for service, url in _base_urls(settings, record).items():
        health = _get_health(url) if record else {"status": "down"}
        rows.append({"service": service, "port": int(url.rsplit(":", 1)[1]),
                     "up": health.get("status") != "down" or "uptime_s" in health,
                     "status": health.get("status"), "pid": record["pid"] if record else None,
                     "uptime_s": health.get("uptime_s")})
    instances = running_instances(_base_urls(settings, record)) if record else []
    if as_json:
        print(json.dumps({"running": record is not None, "services": rows,
                          "instances": instances}))
        return
    table = Table("service", "port", "up", "status", "pid", "uptime (s)")
    for r in rows:
        table.add_row(str(r["service"]), str(r["port"]), "yes" if r["up"] else "no",
                      str(r["status"]), str(r["pid"] or "-"), str(r["uptime_s"] or "-"))
    console.print(table)
    print_instances(instances)
    if record is None:
        raise typer.Exit(2)


def health(check_all: Annotated[bool, typer.Option("--check-all",
                                                   help="Every service and dependency")] = False,
           data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Check services and dependencies; exit 0 healthy, 1 degraded, 2 down."""
    settings = _settings(data_dir)
    record = _running(settings)
    checks: list[dict[str, Any]] = []
    bodies: dict[str, dict[str, Any]] = {}
    urls = _base_urls(settings, record)
    for service in registry.names() if check_all else ("trading-engine",):
        body = _get_health(urls[service]) if record else {"status": "down",
                                                          "error": "not running"}
        bodies[service] = body
        checks.append({"check": f"service:{service}", "status": body.get("status", "down"),
                       "detail": _detail(service, body)})
    if check_all:
        engine = bodies.get("trading-engine", {})
        journal = engine.get("journal") or {}
        checks.append({"check": "store", "status": "healthy" if journal.get("ok") else "down",
                       "detail": f"journal durable seq {journal.get('durable_seq')}"})
        feed = bodies.get("market-data", {}).get("market_data_status", "down")
        checks.append({"check": "feed", "status": {"streaming": "healthy", "stale": "degraded"}
                       .get(feed, "down"), "detail": feed})
        bus = engine.get("bus")
        if bus is None:
            checks.append({"check": "bus", "status": "healthy" if record else "down",
                           "detail": "in-memory (embedded)"})
        else:
            checks.append({"check": "bus", "status": "healthy" if bus.get("ok") else "down",
                           "detail": "redis" + ("" if bus.get("ok") else
                                                f": {bus.get('error')}")})
        free = shutil.disk_usage(settings.data_dir if settings.data_dir.exists() else ".")
        free_mb = free.free // (1024 * 1024)
        checks.append({"check": "disk", "status": "healthy" if free_mb >= settings
                       .min_free_disk_mb else "degraded", "detail": f"{free_mb} MB free"})
        from mcp_trading.dataops.age import backup_check  # never down: at worst degraded

        backup = backup_check(settings.resolved_backup_dir, settings.backup_max_age_hours)
        checks.append({k: backup[k] for k in ("check", "status", "detail")})
        from mcp_trading.security.cert_health import certificate_check

        cert = certificate_check(settings, _host_port(urls["trading-engine"]) if record else None)
        checks.extend([] if cert is None else [cert])
    overall = max((c["status"] for c in checks), key=lambda s: _STATUS_EXIT.get(s, 2))
    overall = overall if overall in _STATUS_EXIT else "down"
    if as_json:
        print(json.dumps({"status": overall, "checks": checks}))
    else:
        table = Table("check", "status", "detail")
        for c in checks:
            colour = {"healthy": "green", "degraded": "yellow"}.get(c["status"], "red")
            table.add_row(c["check"], f"[{colour}]{c['status']}[/{colour}]", c["detail"])
        console.print(table)
        console.print(f"overall: {overall}")
    raise typer.Exit(_STATUS_EXIT[overall])


def halt(reason: Annotated[str, typer.Option(help="Why (recorded in the emergency log)")], *,
         cancel_pending: Annotated[bool, typer.Option("--cancel-pending",
                                   help="Also cancel every working order, atomically")] = False,
         close_positions: Annotated[bool, typer.Option("--close-positions",
                                    help="Also flatten every position")] = False,
         offline: Annotated[bool, typer.Option("--offline", help="The platform is stopped: "
                            "journal a halt of new orders, so it starts halted")] = False,
         data_dir: DataDir = None, key: Key = None) -> None:
    """Halt trading (new orders refused; with --cancel-pending working orders cancelled)."""
    if offline:
        _halt_offline(_settings(data_dir), reason)
        return
    path = "/emergency/halt" if cancel_pending else "/emergency/halt-new-orders"
    body = _post(data_dir, key, path, {"reason": reason})
    console.print(f"trading_status: [red]{body.get('trading_status')}[/red]; canceled "
                  f"{body.get('canceled_count', 0)} orders")
    if close_positions:
        closed = _post(data_dir, key, "/emergency/close-all-positions", {"reason": reason})
        console.print(f"closing orders: {len(closed.get('results', []))}")


def _halt_offline(settings: Settings, reason: str) -> None:
    from mcp_trading.dataops.recovery import halt_offline

    if _running(settings) is not None:
        err.print("[red]the platform is running[/red]: halt it online (without --offline)")
        raise typer.Exit(1)
    body = halt_offline(settings, reason)
    console.print(f"trading_status: [red]{body['trading_status']}[/red] (was {body['was']}); "
                  "it stays so until `mcp-trading resume`")


def resume(reason: Annotated[str, typer.Option(help="Why (recorded in the emergency log)")],
           force: Annotated[bool, typer.Option("--force", help="Admin: resume despite "
                                               "failing health checks")] = False,
           data_dir: DataDir = None, key: Key = None) -> None:
    """Resume trading; refused unless the comprehensive health check passes."""
    body = _post(data_dir, key, "/emergency/resume-trading", {"reason": reason, "force": force})
    if body.get("status") == "already_active":
        console.print("trading was already active: nothing changed, nothing recorded")
    console.print(f"trading_status: [green]{body.get('trading_status')}[/green]")



def _wait_exit(proc: psutil.Process, timeout: float) -> bool:
    """True once the process has exited (a zombie awaiting its parent counts as exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _detail(service: str, body: dict[str, Any]) -> str:
    for field in ("market_data_status", "trading_status", "risk_status", "error"):
        if field in body:
            return f"{field}={body[field]}"
    return ""


def _post(data_dir: Path | None, key: str | None, path: str, payload: dict[str, Any]
          ) -> dict[str, Any]:
    settings = _settings(data_dir)
    record = _running(settings)
    if record is None:
        err.print("[red]the platform is not running[/red] (no live PID file in "
                  f"{settings.data_dir}); `mcp-trading start` first")
        raise typer.Exit(2)
    url = _base_urls(settings, record)["trading-engine"] + path
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.post(url, json=payload, headers=headers, timeout=15.0)
    except httpx.HTTPError as exc:
        err.print(f"[red]request failed[/red]: {type(exc).__name__}")
        raise typer.Exit(2) from None
    body: dict[str, Any] = response.json() if response.content else {}
    if response.status_code >= 400:
        err.print(f"[red]{response.status_code} {body.get('code', '')}[/red]: {body.get('message')}")
        for check in body.get("failing_checks", []):
            err.print(f"  failing: {check}")
        raise typer.Exit(1)
    return body


def _start_detached(settings: Settings, timeout: float) -> None:
    log_dir = settings.resolved_log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    out = (log_dir / "platform.out").open("ab")
    cmd = [sys.executable, "-m", "mcp_trading", "start", "--data-dir", str(settings.data_dir)]
    child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=os.environ.copy())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            err.print(f"[red]the platform exited during start-up[/red] (code {child.returncode});"
                      f" see {log_dir / 'platform.out'}")
            raise typer.Exit(1)
        record = _running(settings)
        if record is not None and record["pid"] == child.pid:
            urls = _base_urls(settings, record)
            states = {s: _get_health(u).get("status") for s, u in urls.items()}
            if all(v == "healthy" for v in states.values()):
                console.print(item_list(f"[green]platform up[/green] (pid {child.pid}):", (
                    f"{s} :{u.rsplit(':', 1)[1]}" for s, u in urls.items())))
                return
        time.sleep(0.1)
    err.print(f"[red]not all services healthy after {timeout} s[/red]; see "
              f"{log_dir / 'platform.out'}")
    raise typer.Exit(1)
