"""The files provider's watch: its directory scanned every MCP_TRADING_FILES_POLL_S seconds.

Each scan runs in a worker thread (an import may take seconds). What it finds is recorded on
the provider's score, so GET /providers shows it:

    a clean scan (the directory read, no file refused)   a success: `last_success`
    a refused file (bad row, unknown layout, ...)         a failure whose `last_error` names
                                                          the file, row and reason, and one
                                                          alert (`history_file_refused`); the
                                                          file is not retried until it changes
    the directory missing or unreadable                   a failure, alerted once until the
                                                          next clean scan

Nothing of a refused file is stored (the import is all or nothing).
"""

from __future__ import annotations

import asyncio
import logging

from mcp_trading.adapters.providers.files import FilesProvider, Refusal
from mcp_trading.domain.errors import TradingError
from mcp_trading.platform.alert_center import AlertCenter, Severity
from mcp_trading.services.providers.registry import ProviderRegistry

__all__ = ["scan_once", "watch_files"]

log = logging.getLogger(__name__)


async def watch_files(provider: FilesProvider, registry: ProviderRegistry,
                      alerts: AlertCenter) -> None:
    """Scan until cancelled (the providers poller starts and cancels it)."""
    alerted: str | None = None  # the directory fault already alerted
    while True:
        alerted = await scan_once(provider, registry, alerts, alerted=alerted)
        await asyncio.sleep(provider.poll_s)


async def scan_once(provider: FilesProvider, registry: ProviderRegistry, alerts: AlertCenter,
                    *, alerted: str | None = None) -> str | None:
    """One scan, recorded and alerted; the directory fault now alerted (None: none)."""
    name = provider.name
    try:
        outcomes = await asyncio.to_thread(provider.scan)
    except (TradingError, OSError) as exc:
        why = exc.message if isinstance(exc, TradingError) else f"{type(exc).__name__}: {exc}"
        registry.record_failure(name, registry.clock.now_ns(), why)
        if why != alerted:
            log.warning("providers: %s cannot scan its directory: %s", name, why)
            alerts.raise_alert("history_files_unreadable", f"{name}: {why}"[:500],
                               severity=Severity.WARNING, source="providers",
                               details={"provider": name, "directory": str(provider.directory)})
        return why
    now = registry.clock.now_ns()
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    for r in refused:
        registry.record_failure(name, now, r.reason)
        log.warning("providers: %s refused %s: %s", name, r.file, r.reason)
        alerts.raise_alert("history_file_refused", r.reason[:500], severity=Severity.WARNING,
                           source="providers",
                           details={"provider": name, "file": r.file, "row": r.row,
                                    "reason": r.reason})
    for s in outcomes:
        if not isinstance(s, Refusal):
            log.info("providers: %s imported %s: %d bars of %s (%d new)", name, s.file, s.bars,
                     ", ".join(s.symbols), s.inserted)
    if not refused:
        registry.record_success(name, now)
    return None
