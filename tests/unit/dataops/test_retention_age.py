"""Retention (N daily + M weekly verified backups), the backup age check and its one alert,
and the settings a backup keeps (no secrets)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from mcp_trading.config import Settings
from mcp_trading.dataops.age import BackupAgeWatch, backup_check
from mcp_trading.dataops.manifest import FORMAT
from mcp_trading.dataops.retention import last_verified, list_backups, prune
from mcp_trading.dataops.sources import settings_without_secrets

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _fake(root: Path, when: datetime, status: str = "verified") -> str:
    """A backup directory with just a manifest (the listing reads nothing else)."""
    name = "backup-" + when.strftime("%Y%m%dT%H%M%S%fZ")
    (root / name).mkdir(parents=True)
    (root / name / "manifest.json").write_text(json.dumps({
        "format": FORMAT, "name": name, "status": status, "journal_last_seq": 1,
        "files": [], "schema_revision": "x", "ended_at": when.isoformat()}))
    return name


def test_keeps_the_newest_of_each_recent_day_and_week(tmp_path: Path) -> None:
    names = {d: _fake(tmp_path, NOW - timedelta(days=d)) for d in range(40)}
    same_day_earlier = _fake(tmp_path, NOW - timedelta(hours=3))
    deleted = prune(tmp_path, keep_daily=3, keep_weekly=2)
    kept = {e["name"] for e in list_backups(tmp_path)}
    assert {names[0], names[1], names[2]} <= kept  # the three most recent days
    assert same_day_earlier in deleted  # one per day: the newest of today is kept
    assert names[39] in deleted and names[20] in deleted
    assert len(kept) <= 3 + 2
    # the weekly one of last ISO week is the newest of that week
    last_week = [d for d in range(40) if (NOW - timedelta(days=d)).isocalendar()[1]
                 == (NOW - timedelta(days=7)).isocalendar()[1]]
    assert names[min(last_week)] in kept


def test_failed_backups_older_than_the_last_verified_one_go(tmp_path: Path) -> None:
    old_failed = _fake(tmp_path, NOW - timedelta(days=2), "failed")
    ok = _fake(tmp_path, NOW - timedelta(days=1))
    new_failed = _fake(tmp_path, NOW, "failed")
    assert prune(tmp_path, keep_daily=7, keep_weekly=0) == [old_failed]
    assert [e["name"] for e in list_backups(tmp_path)] == [ok, new_failed]
    entry = last_verified(tmp_path)
    assert entry is not None and entry["name"] == ok


def test_partial_and_unreadable_backups(tmp_path: Path) -> None:
    (tmp_path / "backup-20261202T000000000000Z.partial").mkdir()
    broken = tmp_path / "backup-20261201T000000000000Z"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    rows = list_backups(tmp_path)
    assert [(r["name"], r["status"]) for r in rows] == [(broken.name, "invalid")]
    assert last_verified(tmp_path) is None


def test_age_check_never_degrades_before_the_first_backup(tmp_path: Path) -> None:
    check = backup_check(tmp_path / "backups", 26)
    assert check["status"] == "healthy" and "never backed up" in check["detail"]
    _fake(tmp_path / "backups", NOW - timedelta(hours=30))
    assert backup_check(tmp_path / "backups", 26, now=NOW)["status"] == "degraded"
    assert backup_check(tmp_path / "backups", 31, now=NOW)["status"] == "healthy"


def test_the_age_alert_fires_once_and_re_arms(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    _fake(root, datetime.now(UTC) - timedelta(hours=30))
    watch = BackupAgeWatch(root, 26, interval_s=10)
    first = watch.poll(0)
    assert first is not None and "30.0 h old" in first
    assert watch.poll(5) is None  # not polled again before the interval
    assert watch.poll(20) is None  # the same old backup: no second alert
    _fake(root, datetime.now(UTC) - timedelta(minutes=5))  # a fresh backup re-arms it
    assert watch.poll(40) is None
    watch.max_age_hours = 0.01
    assert watch.poll(60) is not None  # the new one got too old: one more alert


def test_the_settings_kept_hold_no_secret(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, database_url="postgresql://u:hunter2@db/trading",
                 alphavantage_api_key=SecretStr("AVKEY123"),
                 webhook_urls=["https://hooks.example/T0KEN"])
    text = json.dumps(settings_without_secrets(s))
    for secret in ("hunter2", "AVKEY123", "T0KEN"):
        assert secret not in text
    kept = settings_without_secrets(s)
    assert kept["database_url"] == "postgresql://u:***@db/trading"
    assert kept["data_dir"] == str(tmp_path)
