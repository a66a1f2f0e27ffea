"""Alert e-mail over SMTP: a bounded queue drained by one background task, so sending
never blocks the request path or the kernel. Failures are retried with backoff, logged
(never the password) and counted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from email.message import EmailMessage

import aiosmtplib
from prometheus_client import Counter

from mcp_trading.config_alerts import AlertMailSettings
from mcp_trading.platform.alert_center import Alert

__all__ = ["EmailNotifier", "route"]

_log = logging.getLogger(__name__)
MAIL_FAILURES = Counter("mcp_trading_alert_email_failures", "Alert e-mails not delivered")
_DESK_KINDS = frozenset({"halt", "resume", "maintenance"})


def route(alert: Alert) -> str:
    """Which list gets an alert: halt/resume/maintenance the desk, security kinds security."""
    if alert.kind in _DESK_KINDS:
        return "trading-desk"
    if alert.kind.startswith("security") or alert.kind.startswith("auth"):
        return "security-team"
    return "ops-team"


class EmailNotifier:
    def __init__(self, settings: AlertMailSettings, *, maxsize: int = 1000,
                 retries: int = 3, backoff_s: float = 0.5) -> None:
        self._s = settings
        self._queue: asyncio.Queue[Alert] = asyncio.Queue(maxsize)
        self._retries, self._backoff = retries, backoff_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Send what is queued, then stop."""
        await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def notify(self, alert: Alert) -> bool:
        """Queue an alert; never waits. False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(alert)
        except asyncio.QueueFull:
            MAIL_FAILURES.inc()
            _log.warning("alert e-mail queue full, dropped %s", alert.kind)
            return False
        return True

    def _message(self, alert: Alert, to: list[str]) -> EmailMessage:
        msg = EmailMessage()
        msg["From"], msg["To"] = self._s.smtp_from, ", ".join(to)
        severity = alert.severity.value
        msg["Subject"] = f"[{severity.upper()}] {alert.kind}: {alert.message[:120]}"
        msg.set_content(f"kind: {alert.kind}\nseverity: {severity}\nreason: {alert.message}\n")
        return msg

    async def _send(self, msg: EmailMessage) -> None:
        pw = self._s.smtp_password
        await aiosmtplib.send(msg, hostname=self._s.smtp_host, port=self._s.smtp_port,
                              username=self._s.smtp_user,
                              password=pw.get_secret_value() if pw else None,
                              start_tls=self._s.smtp_starttls, timeout=10)

    async def _deliver(self, alert: Alert) -> None:
        to = self._s.recipients(route(alert))
        if not to or not self._s.smtp_host:
            return
        for attempt in range(self._retries):
            try:
                await self._send(self._message(alert, to))
                return
            except (aiosmtplib.SMTPException, OSError) as exc:
                _log.warning("alert e-mail attempt %d failed: %s", attempt + 1,
                             type(exc).__name__)
                if attempt + 1 < self._retries:  # no wait after the last try
                    await asyncio.sleep(self._backoff * 2 ** attempt)
        MAIL_FAILURES.inc()

    async def _run(self) -> None:
        while True:
            alert = await self._queue.get()
            try:
                await self._deliver(alert)
            finally:
                self._queue.task_done()
