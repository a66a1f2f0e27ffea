"""Alerts service functions: list and acknowledge alerts, maintenance mode, and the watcher.

Framework-free: REST routes (and MCP tools) call these with a Principal and plain values.
Maintenance goes through the kernel (journaled; while on, the kernel refuses new orders with
MAINTENANCE) and is recorded in emergency.log and an alert.

The watcher polls cheap, cached figures once a second and raises one alert per transition:
the feed going stale or down, a comprehensive health check starting to fail, and the
platform or an account moved to reducing/halted by a risk limit.

Who sees which alert (`visible_to`):

- operators and admins: every alert, with every actor's key id;
- viewers and traders: the alerts of their account (every account for an `--all-accounts`
  key), and of the platform-wide ones only those that change what they can do or why their
  orders changed (`TRADER_VISIBLE_KINDS`: halt, resume, close-all, platform cancel-all,
  maintenance, a platform risk-limit breach, a stale feed). Health checks, storage and
  journal failures, global limit changes and background errors stay with operators: they
  name internals a trader cannot act on. Key ids other than the caller's own are masked
  (`key:***`) in messages, details and `acknowledged_by`.

Acknowledging is shared state (it closes the alert for everyone), so a viewer or trader may
acknowledge only an alert of its own account; platform-wide ones are for operators (403),
and an alert the caller may not see is not found (404), whether it exists or not.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from mcp_trading.domain.errors import ForbiddenError, InvalidError, NotFoundError
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel.kernel import Kernel
from mcp_trading.platform.alert_center import Alert, Severity
from mcp_trading.platform.health import Check, comprehensive_checks
from mcp_trading.platform.health import failing_checks as platform_failing_checks
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require, require_running
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore

__all__ = ["MAX_ALERTS", "TRADER_VISIBLE_KINDS", "AlertWatcher", "AlertsService", "FailingChecks",
           "alert_view_for", "background", "visible_to", "watch"]

log = logging.getLogger("mcp_trading.alerts")

MAX_ALERTS = 1000
FailingChecks = Callable[[], list[str]]
_MAINTENANCE_FIELDS = ("reason",)
_RISK_STATES = (TradingState.REDUCING, TradingState.HALTED)
#: the feed check is watched as its own alert (stale_feed), not again as a failed health check
_WATCHED_ELSEWHERE = frozenset({"feed"})
#: platform-wide alert kinds viewers and traders see (see the module docstring)
TRADER_VISIBLE_KINDS = frozenset({"halt", "resume", "close-all-positions", "cancel_all",
                                  "maintenance", "limit_breach", "stale_feed"})
_KEY_ACTOR = re.compile(r"\bkey:([A-Za-z0-9][A-Za-z0-9_-]*)")  # a Principal.actor


def visible_to(alert: Alert, caller: Principal) -> bool:
    """Whether the caller may see the alert (operators see all; see the module docstring)."""
    if caller.may(Role.OPERATOR):
        return True
    if alert.account_id is None:
        return alert.kind in TRADER_VISIBLE_KINDS
    return caller.account_id is None or alert.account_id == caller.account_id


def _mask(value: Any, own: str | None) -> Any:
    if isinstance(value, str):
        return _KEY_ACTOR.sub(lambda m: m[0] if m[1] == own else "key:***", value)
    if isinstance(value, dict):
        return {k: _mask(v, own) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, own) for v in value]
    return value


def alert_view_for(alert: Alert, caller: Principal) -> dict[str, Any]:
    """The alert as the caller may see it: other callers' key ids masked below operator."""
    view = alert.view()
    if caller.may(Role.OPERATOR):
        return view
    masked: dict[str, Any] = _mask(view, caller.key_id)
    return masked


class AlertsService:
    def __init__(self, core: ServiceCore, *, failing_checks: FailingChecks,
                 checks: Callable[[], list[Check]]) -> None:
        self.core = core
        self.failing_checks = failing_checks
        self.checks = checks

    @classmethod
    def for_platform(cls, platform: Platform,
                     failing_checks: FailingChecks | None = None) -> AlertsService:
        """Wired to `platform`'s comprehensive checks (`failing_checks` replaces its failing ones)."""
        return cls(platform.core, failing_checks=failing_checks or functools.partial(
            platform_failing_checks, platform), checks=functools.partial(comprehensive_checks,
                                                                         platform))

    @property
    def kernel(self) -> Kernel:
        return self.core.kernel_runtime.kernel

    def list_alerts(self, principal: Principal | None, *, acknowledged: bool | None = None,
                    limit: int = 100) -> dict[str, Any]:
        """Newest first; `acknowledged` True / False keeps only those, None keeps all.

        Only what the caller may see, and `open_alerts` counts only those."""
        caller = require(principal, Role.VIEWER)
        if not 1 <= limit <= MAX_ALERTS:
            raise InvalidError(f"limit: must be between 1 and {MAX_ALERTS}, "
                               f"got {limit}", code="INVALID_QUERY", field="limit")
        center = self.core.alerts
        every = center.list(limit=center.capacity)
        if caller.may(Role.OPERATOR):
            mine, open_count = every, center.open_count
        else:
            mine = [a for a in every if visible_to(a, caller)]
            open_count = sum(1 for a in mine if a.acknowledged_by is None)
        if acknowledged is not None:
            mine = [a for a in mine if (a.acknowledged_by is not None) == acknowledged]
        return {"alerts": [alert_view_for(a, caller) for a in mine[:limit]],
                "open_alerts": open_count}

    def acknowledge(self, principal: Principal | None, alert_id: int) -> dict[str, Any]:
        caller = require(principal, Role.TRADER)
        center = self.core.alerts
        alert = center.get(alert_id)
        if alert is None or not visible_to(alert, caller):
            raise NotFoundError(f"alert {alert_id} does not exist (or is older "
                                "than the alerts kept)", code="ALERT_NOT_FOUND", field="alert_id")
        if alert.account_id is None and not caller.may(Role.OPERATOR):
            raise ForbiddenError(f"alert {alert_id} is platform-wide: an operator "
                                 "acknowledges it; this credential may acknowledge its account's "
                                 "alerts only", code="FORBIDDEN")
        already = alert.acknowledged_by is not None
        center.acknowledge(alert_id, caller.actor)
        return {**alert_view_for(alert, caller), "already_acknowledged": already}

    async def maintenance(self, principal: Principal | None, *, active: bool,
                          body: Mapping[str, Any]) -> dict[str, Any]:
        """Enter (active) or leave maintenance; repeating the current mode changes nothing."""
        caller = require(principal, Role.OPERATOR)
        require_running(self.core)
        unknown = sorted(set(body) - set(_MAINTENANCE_FIELDS))
        if unknown:
            raise InvalidError(f"{unknown[0]}: not a field of this request; "
                               f"allowed: {', '.join(_MAINTENANCE_FIELDS)}", code="INVALID_BODY",
                               field=unknown[0])
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise InvalidError("reason: must be a string", code="INVALID_BODY", field="reason")
        action = "maintenance-start" if active else "maintenance-complete"
        why = (reason or "").strip() or f"{action} requested by {caller.actor}"
        changed = self.kernel.set_maintenance(active, reason=why, actor=caller.actor)
        await self.core.durable()
        failing = self.failing_checks()
        if changed:
            self.core.emergency_log.append(action, actor=caller.actor, reason=why,
                                               failing_checks=failing)
            self.core.alerts.raise_alert(
                "maintenance", f"{action} by {caller.actor}: {why}",
                severity=Severity.WARNING if active else Severity.INFO, source="alerts",
                details={"maintenance": active, "reason": why})
            self.core.metrics.alerts.labels("maintenance").inc()
        state = self.kernel.state
        return {"maintenance": state.maintenance is not None, "maintenance_reason": state.maintenance,
                "changed": changed, "reason": why, "trading_status": state.platform_state.value,
                "failing_checks": failing}

    def health(self) -> dict[str, Any]:
        """The alerts service's health: open alerts, maintenance and the platform's checks."""
        core = self.core
        failing = self.failing_checks()
        status = "down" if not core.accepting else "degraded" if failing else "healthy"
        maintenance = self.kernel.state.maintenance
        return {"status": status, "open_alerts": core.alerts.open_count,
                "maintenance": maintenance is not None, "maintenance_reason": maintenance,
                "platform_health": {
                    "healthy": not failing, "failing_checks": failing,
                    "feed_status": core.health.feed_status,
                    "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail}
                               for c in self.checks()]}}


class AlertWatcher:
    """Turns transitions into alerts, once each; `poll()` is one look (sync, cheap)."""

    def __init__(self, core: ServiceCore, failing_checks: FailingChecks) -> None:
        self.core = core
        self.failing_checks = failing_checks
        self._feed = "streaming"  # a feed already down when watching starts is reported
        self._failing: set[str] = set()
        self._breaches: dict[str | None, tuple[TradingState, str]] = {}

    def poll(self) -> list[Alert]:
        raised: list[Alert] = []
        raised += self._watch_feed()
        raised += self._watch_checks()
        raised += self._watch_breaches()
        for alert in raised:
            self.core.metrics.alerts.labels(alert.kind).inc()
        return raised

    def _raise(self, kind: str, message: str, severity: Severity, **details: Any) -> Alert:
        return self.core.alerts.raise_alert(kind, message, severity=severity, source="alerts",
                                                details=details)

    def _watch_feed(self) -> list[Alert]:
        h = self.core.health
        status, previous = h.feed_status, self._feed
        self._feed = status
        if status in (previous, "streaming"):
            return []
        age = "" if h.feed_age_s is None else f"; newest quote {h.feed_age_s} s old"
        severity = Severity.CRITICAL if status == "down" else Severity.WARNING
        return [self._raise("stale_feed", f"market data feed is {status}{age}", severity,
                            feed_status=status, feed_age_s=h.feed_age_s)]

    def _watch_checks(self) -> list[Alert]:
        failing = {}
        for line in self.failing_checks():
            name = line.partition(":")[0].strip()
            if name not in _WATCHED_ELSEWHERE:
                failing[name] = line
        new = [name for name in failing if name not in self._failing]
        self._failing = set(failing)
        return [self._raise("health", f"health check failing: {failing[name]}",
                            Severity.CRITICAL if name == "journal" else Severity.WARNING,
                            check=name) for name in new]

    def _watch_breaches(self) -> list[Alert]:
        state = self.core.kernel_runtime.kernel.state
        current: dict[str | None, tuple[TradingState, str]] = {}
        if state.platform_state in _RISK_STATES and state.platform_reason.startswith("RISK_"):
            current[None] = (state.platform_state, state.platform_reason)
        for account in state.accounts.values():
            if (account.state in _RISK_STATES and account.state_reason.startswith("RISK_")
                    and not account.internal):
                current[account.id] = (account.state, account.state_reason)
        alerts = []
        for scope, (level, reason) in current.items():
            if self._breaches.get(scope) != (level, reason):
                who = "platform" if scope is None else f"account {scope}"
                alerts.append(self._raise("limit_breach", f"{who} moved to {level.value} by a risk "
                                          f"limit: {reason}", Severity.CRITICAL, account_id=scope,
                                          trading_state=level.value, reason=reason))
        self._breaches = current
        return alerts


async def watch(platform: Platform, *, failing_checks: FailingChecks | None = None,
                interval: float = 1.0) -> None:
    """Poll forever; an error in one look is logged and the watch goes on."""
    watcher = AlertWatcher(platform.core, failing_checks or functools.partial(
        platform_failing_checks, platform))
    while True:
        await asyncio.sleep(interval)
        if platform.runtime is None or not platform.accepting:
            continue  # not started, or stopping: its failing checks are expected, not alerts
        try:
            watcher.poll()
        except Exception:
            log.exception("alert watcher: one poll failed; watching on")


class _Watch:
    """The watcher as a Background (run / stop)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def run(self) -> None:
        await watch(self.platform)

    async def stop(self) -> None:
        return None  # polls only: nothing held


def background(platform: Platform) -> _Watch:
    """The spec's task: turn state transitions into alerts (default failing checks)."""
    return _Watch(platform)
