"""Alert e-mail over SMTP: a bounded queue drained by one background task, so sending
never blocks the request path or the kernel. Failures are retried with backoff, logged
(never the password) and counted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from prometheus_client import Counter

from mcp_trading.config_alerts import AlertMailSettings
from mcp_trading.platform.alert_center import Alert
from mcp_trading.platform.alert_routing import Routing
from mcp_trading.services.views import iso

__all__ = ["EmailNotifier"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Mail:
    alert: Alert
    to: tuple[str, ...] | None  # None: the lists the routing names
    note: str | None  # e.g. "escalated to level 2: not acknowledged for 15 min"


class EmailNotifier:
    """`notify(alert)` mails the lists `routing` names (addresses from the settings);
    `notify(alert, to=..., note=...)` mails given addresses (escalation)."""

    def __init__(self, settings: AlertMailSettings, *, routing: Routing | None = None,
                 failures: Counter | None = None, maxsize: int = 1000, retries: int = 3,
                 backoff_s: float = 0.5) -> None:
        self._s = settings
        self._failures = failures  # the platform's mcp_trading_alert_email_failures
        self.failed = 0  # e-mails given up on (or dropped: queue full)
        self.routing = routing or Routing.standard()
        self._queue: asyncio.Queue[_Mail] = asyncio.Queue(maxsize)
        self._retries, self._backoff = retries, backoff_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, *, drain_s: float = 30.0) -> None:
        """Send what is queued (for at most `drain_s`: an unreachable server never holds up
        the platform's stop; what is left is counted as failed), then stop."""
        try:
            async with asyncio.timeout(drain_s):
                await self._queue.join()
        except TimeoutError:
            left = self._queue.qsize()
            for _ in range(left):
                self._failed()
            _log.warning("alert e-mail: %d messages not sent within %g s of stopping", left,
                         drain_s)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def notify(self, alert: Alert, *, to: list[str] | None = None,
               note: str | None = None) -> bool:
        """Queue an alert; never waits. False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(_Mail(alert, None if to is None else tuple(to), note))
        except asyncio.QueueFull:
            self._failed()
            _log.warning("alert e-mail queue full, dropped %s", alert.kind)
            return False
        return True

    def recipients(self, alert: Alert) -> list[str]:
        """The addresses of every list the routing names for the alert, each once."""
        found = [a for name in self.routing.lists(alert) for a in self._s.recipients(name)]
        return list(dict.fromkeys(found))

    def _message(self, mail: _Mail, to: list[str]) -> EmailMessage:
        alert, msg = mail.alert, EmailMessage()
        msg["From"], msg["To"] = self._s.smtp_from, ", ".join(to)
        severity = alert.severity.value
        prefix = "[ESCALATED] " if mail.note else ""
        msg["Subject"] = f"{prefix}[{severity.upper()}] {alert.kind}: {alert.message[:120]}"
        lines = [f"kind: {alert.kind}", f"severity: {severity}", f"reason: {alert.message}",
                 f"alert id: {alert.id}", f"raised by: {alert.source}", f"at: {iso(alert.ts)}"]
        if alert.account_id is not None:
            lines.append(f"account: {alert.account_id}")
        if mail.note:
            lines.append(f"escalation: {mail.note}")
        msg.set_content("\n".join(lines) + "\n")
        return msg

    async def _send(self, msg: EmailMessage) -> None:
        pw = self._s.smtp_password
        await aiosmtplib.send(msg, hostname=self._s.smtp_host, port=self._s.smtp_port,
                              username=self._s.smtp_user,
                              password=pw.get_secret_value() if pw else None,
                              start_tls=self._s.smtp_starttls, timeout=10)

    async def _deliver(self, mail: _Mail) -> None:
        to = list(mail.to) if mail.to is not None else self.recipients(mail.alert)
        if not to or not self._s.smtp_host:
            return
        for attempt in range(self._retries):
            try:
                await self._send(self._message(mail, to))
                return
            except (aiosmtplib.SMTPException, OSError) as exc:
                _log.warning("alert e-mail attempt %d failed: %s", attempt + 1,
                             type(exc).__name__)
                if attempt + 1 < self._retries:  # no wait after the last try
                    await asyncio.sleep(self._backoff * 2 ** attempt)
        self._failed()

    def _failed(self) -> None:
        self.failed += 1
        if self._failures is not None:
            self._failures.inc()

    async def _run(self) -> None:
        while True:
            mail = await self._queue.get()
            try:
                await self._deliver(mail)
            except asyncio.CancelledError:  # stopped while trying: not delivered
                self._failed()
                raise
            finally:
                self._queue.task_done()
