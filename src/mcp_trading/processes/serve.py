"""`mcp-trading serve SERVICE`: one service in the foreground (what a systemd unit runs).

The trading engine runs the kernel; every other service runs over a replica. Before anything
listens, the store and the bus must be reachable and the schema at head; otherwise the
command stops with a message saying what to do (exit 1). SIGTERM / SIGINT stop it
gracefully: the engine refuses new orders, drains, flushes the journal and publishes what is
durable before it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from fastapi import FastAPI

from mcp_trading.adapters.bus import BusError, EventBus, open_bus
from mcp_trading.adapters.bus.connection import RedisOptions, redact_url
from mcp_trading.config import Settings
from mcp_trading.domain.errors import TradingError
from mcp_trading.faces.mcp import attach_mcp, mcp_lifespan
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform, Role
from mcp_trading.platform.replay import ReplaySetupError
from mcp_trading.processes.distributed.alerts_relay import follow_alerts, forwarder
from mcp_trading.processes.distributed.forward import ForwardWrites, StampSeq, internal_prefix
from mcp_trading.processes.distributed.peers import PeerHealth
from mcp_trading.processes.procs import lower_priority
from mcp_trading.processes.runner import app_builders, bind_socket, http_server, start_tls, stop_on_signals
from mcp_trading.security.logins import redis_credentials
from mcp_trading.services import registry
from mcp_trading.services.alerts.alerting_file import AlertingFileError

__all__ = ["ServeError", "build_service_app", "cache_prefix", "open_checked_bus", "run_service",
           "serve_service"]

log = logging.getLogger("mcp_trading.serve")


class ServeError(TradingError, RuntimeError):
    """The service cannot start; the message says why and what to do."""


def cache_prefix(settings: Settings) -> str:
    """Where the platform's caches live in Redis (what `mcp-trading cache clear` empties)."""
    return settings.redis_prefix + "cache:"


def open_checked_bus(settings: Settings, *, prefix: str | None = None) -> EventBus:
    """The Redis bus of the settings, reachable now; ServeError (redacted) otherwise."""
    if not settings.redis_url:
        raise ServeError("REDIS_URL is not set; distributed mode needs Redis for its bus "
                         "(e.g. REDIS_URL=redis://127.0.0.1:6379/0)")
    try:
        # the secrets file's Redis login, asked at every new connection (rotation-safe)
        bus = open_bus(settings.redis_url,
                       prefix=settings.redis_prefix if prefix is None else prefix,
                       options=RedisOptions(credentials=redis_credentials(settings)))
        bus.ping()
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    except BusError as exc:
        raise ServeError(f"Redis is not reachable at {redact_url(settings.redis_url)} ({exc}); "
                         "start it or fix REDIS_URL") from None
    return bus


def build_service_app(platform: Platform, service: str) -> FastAPI:
    """The service's REST + MCP app; the engine's also holds the other services' write
    routes (their specs' `writes`) under /internal/<service>, replicas forward those routes
    to it."""
    builders = app_builders(platform)
    settings = platform.settings
    spec = registry.get(service)
    app = builders[service]()
    if spec.mcp:
        attach_mcp(app, platform, service, base_url=settings.service_url(service))
    if spec.distributed == "engine":
        for other in registry.specs():
            if other.forwarded and other.name != service:
                app.mount(internal_prefix(other.name),
                          StampSeq(builders[other.name](), platform))
    elif spec.forwarded:
        app.add_middleware(ForwardWrites, platform=platform, service=service,
                           engine_url=settings.service_url(_engine()))
    return app


def _engine() -> str:
    return next(s.name for s in registry.specs() if s.distributed == "engine")


async def serve_service(settings: Settings, service: str, *,
                        stop: asyncio.Event | None = None) -> None:
    """Run one service until `stop` is set (or SIGTERM / SIGINT)."""
    from mcp_trading.adapters.store import SchemaOutOfDateError
    from mcp_trading.security.tokens import InsecureSecretError

    if service not in registry.names():
        raise ServeError(f"service {service!r} is not known; use one of: "
                         f"{', '.join(registry.names())}")
    spec = registry.get(service)
    sys.setswitchinterval(0.001)
    bus = open_checked_bus(settings)
    quotes = open_checked_bus(settings, prefix=cache_prefix(settings))
    role: Role = "engine" if spec.distributed == "engine" else "replica"
    if role == "replica" and settings.replica_nice:
        with contextlib.suppress(OSError):  # a lower priority only; refused is harmless
            lower_priority(settings.replica_nice)
    try:
        platform = bootstrap(settings, role=role, service=service, bus=bus, quote_bus=quotes)
    except (InsecureSecretError, ReplaySetupError, AlertingFileError) as exc:
        raise ServeError(str(exc)) from None
    sock = bind_socket(settings.bind_host, settings.port(service), service)
    try:
        platform.open()
    except SchemaOutOfDateError as exc:
        sock.close()
        raise ServeError(f"{exc}; run `mcp-trading db upgrade` first") from None
    peers = PeerHealth(settings, service, registry.names())
    platform.services_up = peers.services_up
    platform.background.append(peers.run)
    if spec.collects_alerts:  # every process's alerts end up here
        platform.background.append(lambda: follow_alerts(bus, platform.alerts, service))
    else:
        platform.alerts.forward = forwarder(bus)
    app = build_service_app(platform, service)
    server = http_server(app)
    stop = start_tls(settings, stop_on_signals(stop))
    await platform.start()
    sessions = mcp_lifespan(app)
    await sessions.__aenter__()
    task = asyncio.create_task(server.serve(sockets=[sock]), name=service)
    try:
        log.info("%s (%s) serving on %s:%d", service, role, settings.bind_host,
                 sock.getsockname()[1])
        done = asyncio.create_task(stop.wait())
        await asyncio.wait({task, done}, return_when=asyncio.FIRST_COMPLETED)
        done.cancel()
        if task.done() and task.exception() is not None:
            raise ServeError(f"{service} stopped serving: {task.exception()}")
        log.info("%s stopping: refusing new commands, draining", service)
    finally:
        platform.accepting = False
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        await sessions.__aexit__(None, None, None)
        await platform.stop()
        sock.close()
        bus.close()
        quotes.close()


def run_service(settings: Settings, service: str) -> None:
    try:  # uvloop (libuv) when installed, as in embedded mode
        import uvloop

        uvloop.run(serve_service(settings, service))
    except ImportError:
        asyncio.run(serve_service(settings, service))
