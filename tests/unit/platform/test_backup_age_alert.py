"""The running platform raises one `backup_age` alert when the last verified backup is too
old, not one per health refresh; a platform never backed up raises none."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.dataops.manifest import FORMAT
from mcp_trading.platform.bootstrap import in_memory


def _old_backup(root: Path, hours: float) -> None:
    when = datetime.now(UTC) - timedelta(hours=hours)
    name = "backup-" + when.strftime("%Y%m%dT%H%M%S%fZ")
    (root / name).mkdir(parents=True)
    (root / name / "manifest.json").write_text(json.dumps({
        "format": FORMAT, "name": name, "status": "verified", "journal_last_seq": 1,
        "files": [], "schema_revision": "x", "ended_at": when.isoformat()}))


def _alerts(tmp_path: Path, refreshes: int) -> list[str]:
    platform = in_memory(Settings(data_dir=tmp_path), clock=ManualClock(1))
    try:
        watch = None
        for _ in range(refreshes):
            platform._refresh_health()
            watch = platform._backup_watch
            watch._next = 0.0  # as if a minute had passed since the last look
        assert watch is not None
        return [a.message for a in platform.alerts.list() if a.kind == "backup_age"]
    finally:
        asyncio.run(platform.stop())


def test_one_alert_for_a_stale_backup(tmp_path: Path) -> None:
    _old_backup(tmp_path / "backups", hours=30)
    alerts = _alerts(tmp_path, refreshes=5)
    assert len(alerts) == 1 and "30.0 h old" in alerts[0]


def test_no_alert_before_the_first_backup(tmp_path: Path) -> None:
    assert _alerts(tmp_path, refreshes=3) == []
