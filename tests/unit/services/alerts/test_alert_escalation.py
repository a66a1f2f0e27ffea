"""Escalation as the runbook's matrix, on a manual clock (no sleeping)."""

from __future__ import annotations

from mcp_trading.clocks import ManualClock
from mcp_trading.platform.alert_center import Alert, AlertCenter, Severity
from mcp_trading.services.alerts.escalation import Escalation, EscalationLevel, Escalator
from mcp_trading.services.alerts.rules import Rule, RuleEvaluator

MIN = 60 * 1_000_000_000
LISTS = {"senior-ops": ["senior@example.com"], "dev-lead": ["lead@example.com"],
         "management": ["cto@example.com"]}
MATRIX = Escalation(levels=(
    EscalationLevel(level=2, after_s=15 * 60, contacts=("senior-ops", "dev-lead")),
    EscalationLevel(level=3, after_s=30 * 60, contacts=("management", "oncall@example.com"))))


def _setup(policy: Escalation = MATRIX) -> tuple[ManualClock, AlertCenter, Escalator,
                                                 list[tuple[int, list[str], str]]]:
    clock = ManualClock()
    center = AlertCenter(now_ns=clock.now_ns)
    sent: list[tuple[int, list[str], str]] = []

    def send(alert: Alert, to: list[str], note: str) -> None:
        sent.append((alert.id, to, note))

    escalator = Escalator(policy, center, clock,
                          resolve=lambda c: [c] if "@" in c else LISTS.get(c, []), send=send)
    return clock, center, escalator, sent


def test_an_unacknowledged_critical_alert_climbs_level_2_at_15_then_3_at_30_minutes() -> None:
    clock, center, escalator, sent = _setup()
    alert = center.raise_alert("halt", "halted", severity=Severity.CRITICAL)
    clock.advance(14 * MIN + 59 * 1_000_000_000)
    assert escalator.poll() == [] and sent == []
    clock.advance(1_000_000_000)  # 15:00
    assert escalator.poll() == [(alert.id, 2)]
    assert sent[0][1] == ["senior@example.com", "lead@example.com"]
    assert "level 2" in sent[0][2] and "15 min" in sent[0][2]
    assert alert.details["escalated_level"] == 2
    clock.advance(10 * MIN)
    assert escalator.poll() == []  # level 2 is notified once
    clock.advance(5 * MIN)  # 30:00
    assert escalator.poll() == [(alert.id, 3)]
    assert sent[1][1] == ["cto@example.com", "oncall@example.com"]
    clock.advance(60 * MIN)
    assert escalator.poll() == [] and len(sent) == 2


def test_acknowledging_stops_the_climb() -> None:
    clock, center, escalator, sent = _setup()
    alert = center.raise_alert("journal", "journal failed", severity=Severity.CRITICAL)
    clock.advance(16 * MIN)
    escalator.poll()
    center.acknowledge(alert.id, "key:ops")
    clock.advance(30 * MIN)
    assert escalator.poll() == []
    assert [level for _, _, note in sent for level in (2, 3) if f"level {level}" in note] == [2]


def test_only_critical_alerts_escalate_by_default_and_each_on_its_own_clock() -> None:
    clock, center, escalator, _sent = _setup()
    center.raise_alert("disk", "disk filling", severity=Severity.WARNING)
    first = center.raise_alert("halt", "halted", severity=Severity.CRITICAL)
    clock.advance(10 * MIN)
    second = center.raise_alert("bus_connection", "bus down", severity=Severity.CRITICAL)
    clock.advance(5 * MIN)
    assert escalator.poll() == [(first.id, 2)]
    clock.advance(10 * MIN)
    assert escalator.poll() == [(second.id, 2)]


def test_an_alert_found_late_is_notified_at_every_level_due() -> None:
    clock, center, escalator, _sent = _setup()
    alert = center.raise_alert("halt", "halted", severity=Severity.CRITICAL)
    clock.advance(45 * MIN)
    assert escalator.poll() == [(alert.id, 2), (alert.id, 3)]


def test_without_e_mail_the_climb_is_still_recorded() -> None:
    clock = ManualClock()
    center = AlertCenter(now_ns=clock.now_ns)
    escalator = Escalator(MATRIX, center, clock, resolve=lambda c: [], send=None)
    alert = center.raise_alert("halt", "halted", severity=Severity.CRITICAL)
    clock.advance(31 * MIN)
    assert escalator.poll() == [(alert.id, 2), (alert.id, 3)]
    assert alert.details["escalated_level"] == 3
    assert alert.view()["details"]["escalated_level"] == 3  # shown by GET /alerts


def test_a_rule_alert_that_cleared_is_not_escalated() -> None:
    clock, center, escalator, sent = _setup()
    rule = Rule(name="store_connection", metric="store_down", above=0,
                severity=Severity.CRITICAL)
    rules = RuleEvaluator((rule,), center, clock)
    [fired] = rules.evaluate({"store_down": 1})
    clock.advance(5 * MIN)
    rules.evaluate({"store_down": 0})  # back
    clock.advance(20 * MIN)
    assert escalator.poll() == [] and sent == []
    assert fired.details["resolved"] is True
