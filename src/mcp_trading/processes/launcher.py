"""`mcp-trading start --distributed`: a supervisor running one process per service.

Before anything starts, the store and the bus must be reachable and the schema at head
(`preflight`); then the supervisor starts `mcp-trading serve SERVICE` for every service in
dependency order (market-data, providers -> trading-engine -> orders, risk, portfolio ->
alerts), each healthy before its dependents start, restarts a crashed one with backoff and
raises an alert, and keeps a state file (`<data dir>/distributed.json`) that `status`,
`stop` and `restart` in other processes read. `restart SERVICE` asks the supervisor (a
request file plus SIGUSR1) to restart one service without touching the others; SIGTERM stops
them all, the writers' dependents first and the trading engine after them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError
from mcp_trading.platform.alert_center import Severity
from mcp_trading.processes.distributed.alerts_relay import publish_alert
from mcp_trading.processes.serve import ServeError, open_checked_bus
from mcp_trading.processes.supervisor import (
    ProcessSpec,
    Supervisor,
    SupervisorEvent,
    read_state,
    write_state,
)
from mcp_trading.services import registry

__all__ = ["LaunchError", "preflight", "request_restart", "run", "service_specs",
           "state_path"]

log = logging.getLogger("mcp_trading.supervisor")

_ALERTING = {"exited": Severity.CRITICAL, "gave_up": Severity.CRITICAL,
             "unhealthy": Severity.WARNING}


class LaunchError(TradingError, RuntimeError):
    """Distributed mode cannot start; the message says why and what to do."""


def state_path(settings: Settings) -> Path:
    return settings.data_dir / "distributed.json"


def _restart_request_path(settings: Settings) -> Path:
    return settings.data_dir / "distributed.restart"


def preflight(settings: Settings) -> None:
    """PostgreSQL reachable with the schema at head, Redis reachable; LaunchError otherwise."""
    from sqlalchemy.exc import SQLAlchemyError

    from mcp_trading.adapters.store.migrate import current_revision, head_revision

    url = settings.database_url or ""
    if not url.startswith(("postgresql://", "postgresql+psycopg://")):
        raise LaunchError("distributed mode needs PostgreSQL: set DATABASE_URL=postgresql://"
                          "user@host/db (SQLite has one writer per file, on one host)")
    try:
        current = current_revision(url)
    except SQLAlchemyError as exc:
        raise LaunchError(f"PostgreSQL is not reachable ({type(exc).__name__}); start it or fix "
                          "DATABASE_URL") from None
    if current != head_revision():
        raise LaunchError(f"the database schema is at {current or 'nothing'}, this version needs "
                          f"{head_revision()}: run `mcp-trading db upgrade`")
    try:
        open_checked_bus(settings).close()
    except ServeError as exc:
        raise LaunchError(str(exc)) from None


def service_specs(settings: Settings, ready_timeout_s: float = 60.0) -> list[ProcessSpec]:
    log_dir = settings.resolved_log_dir
    env = {"MCP_TRADING_DEPLOYMENT": "distributed", "PYTHONUNBUFFERED": "1"}
    # a service starts once everything its spec depends on is healthy
    return [ProcessSpec(name=spec.name, argv=[sys.executable, "-m", "mcp_trading", "serve",
                                              spec.name, "--data-dir", str(settings.data_dir)],
                        health_url=settings.service_url(spec.name) + "/health",
                        depends_on=spec.depends_on, env=env,
                        log_file=log_dir / f"{spec.name}.out", ready_timeout_s=ready_timeout_s)
            for spec in registry.specs()]


def _alerting(settings: Settings) -> Callable[[SupervisorEvent], None]:
    """Supervisor events: logged, and crashes raised as alerts on the alerts service."""
    bus = None

    def on_event(event: SupervisorEvent) -> None:
        nonlocal bus
        severity = _ALERTING.get(event.kind)
        if severity is None:
            return
        try:
            bus = bus or open_checked_bus(settings)
            publish_alert(bus, "service", f"{event.service} {event.kind}: {event.detail}",
                          severity=severity, source="supervisor")
        except Exception:  # the alert is also in the log; never stop supervising for it
            log.warning("could not raise the %s alert for %s", event.kind, event.service)

    return on_event


def run(settings: Settings, *, on_ready: Callable[[list[dict[str, Any]]], None] | None = None,
        stop_event: threading.Event | None = None, ready_timeout_s: float = 60.0) -> None:
    """Preflight, start every service, supervise until SIGTERM / SIGINT, stop them all."""
    preflight(settings)
    settings.resolved_log_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(service_specs(settings, ready_timeout_s),
                            on_event=_alerting(settings))
    stop = stop_event or threading.Event()
    restart_wanted = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGUSR1:
            restart_wanted.set()
            return
        stop.set()
        supervisor.cancel_start()  # a SIGTERM while the services start: stop now, not after

    previous = {sig: signal.signal(sig, on_signal)
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)}
    state = state_path(settings)
    try:
        supervisor.start()
        write_state(state, os.getpid(), supervisor.status())
        if on_ready is not None:
            on_ready(supervisor.status())
        last_write = time.monotonic()
        while not stop.is_set():
            supervisor.watch_once()
            if restart_wanted.is_set():
                restart_wanted.clear()
                _serve_restart_requests(settings, supervisor)
            if time.monotonic() - last_write >= 0.5:
                write_state(state, os.getpid(), supervisor.status())
                last_write = time.monotonic()
            stop.wait(0.1)
    finally:
        supervisor.stop()
        write_state(state, os.getpid(), supervisor.status())
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_restart_requests(settings: Settings, supervisor: Supervisor) -> None:
    path = _restart_request_path(settings)
    try:
        names = json.loads(path.read_text()).get("services", [])
        path.unlink()
    except (FileNotFoundError, ValueError):
        return
    for name in names:
        try:
            supervisor.restart(name)
        except Exception as exc:  # reported in the log and the state file; keep supervising
            log.warning("restart of %s failed: %s", name, exc)
        write_state(state_path(settings), os.getpid(), supervisor.status())


def request_restart(settings: Settings, service: str, *, timeout_s: float = 60.0) -> dict[str, Any]:
    """Ask the running supervisor to restart one service; returns its new status row.

    LaunchError when no supervisor runs, the service is unknown, or it is not healthy again
    within `timeout_s`.
    """
    if service not in registry.names():
        raise LaunchError(f"service {service!r} is not known; use one of: "
                          f"{', '.join(registry.names())}")
    current = read_state(state_path(settings))
    if current is None or not current["supervisor"].get("alive"):
        raise LaunchError("no distributed platform is running here (no live supervisor in "
                          f"{settings.data_dir}); start it with `mcp-trading start --distributed`")
    before = next(r for r in current["services"] if r["name"] == service)
    tmp = _restart_request_path(settings).with_suffix(".tmp")
    tmp.write_text(json.dumps({"services": [service]}))
    tmp.replace(_restart_request_path(settings))
    os.kill(int(current["supervisor"]["pid"]), signal.SIGUSR1)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = read_state(state_path(settings)) or {}
        row = next((r for r in now.get("services", []) if r["name"] == service), None)
        if row and row.get("pid") not in (None, before.get("pid")) and row["state"] == "healthy":
            return dict(row)
    raise LaunchError(f"{service} was not healthy again within {timeout_s:g} s; see "
                      f"{settings.resolved_log_dir / (service + '.out')}")
