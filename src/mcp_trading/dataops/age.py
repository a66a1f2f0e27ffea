"""The age of the last verified backup: a health check, and an alert that fires once.

    backup_check(backup_dir, max_age_hours) -> {"check", "status", "detail", "age_h"}
        healthy: the last verified backup is at most max_age_hours old, or there has never
        been one (a platform never backed up is not degraded: there is nothing to be late
        with); degraded: it is older. Never a reason to refuse a resume (it is not among the
        comprehensive checks of platform/health.py).
    BackupAgeWatch(backup_dir, max_age_hours).poll() -> alert message | None
        the message once when the backup becomes too old; re-armed by a newer backup.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcp_trading.dataops.retention import last_verified

__all__ = ["BackupAgeWatch", "backup_check"]


def backup_check(backup_dir: Path, max_age_hours: float, now: datetime | None = None
                 ) -> dict[str, Any]:
    entry = last_verified(backup_dir)
    if entry is None:
        return {"check": "backup", "status": "healthy", "age_h": None,
                "detail": f"never backed up (no verified backup in {backup_dir})"}
    age_h = ((now or datetime.now(UTC)) - entry["when"]).total_seconds() / 3600
    late = age_h > max_age_hours
    return {"check": "backup", "status": "degraded" if late else "healthy",
            "age_h": round(age_h, 2), "name": entry["name"],
            "detail": f"last verified backup {entry['name']} is {age_h:.1f} h old"
                      + (f" (over {max_age_hours:g} h: run `mcp-trading backup`)" if late
                         else "")}


class BackupAgeWatch:
    """Polled by the platform (at most every `interval_s`); says once when to alert."""

    def __init__(self, backup_dir: Path, max_age_hours: float, *, interval_s: float = 60.0
                 ) -> None:
        self.backup_dir = backup_dir
        self.max_age_hours = max_age_hours
        self.interval_s = interval_s
        self._next = 0.0
        self._alerted_for: str | None = None  # the backup name the alert was about

    def poll(self, now_monotonic: float | None = None) -> str | None:
        now = time.monotonic() if now_monotonic is None else now_monotonic
        if now < self._next:
            return None
        self._next = now + self.interval_s
        try:
            check = backup_check(self.backup_dir, self.max_age_hours)
        except OSError:
            return None
        if check["status"] != "degraded":
            self._alerted_for = None
            return None
        if self._alerted_for == check["name"]:
            return None
        self._alerted_for = check["name"]
        return str(check["detail"])
