"""`mcp-trading incident report`: the runbook's template, pre-filled from the log files the
platform writes (the real EmergencyLog and AlertsFile)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mcp_trading.cli import app
from mcp_trading.platform.alert_center import AlertCenter, AlertsFile, EmergencyLog, Severity

runner = CliRunner()


def _record(logs: Path) -> None:
    center = AlertCenter()
    file = AlertsFile(logs / "alerts.log")
    center.notifiers.append(file.append)
    center.on_acknowledge.append(file.acknowledged)
    emergency = EmergencyLog(logs / "emergency.log")
    center.raise_alert("high_cpu", "CPU use above 90 %: 97 for 300 s", source="alerts",
                       details={"rule": "high_cpu"})
    emergency.append("halt", actor="key:ops1", reason="runaway strategy")
    center.raise_alert("halt", "halt by key:ops1: runaway | strategy",
                       severity=Severity.CRITICAL, source="trading-engine")
    center.acknowledge(center.list()[0].id, "key:ops1")
    emergency.append("resume", actor="key:ops1", reason="strategy stopped")


def test_the_report_is_the_runbooks_template_with_the_timeline(tmp_path: Path) -> None:
    _record(tmp_path / "logs")
    with (tmp_path / "logs" / "alerts.log").open("a") as fh:
        fh.write("not json\n")
    out = tmp_path / "incident.md"
    result = runner.invoke(app, ["incident", "report", "--since", "1h", "--out", str(out),
                                 "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for heading in ("## Incident Report: ", "**Duration**:", "**Impact**:", "**Root Cause**:",
                    "**Resolution**:", "**Prevention**:"):
        assert heading in text
    assert "[Identified cause]" in text  # left for a person
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert len(rows) == 5
    assert "| health |" in rows[0] and "high_cpu" in rows[0]  # a rule's alert: a health change
    assert "| emergency |" in rows[1] and "runaway strategy" in rows[1]
    assert "| alert | critical |" in rows[2] and "runaway \\| strategy" in rows[2]
    assert "| ack |" in rows[3] and "(halt) acknowledged by key:ops1" in rows[3]
    assert "resume by key:ops1" in rows[4]
    assert "1 halts" in text and "resumed" in text
    assert "1 unreadable log lines" in text


def test_since_leaves_out_what_is_older(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "emergency.log").write_text(json.dumps(
        {"ts": "2020-01-01T00:00:00Z", "action": "halt", "actor": "x", "reason": "old"}) + "\n")
    result = runner.invoke(app, ["incident", "report", "--since", "2d",
                                 "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "old" not in result.stdout and "nothing recorded in this window" in result.stdout
    every = runner.invoke(app, ["incident", "report", "--since", "2019-12-31T00:00",
                                "--data-dir", str(tmp_path)])
    assert "halt by x: old" in every.stdout


def test_bad_options_are_named(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["incident", "report", "--since", "yesterday",
                              "--data-dir", str(tmp_path)])
    assert bad.exit_code == 1 and "--since 'yesterday'" in bad.output
    nowhere = tmp_path / "missing" / "r.md"
    result = runner.invoke(app, ["incident", "report", "--out", str(nowhere),
                                 "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "does not exist" in " ".join(result.output.split())
    assert not nowhere.parent.exists()
