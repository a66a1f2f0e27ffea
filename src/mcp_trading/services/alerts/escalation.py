"""Escalation, as the runbook's matrix: an alert not acknowledged in time notifies the next
level (the alerting file's `[escalation]`).

    level 1   0-15 min    the alert's own lists (routing); nothing to do here
    level 2   15-30 min   senior operations + the development lead
    level 3   30+ min     CTO + all hands

Levels, their delays and contacts are configuration. Each level is notified once per alert;
acknowledging stops the climb, and so does the alert's rule clearing (`details.resolved`).
An alert's reached level is kept in its details (`escalated_level`), so the alerts API
shows it. Time is the injected clock's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from mcp_trading.kernel.ports import Clock
from mcp_trading.platform.alert_center import Alert, AlertCenter, Severity

__all__ = ["Escalation", "EscalationLevel", "Escalator", "Send"]

log = logging.getLogger("mcp_trading.alerts")
_NS = 1_000_000_000
#: how an escalation goes out: (alert, contact addresses, note)
Send = Callable[[Alert, list[str], str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationLevel:
    level: int  # 2, 3, ...
    after_s: float  # unacknowledged this long after the alert was raised
    contacts: tuple[str, ...]  # recipient lists (senior-ops, dev-lead, ...) or addresses


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalation:
    levels: tuple[EscalationLevel, ...] = ()  # ascending by level and delay
    severities: tuple[Severity, ...] = (Severity.CRITICAL,)


class Escalator:
    """`poll()` escalates what is due; `resolve` turns a contact into addresses."""

    def __init__(self, policy: Escalation, center: AlertCenter, clock: Clock, *,
                 resolve: Callable[[str], list[str]], send: Send | None) -> None:
        self.policy = policy
        self.center = center
        self.clock = clock
        self.resolve = resolve
        self.send = send  # None: no e-mail configured (the climb is still logged and shown)

    def poll(self) -> list[tuple[int, int]]:
        """Notify every level now due; the (alert id, level) pairs notified."""
        if not self.policy.levels:
            return []
        now = self.clock.now_ns()
        done = []
        for alert in self.center.list(include_acknowledged=False, limit=self.center.capacity):
            if alert.severity not in self.policy.severities or alert.details.get("resolved"):
                continue  # not escalated, or its rule cleared it
            reached = int(alert.details.get("escalated_level", 1))
            for level in self.policy.levels:
                if level.level > reached and now - alert.ts >= level.after_s * _NS:
                    self._notify(alert, level)
                    reached = level.level
                    done.append((alert.id, level.level))
        return done

    def _notify(self, alert: Alert, level: EscalationLevel) -> None:
        alert.details["escalated_level"] = level.level
        addresses = list(dict.fromkeys(a for c in level.contacts for a in self.resolve(c)))
        minutes = level.after_s / 60
        note = (f"escalated to level {level.level} ({', '.join(level.contacts)}): "
                f"not acknowledged for {minutes:g} min")
        if self.send is None or not addresses:
            log.warning("alert %d %s %s; no e-mail sent (%s)", alert.id, alert.kind, note,
                        "no SMTP server configured" if self.send is None
                        else "the level's contacts have no addresses")
            return
        log.warning("alert %d %s %s", alert.id, alert.kind, note)
        self.send(alert, addresses, note)
