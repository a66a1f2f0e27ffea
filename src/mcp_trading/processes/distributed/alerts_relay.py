"""Alerts across processes: raised anywhere, listed by the alerts service.

Every process of distributed mode (and the supervisor) publishes the alerts it raises to the
bus stream "alerts"; the alerts service consumes it with its consumer group (so a restart
resumes where it stopped) and keeps them with its own, where operators list and acknowledge
them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from mcp_trading.adapters.bus import BusError, EventBus
from mcp_trading.platform.alert_center import Alert, AlertCenter, Severity

__all__ = ["ALERTS", "follow_alerts", "forwarder", "publish_alert"]

log = logging.getLogger("mcp_trading.alerts_relay")

ALERTS = "alerts"
_GROUP = "alerts"


def publish_alert(bus: EventBus, kind: str, message: str, *, severity: Severity,
                  source: str, details: dict[str, Any] | None = None) -> None:
    body = {"kind": kind, "message": message, "severity": severity.value, "source": source,
            "details": details or {}}
    bus.publish(ALERTS, [json.dumps(body, default=str).encode()])


def forwarder(bus: EventBus) -> Callable[[Alert], None]:
    """An AlertCenter.forward hook publishing from a background thread (never blocks)."""
    def forward(alert: Alert) -> None:
        def send() -> None:
            try:
                publish_alert(bus, alert.kind, alert.message, severity=alert.severity,
                              source=alert.source, details=alert.details)
            except BusError:
                log.warning("alert %s not forwarded: the bus is unavailable", alert.kind)

        try:
            asyncio.get_running_loop().run_in_executor(None, send)
        except RuntimeError:  # no loop (a CLI or the supervisor): send now
            send()

    return forward


async def follow_alerts(bus: EventBus, center: AlertCenter, consumer: str) -> None:
    """Raise every published alert in `center` (the alerts service), forever."""
    while True:
        try:
            await asyncio.to_thread(bus.ensure_group, ALERTS, _GROUP, start="$")
            while True:
                entries = await asyncio.to_thread(bus.read_group, ALERTS, _GROUP, consumer,
                                                  count=100, block_ms=1000)
                for entry in entries:
                    try:
                        body = json.loads(entry.payload)
                        center.raise_alert(str(body["kind"]), str(body["message"]),
                                           severity=Severity(body["severity"]),
                                           source=str(body["source"]),
                                           details=dict(body.get("details") or {}))
                    except (ValueError, KeyError, TypeError):
                        log.warning("ignored a malformed alert on the bus (entry %s)", entry.id)
                if entries:
                    await asyncio.to_thread(bus.ack, ALERTS, _GROUP, [e.id for e in entries])
        except BusError:
            await asyncio.sleep(1.0)
