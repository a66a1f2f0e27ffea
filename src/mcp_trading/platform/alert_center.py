"""Alerts raised by the platform, the emergency log, and notifications (log and webhooks)."""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from mcp_trading.services.views import iso

__all__ = ["Alert", "AlertCenter", "AlertsFile", "EmergencyLog", "Severity", "alerts_lock"]

log = logging.getLogger("mcp_trading.alerts")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(slots=True)
class Alert:
    id: int
    kind: str  # halt, resume, limit_breach, stale_feed, health, maintenance, ...
    severity: Severity
    message: str
    source: str  # the service that raised it
    ts: int
    acknowledged_by: str | None = None
    acknowledged_at: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: the account it concerns; None: platform-wide (who may see it: services/alerts.py)
    account_id: str | None = None

    def view(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["ts"] = iso(self.ts)
        data["acknowledged_at"] = iso(self.acknowledged_at)
        data["acknowledged"] = self.acknowledged_by is not None
        return data


class AlertCenter:
    """Keeps recent alerts (bounded), notifies the log and configured webhooks."""

    def __init__(self, *, webhooks: list[str] | None = None, keep: int = 10_000,
                 now_ns: Callable[[], int] = time.time_ns) -> None:
        self._alerts: deque[Alert] = deque(maxlen=keep)
        self.now_ns = now_ns  # a test's manual clock stamps the alerts (escalation tests)
        self._ids = itertools.count(1)
        self._webhooks = list(webhooks or [])
        self._tasks: set[asyncio.Task[None]] = set()
        self.webhook_failures = 0
        #: distributed mode: alerts raised in this process also go to the alerts service
        self.forward: Callable[[Alert], None] | None = None
        #: called with every alert raised here (e-mail, the alerts file); each must not block
        self.notifiers: list[Callable[[Alert], object]] = []
        #: called with an alert once it is acknowledged (the alerts file records it)
        self.on_acknowledge: list[Callable[[Alert], object]] = []

    def raise_alert(self, kind: str, message: str, *, severity: Severity = Severity.WARNING,
                    source: str = "platform", details: dict[str, Any] | None = None,
                    account_id: str | None = None) -> Alert:
        """Record and notify. `account_id` (else `details["account_id"]`, which also travels
        over the distributed relay) scopes the alert to one account; None is platform-wide."""
        details = details or {}
        if account_id is None and isinstance(details.get("account_id"), str):
            account_id = details["account_id"]
        alert = Alert(next(self._ids), kind, severity, message, source, self.now_ns(),
                      details=details, account_id=account_id)
        self._alerts.append(alert)
        if self.forward is not None:
            try:
                self.forward(alert)
            except Exception:  # the alert stays here and in the log
                log.warning("alert %s could not be forwarded to the alerts service", kind)
        level = logging.CRITICAL if severity is Severity.CRITICAL else (
            logging.WARNING if severity is Severity.WARNING else logging.INFO)
        log.log(level, "alert %s [%s] %s", kind, severity.value, message)
        for notify in self.notifiers:
            try:
                notify(alert)
            except Exception:  # one notifier failing never loses the alert or the others
                log.exception("alert notifier %r failed for %s", notify, kind)
        if self._webhooks:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return alert
            task = loop.create_task(self._notify(alert))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return alert

    async def drain(self) -> None:
        """Wait for the webhook notifications in flight (a short-lived process's alerts)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def capacity(self) -> int:
        """How many alerts are kept (the oldest go first)."""
        return self._alerts.maxlen or 0

    def list(self, *, include_acknowledged: bool = True, limit: int = 100) -> list[Alert]:
        items = [a for a in reversed(self._alerts)
                 if include_acknowledged or a.acknowledged_by is None]
        return items[:limit]

    def get(self, alert_id: int) -> Alert | None:
        return next((a for a in self._alerts if a.id == alert_id), None)

    def acknowledge(self, alert_id: int, actor: str) -> Alert | None:
        alert = self.get(alert_id)
        if alert is not None and alert.acknowledged_by is None:
            alert.acknowledged_by = actor
            alert.acknowledged_at = self.now_ns()
            for listener in self.on_acknowledge:
                try:
                    listener(alert)
                except Exception:  # the acknowledgement stands
                    log.exception("acknowledgement listener %r failed", listener)
        return alert

    @property
    def open_count(self) -> int:
        return sum(1 for a in self._alerts if a.acknowledged_by is None)

    async def _notify(self, alert: Alert) -> None:
        body = alert.view()
        async with httpx.AsyncClient(timeout=5.0) as client:
            for url in self._webhooks:
                try:
                    response = await client.post(url, json=body)
                    response.raise_for_status()
                except httpx.HTTPError as exc:
                    self.webhook_failures += 1
                    # the URL may carry a token: name only the host
                    log.warning("alert webhook to %s failed: %s", httpx.URL(url).host,
                                type(exc).__name__)


class EmergencyLog:
    """Append-only `emergency.log`: one JSON line per emergency action or maintenance change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, action: str, *, actor: str, reason: str, **details: Any) -> dict[str, Any]:
        entry = {"ts": iso(time.time_ns()), "action": action, "actor": actor, "reason": reason,
                 **details}
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, default=str) + "\n")
            fh.flush()
        return entry


@contextmanager
def alerts_lock(path: Path) -> Iterator[None]:
    """The lock beside `alerts.log` (`alerts.log.lock`) that a writer holds per line and an
    archive run while it moves old lines out: no line is appended to a file being replaced."""
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the kernel drops it when the holder dies
        yield


class AlertsFile:
    """`alerts.log` beside emergency.log: one JSON line per alert raised (an AlertCenter
    notifier of the process that collects alerts), so `mcp-trading incident report` has the
    timeline after the platform stopped or restarted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, alert: Alert) -> None:
        self._write({**alert.view(), "event": "raised"})

    def acknowledged(self, alert: Alert) -> None:
        """A line of its own, stamped when it was acknowledged (the raised line stays)."""
        self._write({"ts": iso(alert.acknowledged_at), "event": "acknowledged", "id": alert.id,
                     "kind": alert.kind, "severity": alert.severity.value,
                     "message": alert.message, "acknowledged_by": alert.acknowledged_by})

    def _write(self, row: dict[str, Any]) -> None:
        with alerts_lock(self.path), self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, default=str) + "\n")
