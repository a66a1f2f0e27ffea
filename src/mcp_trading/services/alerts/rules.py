"""Alert rules: a figure above a threshold for a while raises one alert (the alerting file's
`[[rules]]`; services/alerts/alerting_file.py reads them).

Each rule is a small state machine, moved by `RuleEvaluator.evaluate(figures)`:

    ok        the figure is at or under the threshold (or unknown)
    pending   above since `since`; fires once it has been above for `for_s`
    firing    the alert was raised; raised again only every `repeat_s` while it stays above
              (0: never again in this episode: the de-duplication); when the figure drops
              back, one INFO "resolved" alert, the episode's alerts are marked
              `details.resolved` (escalation skips them) and the rule is ok again

Time is the injected clock's, so tests move it by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from mcp_trading.kernel.ports import Clock
from mcp_trading.platform.alert_center import Alert, AlertCenter, Severity

__all__ = ["METRICS", "Rule", "RuleEvaluator"]

#: the figures a rule may watch (services/alerts/figures.py measures them)
METRICS: Mapping[str, str] = {
    "cpu_percent": "host CPU use, % (psutil)",
    "memory_percent": "host memory use, % (psutil)",
    "disk_percent": "use of the data directory's disk, %",
    "health_latency_ms": "slowest /health answer of the services, ms",
    "store_down": "1 while the journal's database is unreachable or failed, else 0",
    "bus_down": "1 while the event bus (Redis) is unreachable, else 0 (embedded: unknown)",
    "feed_age_s": "age of the newest quote, s",
    "order_reject_percent": "rejected orders in the last 5 minutes, % (at least 20 orders)",
    "backup_age_h": "age of the last verified backup, h (never backed up: unknown)",
}
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    name: str  # also the alert's kind
    metric: str  # one of METRICS
    above: float
    for_s: float = 0.0
    severity: Severity = Severity.WARNING
    repeat_s: float = 0.0  # 0: once per episode
    message: str = ""


@dataclass(slots=True)
class _State:
    phase: Literal["ok", "pending", "firing"] = "ok"
    since: int = 0  # ns: above since
    raised_at: int = 0  # ns: the last alert
    fired: list[Alert] = field(default_factory=list)  # this episode's alerts


class RuleEvaluator:
    def __init__(self, rules: tuple[Rule, ...], center: AlertCenter, clock: Clock) -> None:
        self.rules = rules
        self.center = center
        self.clock = clock
        self._state = {rule.name: _State() for rule in rules}

    def phase(self, name: str) -> str:
        return self._state[name].phase

    def evaluate(self, figures: Mapping[str, float | None]) -> list[Alert]:
        """One look at the figures; the alerts raised by it."""
        now = self.clock.now_ns()
        raised = []
        for rule in self.rules:
            alert = self._step(rule, self._state[rule.name], figures.get(rule.metric), now)
            if alert is not None:
                raised.append(alert)
        return raised

    def _step(self, rule: Rule, st: _State, value: float | None, now: int) -> Alert | None:
        if value is None or value <= rule.above:
            was_firing, st.phase = st.phase == "firing", "ok"
            if was_firing:
                for alert in st.fired:  # resolved: nothing left to escalate
                    alert.details["resolved"] = True
                st.fired = []
                shown = "unknown" if value is None else _fmt(value)
                return self._raise(rule, Severity.INFO, f"resolved: {rule.metric} is {shown} "
                                   f"(threshold {_fmt(rule.above)})", value, resolved=True)
            return None
        if st.phase == "ok":
            st.phase, st.since = "pending", now
        due = st.phase == "pending" and now - st.since >= rule.for_s * _NS
        again = (st.phase == "firing" and rule.repeat_s > 0
                 and now - st.raised_at >= rule.repeat_s * _NS)
        if not (due or again):
            return None
        st.phase, st.raised_at = "firing", now
        alert = self._fire(rule, value, now - st.since)
        st.fired.append(alert)
        return alert

    def _fire(self, rule: Rule, value: float, above_ns: int) -> Alert:
        what = rule.message or f"{rule.metric} above {_fmt(rule.above)}"
        lasted = f" for {above_ns / _NS:.0f} s" if rule.for_s > 0 else ""
        return self._raise(rule, rule.severity, f"{what}: {_fmt(value)}{lasted}", value,
                           resolved=False)

    def _raise(self, rule: Rule, severity: Severity, message: str, value: float | None, *,
               resolved: bool) -> Alert:
        return self.center.raise_alert(rule.name, message, severity=severity, source="alerts",
                                       details={"rule": rule.name, "metric": rule.metric,
                                                "value": value, "threshold": rule.above,
                                                "for_s": rule.for_s, "resolved": resolved})


def _fmt(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
