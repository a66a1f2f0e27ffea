"""The alerts service's alerting task: alert e-mail, the alerts file, the rules and escalation.

It runs where alerts are collected (embedded: the one process; distributed: the alerts
service, which every other process forwards its alerts to), is started and stopped with the
platform, and reads the alerting file when the platform starts: a bad file stops the start
with an `AlertingFileError` naming the rule and field. E-mail is on only when an SMTP
server is configured (`MCP_TRADING_SMTP_HOST`); without it the rules and escalation still
run, and escalations are logged.

States: idle (built) -> attached (notifiers added to the AlertCenter, e-mail sender running,
evaluating every `evaluate_every`) -> stopped (notifiers removed, queued e-mail sent).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from mcp_trading.clocks import WallClock
from mcp_trading.kernel.ports import Clock
from mcp_trading.platform.alert_center import Alert, AlertsFile, Severity
from mcp_trading.platform.notify_email import EmailNotifier
from mcp_trading.services.alerts.alerting_file import AlertingConfig, load_alerting
from mcp_trading.services.alerts.escalation import Escalator
from mcp_trading.services.alerts.figures import Figures
from mcp_trading.services.alerts.rules import RuleEvaluator

if TYPE_CHECKING:
    from mcp_trading.platform.platform import Platform

__all__ = ["AlertingTask", "background"]

log = logging.getLogger("mcp_trading.alerts")


class AlertingTask:
    """A Background (run / stop); `evaluate()` is one look, for tests with a manual clock."""

    def __init__(self, platform: Platform, *, config: AlertingConfig | None = None,
                 clock: Clock | None = None) -> None:
        s = platform.settings
        self.platform = platform
        self.config = config or load_alerting(s.alerting_file, lists=s.recipient_lists())
        center = platform.alerts
        self.mailer = (EmailNotifier(s, routing=self.config.routing,
                                     failures=platform.metrics.alert_email_failures)
                       if s.smtp_host else None)
        self.file = AlertsFile(s.resolved_log_dir / "alerts.log")
        self.clock: Clock = clock or WallClock()
        self.rules = RuleEvaluator(self.config.rules, center, self.clock)
        self.escalator = Escalator(self.config.escalation, center, self.clock,
                                   resolve=self._addresses,
                                   send=self._escalate if self.mailer is not None else None)
        self.figures: Figures | None = None
        self._attached = False

    def _addresses(self, contact: str) -> list[str]:
        return [contact] if "@" in contact else self.platform.settings.recipients(contact)

    def _escalate(self, alert: Alert, to: list[str], note: str) -> None:
        assert self.mailer is not None
        self.mailer.notify(alert, to=to, note=note)

    def attach(self) -> None:
        """Add the notifiers and start the e-mail sender (once; a restarted run keeps them)."""
        if self._attached:
            return
        center = self.platform.alerts
        center.notifiers.append(self.file.append)
        center.on_acknowledge.append(self.file.acknowledged)
        if self.mailer is not None:
            self.mailer.start()
            center.notifiers.append(self.mailer.notify)
        self._attached = True
        log.info("alerting: %d rules, %d escalation levels, e-mail %s (%s)",
                 len(self.config.rules), len(self.config.escalation.levels),
                 "on" if self.mailer is not None else "off (no SMTP server)", self.config.source)

    async def evaluate(self) -> list[Alert]:
        """Measure, evaluate the rules, escalate what is due; the rule alerts raised."""
        if self.figures is None:
            self.figures = Figures(self.platform)
        figures = await self.figures.collect()
        metrics = self.platform.metrics
        for name, value in figures.items():
            if value is not None:
                metrics.alert_figure.labels(name).set(value)
        raised = self.rules.evaluate(figures)
        for alert in raised:
            metrics.alerts.labels(alert.kind).inc()
        self.escalator.poll()
        center = self.platform.alerts
        unacknowledged = center.list(include_acknowledged=False, limit=center.capacity)
        for severity in Severity:
            metrics.alerts_open.labels(severity.value).set(
                sum(a.severity is severity for a in unacknowledged))
        return raised

    async def run(self) -> None:
        self.attach()
        every = self.config.evaluate_every_s
        while True:
            await asyncio.sleep(every)
            p = self.platform
            if p.runtime is None or not p.accepting:
                continue  # not started, or stopping
            try:
                await self.evaluate()
            except Exception:
                log.exception("alerting: one evaluation failed; evaluating on")

    async def stop(self) -> None:
        """Detach the notifiers; send what e-mail is queued."""
        center = self.platform.alerts
        for notify in (self.file.append, self.mailer.notify if self.mailer else None):
            if notify in center.notifiers:
                center.notifiers.remove(notify)
        if self.file.acknowledged in center.on_acknowledge:
            center.on_acknowledge.remove(self.file.acknowledged)
        if self.mailer is not None and self._attached:
            await self.mailer.stop()
        if self.figures is not None:
            await self.figures.close()
        self._attached = False


def background(platform: Platform) -> AlertingTask:
    """The spec's task (reads the alerting file now: a bad one fails the start); attached
    at once, so no alert raised before its first run goes unmailed."""
    task = AlertingTask(platform)
    task.attach()
    return task
