"""The backups in a directory (`backup list`), the last verified one (health), retention.

Retention after each backup: the newest *verified* backup of each of the `keep_daily` most
recent days (UTC) that have one, and of each of the `keep_weekly` most recent ISO weeks,
are kept; every other verified backup is deleted, and so is every failed backup older than
the newest verified one (a failed one newer than it stays for inspection). `.partial`
leftovers are the backup command's own business (it clears them under its lock).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcp_trading.dataops.manifest import BackupInvalidError, read_manifest

__all__ = ["BackupEntry", "last_verified", "list_backups", "prune"]

BackupEntry = dict[str, Any]


def _when(manifest: dict[str, Any]) -> datetime:
    stamp = manifest.get("ended_at") or manifest.get("started_at")
    try:
        return datetime.fromisoformat(str(stamp))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


def list_backups(root: Path) -> list[BackupEntry]:
    """Every complete backup (directory or .tar) in `root`, oldest first; unreadable ones
    are listed with status "invalid" and the reason."""
    if not root.is_dir():
        return []
    out: list[BackupEntry] = []
    for path in sorted(root.iterdir()):
        if not path.name.startswith("backup-") or path.name.endswith(".partial"):
            continue
        if not (path.is_dir() or path.name.endswith(".tar")):
            continue
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) \
            if path.is_dir() else path.stat().st_size
        try:
            manifest = read_manifest(path)
        except BackupInvalidError as exc:
            out.append({"name": path.name, "path": str(path), "status": "invalid",
                        "detail": str(exc), "size": size, "ended_at": None,
                        "journal_last_seq": None, "when": datetime.fromtimestamp(
                            path.stat().st_mtime, UTC)})
            continue
        out.append({"name": manifest["name"], "path": str(path), "status": manifest["status"],
                    "size": size, "ended_at": manifest.get("ended_at"),
                    "journal_last_seq": manifest.get("journal_last_seq"),
                    "deployment": manifest.get("deployment"), "when": _when(manifest)})
    out.sort(key=lambda e: e["when"])
    return out


def last_verified(root: Path) -> BackupEntry | None:
    verified = [e for e in list_backups(root) if e["status"] == "verified"]
    return verified[-1] if verified else None


def _day(when: datetime) -> Any:
    return when.date()


def _week(when: datetime) -> Any:
    return tuple(when.isocalendar())[:2]


def prune(root: Path, keep_daily: int, keep_weekly: int) -> list[str]:
    """Apply the retention; the names deleted."""
    entries = list_backups(root)
    verified = [e for e in entries if e["status"] == "verified"]
    keep: set[str] = set()
    for period_of, count in ((_day, keep_daily), (_week, keep_weekly)):
        newest: dict[Any, BackupEntry] = {}
        for e in verified:  # oldest first: the last one of each period wins
            newest[period_of(e["when"])] = e
        for period in sorted(newest)[-count:] if count else []:
            keep.add(newest[period]["path"])
    newest_ok = verified[-1]["when"] if verified else None
    deleted = []
    for e in entries:
        stale_failure = e["status"] != "verified" and newest_ok is not None and \
            e["when"] < newest_ok
        if (e["status"] == "verified" and e["path"] not in keep) or stale_failure:
            path = Path(e["path"])
            _remove(path)
            deleted.append(e["name"])
    return deleted


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
