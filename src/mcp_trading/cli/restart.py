"""`mcp-trading restart SERVICE` in every mode.

Distributed: the supervisor restarts that service's process (processes/launcher.py).
Embedded: the running process restarts that service's server and background tasks while
the others keep serving (processes/restart.py: a request file and SIGUSR2); the kernel's
own service, trading-engine, restarts the whole process gracefully (stop, then start
detached, as `mcp-trading start --detach`).
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import typer
from rich.console import Console

from mcp_trading.config import Settings
from mcp_trading.services import registry

__all__ = ["restart_embedded", "restart_service"]

console = Console()
err = Console(stderr=True)


def _fail(service: str, why: str) -> typer.Exit:
    err.print(f"[red]cannot restart {service}[/red]: {why}")
    return typer.Exit(1)


def restart_service(settings: Settings, service: str, timeout: float) -> None:
    """Restart `service` on whichever platform runs here (an error says why not)."""
    from mcp_trading.cli.distributed import live_record
    from mcp_trading.processes.launcher import LaunchError, request_restart

    if service not in registry.names():
        raise _fail(service, f"not a service; use one of: {', '.join(registry.names())}")
    if live_record(settings) is not None:
        try:
            row = request_restart(settings, service, timeout_s=timeout)
        except LaunchError as exc:
            raise _fail(service, str(exc)) from None
        console.print(f"[green]restarted[/green] {service}: pid {row['pid']}, healthy")
        return
    restart_embedded(settings, service, timeout)


def restart_embedded(settings: Settings, service: str, timeout: float) -> None:
    from mcp_trading.cli.ops import _base_urls, _get_health, _running, _start_detached, stop
    from mcp_trading.processes.restart import KERNEL_SERVICE, request_path, result_path

    record = _running(settings)
    if record is None:
        raise _fail(service, f"no platform is running here ({settings.data_dir}); start it "
                             "with `mcp-trading start --detach`")
    if service == KERNEL_SERVICE:  # the kernel's own: the whole process, gracefully
        console.print(f"{service} is the kernel's service: restarting the platform process")
        stop(data_dir=settings.data_dir, timeout=timeout)
        _start_detached(settings, timeout)
        return
    done = result_path(settings)
    done.unlink(missing_ok=True)
    tmp = request_path(settings).with_suffix(".tmp")
    tmp.write_text(service)
    tmp.replace(request_path(settings))
    os.kill(int(record["pid"]), signal.SIGUSR2)
    answer = _wait_answer(done, timeout)
    if answer is None:
        raise _fail(service, f"no answer from pid {record['pid']} within {timeout:g} s; see "
                             f"{settings.resolved_log_dir}")
    if not answer.get("ok"):
        raise _fail(service, str(answer.get("error")))
    url = _base_urls(settings, record)[service]
    health = _get_health(url)
    if health.get("status") == "down":
        raise _fail(service, f"restarted but {url}/health says down: {health}")
    console.print(f"[green]restarted[/green] {service} in pid {record['pid']} "
                  f"({answer.get('tasks', 0)} background tasks); health {health.get('status')}")


def _wait_answer(path: Any, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer: dict[str, Any] = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            time.sleep(0.1)
            continue
        path.unlink(missing_ok=True)
        return answer
    return None
