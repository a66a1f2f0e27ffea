"""Archival of alerts: `alerts.log` lines older than the date move to
`<data_dir>/archive/alerts.jsonl` — none lost, none doubled, even when the run dies midway or
the platform appends while it runs; backups carry the archived alerts and a restore keeps the
ones archived since; the incident report still finds them and says where they came from."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from mcp_trading.cli import app
from mcp_trading.config import Settings
from mcp_trading.dataops import archive_alerts as aa
from mcp_trading.dataops.archive import archive, archive_dir
from mcp_trading.dataops.backup import run_backup
from mcp_trading.dataops.restore import run_restore
from mcp_trading.platform.alert_center import Alert, AlertsFile, Severity

DAY = 86_400 * 1_000_000_000
BEFORE = int(datetime(2024, 1, 10, tzinfo=UTC).timestamp()) * 1_000_000_000


def _alert(n: int, ts: int) -> Alert:
    return Alert(id=n, kind="limit_breach", severity=Severity.WARNING, message=f"alert {n}",
                 source="risk", ts=ts)


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", backup_dir=tmp_path / "backups")


def _write_days(settings: Settings, days: int = 20) -> AlertsFile:
    """One alert a day from 2024-01-01, and an acknowledgement of each."""
    file = AlertsFile(settings.resolved_log_dir / "alerts.log")
    start = BEFORE - 9 * DAY
    for n in range(days):
        alert = _alert(n, start + n * DAY)
        file.append(alert)
        alert.acknowledged_by, alert.acknowledged_at = "key:ops", alert.ts + 1_000
        file.acknowledged(alert)
    return file


def _hot(settings: Settings) -> list[str]:
    return (settings.resolved_log_dir / "alerts.log").read_text().splitlines()


def test_old_alert_lines_move_to_the_archive_and_the_rest_stay(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _write_days(settings)
    log = settings.resolved_log_dir / "alerts.log"
    with log.open("a") as fh:
        fh.write("not json\n")  # undated: stays where it is
    before = _hot(settings)

    dry = archive(settings, BEFORE, dry_run=True)
    assert dry.rows["alerts"] == 18  # nine days, raised + acknowledged
    assert _hot(settings) == before and not (archive_dir(settings) / aa.ALERTS_ARCHIVE).exists()

    report = archive(settings, BEFORE)
    assert report.rows["alerts"] == 18
    archived = aa.read_archived(archive_dir(settings))
    assert archived == before[:18]
    assert _hot(settings) == before[18:]
    assert archived + _hot(settings) == before
    again = archive(settings, BEFORE)  # idempotent
    assert again.rows["alerts"] == 0 and aa.read_archived(archive_dir(settings)) == archived


def test_a_run_that_died_after_appending_is_finished_without_doubles(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _write_days(settings)
    before = _hot(settings)
    directory = archive_dir(settings)
    directory.mkdir(parents=True)
    # died after appending the first ten lines (and half of the eleventh) to the archive,
    # before alerts.log was replaced
    (directory / aa.ALERTS_ARCHIVE).write_text(
        "".join(line + "\n" for line in before[:10]) + before[10][:25])

    archive(settings, BEFORE)
    archived = aa.read_archived(directory)
    assert archived == before[:18]  # the cut line dropped, each line once
    assert archived + _hot(settings) == before


def test_lines_appended_while_runs_go_on_are_never_lost(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    file = _write_days(settings, days=5)
    written = len(_hot(settings))
    stop = threading.Event()
    appended = 0

    def writer() -> None:
        nonlocal appended
        while not stop.is_set() and appended < 2_000:
            file.append(_alert(1_000 + appended, BEFORE - DAY + appended))  # all archivable
            appended += 1

    thread = threading.Thread(target=writer)
    thread.start()
    moved = 0
    try:
        for _ in range(30):
            moved += aa.archive_alerts(settings.resolved_log_dir / "alerts.log",
                                       archive_dir(settings), BEFORE)
    finally:
        stop.set()
        thread.join()
    moved += aa.archive_alerts(settings.resolved_log_dir / "alerts.log", archive_dir(settings),
                               BEFORE)
    archived = aa.read_archived(archive_dir(settings))
    assert moved == len(archived) == written + appended
    assert _hot(settings) == []
    assert len(set(archived)) == len(archived)


def test_backups_carry_the_archived_alerts_and_a_restore_keeps_later_ones(
        tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _write_days(settings)
    archive(settings, BEFORE)
    first = aa.read_archived(archive_dir(settings))
    manifest = run_backup(settings)
    assert manifest["status"] == "verified", manifest["verification"]
    assert aa.ALERTS_ARCHIVE in {e["name"] for e in manifest["files"] if e["kind"] == "archive"}

    fresh = Settings(data_dir=tmp_path / "fresh", backup_dir=tmp_path / "backups")
    assert run_restore(fresh, manifest["path"])["ok"]
    assert aa.read_archived(archive_dir(fresh)) == first

    archive(settings, BEFORE + 5 * DAY)  # archived after the backup was taken
    later = aa.read_archived(archive_dir(settings))
    assert len(later) == len(first) + 10
    report = run_restore(settings, manifest["path"])
    assert report["ok"], report["checks"]
    assert aa.read_archived(archive_dir(settings)) == later  # the audit trail is never rolled back


def test_the_incident_report_reads_archived_alerts_and_says_so(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _write_days(settings)
    archive(settings, BEFORE)
    out = tmp_path / "incident.md"
    result = CliRunner().invoke(app, ["incident", "report", "--since", "2024-01-01T00:00:00Z",
                                      "--out", str(out), "--data-dir", str(settings.data_dir)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert len(rows) == 40  # twenty alerts, twenty acknowledgements: archived or hot
    assert "18 alert lines of this window come from the alerts archive" in text
