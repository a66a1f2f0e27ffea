"""Logging: structlog over the standard library, to <log dir>/<name>.log and the console.

One `configure_logging` per process (a second call replaces the first). Every line, whether
from structlog or a plain `logging.getLogger(__name__)`, goes through one processor chain:
level, logger, UTC timestamp (`ts`), the process's `service`, exception text, secrets masked
(security/redact.py), then a renderer: JSON objects (one a line) in the production profile,
readable console lines in dev (MCP_TRADING_LOG_FORMAT overrides).

The order lifecycle (platform/lifecycle_log.py) reaches the file from the journal writer's
thread through a pipe (a bounded queue behind it) and a writer process; `attach_lifecycle`
hooks a recovered kernel to it. The file
rotates inside the process or by logrotate (platform/log_files.py; MCP_TRADING_LOG_ROTATION).
The first line says the service started, the last (at exit) that it stopped.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from pathlib import Path
from typing import Any

import structlog

from mcp_trading import __version__
from mcp_trading.config import Settings
from mcp_trading.kernel.runtime import KernelRuntime
from mcp_trading.platform.lifecycle_log import LifecycleLog
from mcp_trading.platform.log_files import ReopeningLogFile, RotatingLogFile, install_sighup_reopen
from mcp_trading.security.redact import redact_event

__all__ = ["LOGROTATE_FILE", "attach_lifecycle", "configure_logging", "json_lines",
           "lifecycle_dropped", "shutdown_logging"]

#: where deploy/README.md installs deploy/logrotate/trading-platform
LOGROTATE_FILE = Path("/etc/logrotate.d/trading-platform")
log = structlog.get_logger("mcp_trading.platform")


class _Active:
    """This process's logging: its handlers and the lifecycle log."""

    def __init__(self, name: str, handlers: list[logging.Handler], lifecycle: LifecycleLog) -> None:
        self.name, self.handlers, self.lifecycle = name, handlers, lifecycle


class _Process:
    """The one logging setup of this process (a module-level holder, not globals)."""

    active: _Active | None = None
    exit_registered = False


_process = _Process()


def json_lines(settings: Settings) -> bool:
    """Whether this process writes JSON lines (production, or MCP_TRADING_LOG_FORMAT=json)."""
    if settings.log_format != "auto":
        return settings.log_format == "json"
    return settings.profile == "production"


def _chain(service: str) -> list[Any]:
    def add_service(_logger: object, _method: str, event: Any) -> Any:
        event.setdefault("service", service)
        return event

    return [structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"), add_service]


def _formatter(service: str, *, as_json: bool, colors: bool) -> logging.Formatter:
    renderer: Any = (structlog.processors.JSONRenderer(default=str) if as_json else
                     structlog.dev.ConsoleRenderer(colors=colors, timestamp_key="ts",
                                                   exception_formatter=structlog.dev.plain_traceback))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_chain(service),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,  # as text, so it is masked too
                    redact_event, renderer])


def _file_handler(settings: Settings, path: Path) -> RotatingLogFile | ReopeningLogFile:
    if settings.log_rotation == "external":
        return ReopeningLogFile(path)
    return RotatingLogFile(path, max_bytes=settings.log_max_mb * 1024 * 1024,
                           max_age_s=settings.log_rotate_hours * 3600,
                           keep_days=settings.log_keep_days)


def configure_logging(settings: Settings, level: int = logging.INFO, *,
                      name: str = "platform") -> None:
    """Log to <log dir>/<name>.log and stderr (one file per process: distributed services
    log apart); the lifecycle writer starts when a kernel attaches."""
    _teardown()
    log_dir = settings.resolved_log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    as_json = json_lines(settings)
    file_handler = _file_handler(settings, log_dir / f"{name}.log")
    file_handler.setFormatter(_formatter(name, as_json=as_json, colors=False))
    console = logging.StreamHandler()
    console.setFormatter(_formatter(name, as_json=as_json,
                                    colors=not as_json and sys.stderr.isatty()))
    root = logging.getLogger()
    root.setLevel(level)
    # the MCP SDK logs every request at INFO; keep its warnings, not one line per tool call
    logging.getLogger("mcp").setLevel(logging.WARNING)
    for chatty in ("httpx", "httpx2"):  # one line per request (health probes) otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)
    handlers: list[logging.Handler] = [file_handler, console]
    for handler in handlers:
        root.addHandler(handler)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.stdlib.filter_by_level,
                    *_chain(name), structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger, cache_logger_on_first_use=False)
    # lifecycle lines go to the file only (the console of a detached platform is a file too);
    # their writer process starts when a kernel attaches
    lifecycle = LifecycleLog(file_handler.path, capacity=settings.log_queue, service=name,
                             json_lines=as_json,
                             rotating=file_handler if isinstance(file_handler, RotatingLogFile)
                             else None)
    _process.active = _Active(name, handlers, lifecycle)
    install_sighup_reopen([file_handler])
    if not _process.exit_registered:
        atexit.register(shutdown_logging)
        _process.exit_registered = True
    log.info("service started", version=__version__, pid=os.getpid(), profile=settings.profile,
             deployment=settings.deployment, log_dir=str(log_dir),
             log_rotation=settings.log_rotation)
    _warn_double_rotation(settings, log_dir)


def _warn_double_rotation(settings: Settings, log_dir: Path) -> None:
    """Internal rotation while the shipped logrotate file covers the same directory: both
    would rotate one file. Say so (the setting decides; the platform cannot edit /etc)."""
    try:
        text = LOGROTATE_FILE.read_text(encoding="utf-8")
    except OSError:
        return
    if settings.log_rotation == "internal" and str(log_dir.resolve()) in text:
        log.warning("logrotate rotates this log directory too; set MCP_TRADING_LOG_ROTATION="
                    "external (or remove the logrotate file) so one of them does",
                    logrotate_file=str(LOGROTATE_FILE), log_dir=str(log_dir))


def attach_lifecycle(runtime: KernelRuntime, *, own_store: bool = True) -> None:
    """Log this kernel's durable events (from its journal's writer thread, through the
    pipe). Nothing when logging is not configured, nor for a kernel over a store its caller
    gave (`own_store=False`: a backtest's run inside the strategies service, a test's
    in-memory journal): those orders are not the platform's trading."""
    active = _process.active
    if active is not None and own_store:
        active.lifecycle.watch(runtime.kernel.state.orders)
        runtime.journal.on_durable = active.lifecycle.submit


def lifecycle_dropped() -> int:
    """Lifecycle events whose lines were dropped (queue full) since logging was configured."""
    return _process.active.lifecycle.dropped if _process.active is not None else 0


def _teardown() -> None:
    active, _process.active = _process.active, None
    if active is None:
        return
    active.lifecycle.stop()
    root = logging.getLogger()
    for handler in active.handlers:
        root.removeHandler(handler)
        handler.close()


def shutdown_logging() -> None:
    """Write the queued lifecycle lines and a final "stopped" line, then close the files
    (at exit; idempotent)."""
    active = _process.active
    if active is None:
        return
    active.lifecycle.stop()
    log.info("stopped", pid=os.getpid(), lifecycle_dropped=active.lifecycle.dropped)
    _teardown()
