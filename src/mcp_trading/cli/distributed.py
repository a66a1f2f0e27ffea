"""The CLI's distributed-mode verbs: start --distributed, stop, status, restart SERVICE.

The supervisor's state file (`<data dir>/distributed.json`) is how these find the running
processes: by PID and process start time, never by a name pattern.
"""

from __future__ import annotations

import json
import os
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

__all__ = ["live_record", "register", "start_distributed", "status_distributed",
           "stop_distributed"]

console = Console()
err = Console(stderr=True)
STOP_GRACE_S = 60.0  # a timed-out --detach start: how long the supervisor gets to stop


def _state(settings: Settings) -> dict[str, Any] | None:
    from mcp_trading.processes.launcher import state_path
    from mcp_trading.processes.supervisor import read_state

    try:
        return read_state(state_path(settings))
    except ValueError:
        return None


def _live_state(settings: Settings) -> dict[str, Any] | None:
    state = _state(settings)
    return state if state is not None and state["supervisor"].get("alive") else None


def live_record(settings: Settings) -> dict[str, Any] | None:
    """A running distributed platform as the other verbs see a PID file record: the
    supervisor's pid and every service's base URL; None when none runs here."""
    state = _live_state(settings)
    if state is None:
        return None
    return {"pid": state["supervisor"]["pid"], "deployment": "distributed",
            "urls": {r["name"]: r["health_url"].removesuffix("/health")
                     for r in state["services"]}}


def start_distributed(settings: Settings, *, detach: bool, timeout: float) -> None:
    from mcp_trading.platform.logs import configure_logging
    from mcp_trading.processes.launcher import LaunchError, preflight, run

    if _live_state(settings) is not None:
        err.print("[yellow]already running[/yellow] (distributed); `mcp-trading stop` first")
        raise typer.Exit(1)
    try:
        preflight(settings)
    except LaunchError as exc:
        err.print(f"[red]cannot start[/red]: {exc}")
        raise typer.Exit(1) from None
    if detach:
        _detach(settings, timeout)
        return
    configure_logging(settings, name="supervisor")

    def ready(rows: list[dict[str, Any]]) -> None:
        console.print(item_list("[green]platform up (distributed)[/green]:", (
            f"{r['name']} :{r['port']} pid {r['pid']}" for r in rows), "(Ctrl-C stops)"))

    try:
        # each service gets at least the 60 s it always had, more when the caller waits longer
        run(settings, on_ready=ready, ready_timeout_s=max(60.0, timeout))
    except (LaunchError, RuntimeError) as exc:  # SupervisorError: a service failed to start
        err.print(f"[red]cannot start[/red]: {exc}")
        raise typer.Exit(1) from None


def _detach(settings: Settings, timeout: float) -> None:
    log_dir = settings.resolved_log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path = log_dir / "supervisor.out"
    with out_path.open("ab") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "mcp_trading", "start", "--distributed", "--data-dir",
             str(settings.data_dir), "--timeout", str(timeout)], stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, env=os.environ.copy())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            err.print(f"[red]the supervisor exited during start-up[/red] (code "
                      f"{child.returncode}); see {out_path}")
            raise typer.Exit(1)
        state = _live_state(settings)
        if state is not None and state["supervisor"]["pid"] == child.pid and all(
                r["state"] == "healthy" for r in state["services"]):
            console.print(item_list(f"[green]platform up (distributed)[/green], supervisor pid "
                                    f"{child.pid}:", (f"{r['name']} :{r['port']}"
                                                      for r in state["services"])))
            return
        time.sleep(0.2)
    if _stop_child(child, STOP_GRACE_S):
        err.print(f"[red]not all services healthy after {timeout} s[/red]: stopped the "
                  f"supervisor (pid {child.pid}) and the services it had started; see "
                  f"{out_path} (a longer --timeout may help)")
    else:
        err.print(f"[red]not all services healthy after {timeout} s[/red], and the supervisor "
                  f"(pid {child.pid}) did not stop within {STOP_GRACE_S:.0f} s of SIGTERM; "
                  f"`mcp-trading stop` once it is up, see {out_path}")
    raise typer.Exit(1)


def _stop_child(child: subprocess.Popen[bytes], grace: float) -> bool:
    """SIGTERM the supervisor a timed-out start left: it stops every service it started, in
    reverse order. True once it is gone."""
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(grace)
    except subprocess.TimeoutExpired:
        return False
    return True


def stop_distributed(settings: Settings, timeout: float) -> bool:
    """Stop the supervisor (it stops every service in reverse order); False if none runs."""
    state = _live_state(settings)
    if state is None:
        return False
    proc = psutil.Process(int(state["supervisor"]["pid"]))
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        err.print(f"[red]supervisor {proc.pid} did not stop within {timeout} s[/red]; services "
                  "may still be flushing: check the logs before killing anything")
        raise typer.Exit(1) from None
    console.print(f"[green]stopped[/green] (distributed, supervisor pid {proc.pid})")
    return True


def _health(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=2.0)
        body: dict[str, Any] = response.json()
        return body
    except (httpx.HTTPError, ValueError) as exc:
        return {"status": "down", "error": type(exc).__name__}


def status_distributed(settings: Settings, *, as_json: bool) -> bool:
    """Print each service's pid, port and health; False if no distributed platform runs."""
    state = _live_state(settings)
    if state is None:
        return False
    rows = []
    for r in state["services"]:
        health = _health(r["health_url"]) if r.get("alive") else {"status": "down"}
        rows.append({"service": r["name"], "pid": r["pid"], "port": r["port"],
                     "up": bool(r.get("alive")) and health.get("status") != "down",
                     "state": r["state"], "status": health.get("status"),
                     "restarts": r["restarts"], "uptime_s": health.get("uptime_s")})
    from mcp_trading.cli.ops import print_instances, running_instances

    # the strategies service forwards this read to the engine, whose process runs them
    urls = {r["name"]: r["health_url"].removesuffix("/health") for r in state["services"]
            if r.get("alive") and r.get("health_url")}
    instances = running_instances(urls)
    if as_json:
        print(json.dumps({"running": True, "deployment": "distributed",
                          "supervisor_pid": state["supervisor"]["pid"], "services": rows,
                          "instances": instances}))
        return True
    table = Table("service", "port", "pid", "up", "status", "supervisor", "restarts", "uptime (s)")
    for row in rows:
        table.add_row(str(row["service"]), str(row["port"]), str(row["pid"] or "-"),
                      "yes" if row["up"] else "no", str(row["status"]), str(row["state"]),
                      str(row["restarts"]), str(row["uptime_s"] or "-"))
    console.print(table)
    print_instances(instances)
    return True


def register(app: typer.Typer) -> None:
    @app.command()
    def restart(service: Annotated[str, typer.Argument(help="The service to restart, e.g. "
                                                            "market-data.")],
                data_dir: Annotated[Path | None, typer.Option(
                    "--data-dir", help="Data directory (default ./var or MCP_TRADING_DATA_DIR).")
                ] = None,
                timeout: Annotated[float, typer.Option(help="Seconds to wait for health")] = 60.0,
                ) -> None:
        """Restart one service; the others keep serving (embedded: inside the process;
        trading-engine, the kernel's, restarts the process gracefully)."""
        from mcp_trading.cli.restart import restart_service

        settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
        restart_service(settings, service, timeout)
