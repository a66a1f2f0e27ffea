"""Embedded mode: one process serves every runbook service on its own port.

The kernel, the feed and every service face share one event loop (the kernel's single
writer is that loop's thread). Sockets are bound before anything starts, so a busy port is
reported at once; SIGTERM / SIGINT stop the process gracefully: new orders are refused, the
servers drain, the journal flushes, the PID file goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import uvicorn
from fastapi import FastAPI

from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError
from mcp_trading.faces.mcp import attach_mcp, mcp_lifespan
from mcp_trading.faces.rest.fastpath import serving_app
from mcp_trading.faces.rest.protocol import server_config
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.filemodes import restrict_umask, secure_data_dir
from mcp_trading.platform.platform import Platform
from mcp_trading.processes.restart import EmbeddedServers
from mcp_trading.security.exposure import check_secret_files
from mcp_trading.security.tls import (
    plain_http_warning,
    server_context,
    ssl_context_factory,
    trust_platform_ca,
)
from mcp_trading.services import registry
from mcp_trading.services.spec import load

__all__ = [
    "PortInUseError",
    "SignalFreeServer",
    "app_builders",
    "bind_socket",
    "build_apps",
    "http_server",
    "run_embedded",
    "serve_embedded",
    "start_tls",
    "stop_on_signals",
]

log = logging.getLogger("mcp_trading.runner")


class PortInUseError(TradingError, RuntimeError):
    """A service's port is taken by another process; the message names the port."""


class SignalFreeServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the runner (several share a loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def app_builders(platform: Platform) -> dict[str, Callable[[], FastAPI]]:
    """How each registered service's REST app is built over `platform` (its spec's `rest`,
    loaded when it is built: a distributed process imports only the services it serves, not
    e.g. the optimizer's scipy and scikit-learn, 1.3 s and 130 MB in every process)."""
    return {spec.name: functools.partial(_build, spec.rest, platform) for spec in registry.specs()}


def _build(path: str, platform: Platform) -> FastAPI:
    app: FastAPI = load(path)(platform)
    return app


def build_apps(platform: Platform, services_up: Callable[[], dict[str, bool]]) -> dict[str, FastAPI]:
    """Every service's app, REST and MCP at /mcp; `services_up()` tells the comprehensive
    health check which services answer."""
    platform.services_up = services_up
    apps = {name: build() for name, build in app_builders(platform).items()}
    for name, app in apps.items():  # every service also speaks MCP at /mcp
        if registry.get(name).mcp:
            attach_mcp(app, platform, name)
    return apps


def stop_on_signals(stop: asyncio.Event | None = None) -> asyncio.Event:
    """The event SIGTERM / SIGINT set (the running loop's handlers; a new event if None)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def http_server(app: FastAPI) -> SignalFreeServer:
    """The uvicorn server of one service app (lifespan and signals are the runner's), with
    the header deadline, connection cap and keep-alive of rest/protocol.py."""
    settings = app.state.platform.settings
    return SignalFreeServer(server_config(serving_app(app), settings,
                                          ssl_context_factory(settings)))


def start_tls(settings: Settings, stop: asyncio.Event) -> asyncio.Event:
    """Warn loudly about plain HTTP beyond loopback in production; with TLS, watch the
    certificate files (and SIGHUP) so a renewal reaches new handshakes without a restart.
    Until `stop` (returned) is set."""
    trust_platform_ca(settings)  # peers' health probes, the engine link: over HTTPS too
    warning = plain_http_warning(settings)
    if warning:
        log.warning(warning)
    reloader = server_context(settings)
    if reloader is not None:
        reloader.start(settings.tls_reload_interval_s, stop)
    return stop


def bind_socket(host: str, port: int, service: str) -> socket.socket:
    """A listening socket for `service`, bound now (PortInUseError names a busy port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it Nagle + delayed ACK add ~40 ms to every response
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUseError(f"{service}: cannot listen on {host}:{port} ({exc.strerror}); stop "
                             f"what uses it or set MCP_TRADING_PORT_"
                             f"{service.upper().replace('-', '_')}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _write_pid_file(settings: Settings, ports: dict[str, int]) -> None:
    proc = psutil.Process(os.getpid())
    data = {"pid": proc.pid, "create_time": proc.create_time(), "started_at": time.time(),
            "host": settings.bind_host, "ports": ports, "profile": settings.profile,
            "data_dir": str(settings.data_dir.resolve())}
    tmp = settings.pid_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(settings.pid_file)


async def serve_embedded(settings: Settings, *, stop: asyncio.Event | None = None,
                         on_ready: Callable[[dict[str, int]], None] | None = None) -> None:
    """Run every service until `stop` is set (or SIGTERM / SIGINT)."""
    # background threads (journal writer, projector) hold the GIL for at most 1 ms at a time,
    # so request latency on the event loop stays low
    sys.setswitchinterval(0.001)
    restrict_umask()  # key hashes, journal, logs and the PID file: the platform user's only
    check_secret_files(settings)  # before the modes are tightened: an exposure is refused
    secure_data_dir(settings)
    platform = bootstrap(settings)  # refuses an insecure production setup first
    host = settings.bind_host
    names = registry.names()
    ports = {name: settings.port(name) for name in names}
    sockets = {name: bind_socket(host, port, name) for name, port in ports.items()}
    ports = {name: sock.getsockname()[1] for name, sock in sockets.items()}  # port 0: picked
    platform.open()
    apps: dict[str, FastAPI] = {}
    embedded = EmbeddedServers(platform, apps, sockets)
    apps.update(build_apps(platform, embedded.up))
    stop = start_tls(settings, stop_on_signals(stop))
    await platform.start()
    mcp_sessions = mcp_lifespan(apps)
    await mcp_sessions.__aenter__()
    for name in names:
        embedded.start(name)
    try:
        await embedded.wait_started(list(names), timeout=float("inf"))
        _write_pid_file(settings, ports)
        embedded.listen(settings)  # mcp-trading restart SERVICE (processes/restart.py)
        log.info("all services up: %s", ", ".join(f"{n}:{p}" for n, p in ports.items()))
        if on_ready is not None:
            on_ready(ports)
        await stop.wait()
        log.info("stopping: refusing new orders, draining, flushing the journal")
    finally:
        platform.accepting = False
        await embedded.stop_all()
        await mcp_sessions.__aexit__(None, None, None)
        await platform.stop()
        for sock in sockets.values():
            sock.close()
        with contextlib.suppress(FileNotFoundError):
            current = json.loads(settings.pid_file.read_text())
            if current.get("pid") == os.getpid():
                settings.pid_file.unlink()


def run_embedded(settings: Settings, **kwargs: Any) -> None:
    try:  # uvloop (libuv) when installed: cheaper socket I/O per request than asyncio's loop
        import uvloop

        uvloop.run(serve_embedded(settings, **kwargs))
    except ImportError:
        asyncio.run(serve_embedded(settings, **kwargs))
