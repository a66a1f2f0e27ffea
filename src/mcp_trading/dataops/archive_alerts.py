"""Archived alerts: the lines of `alerts.log` older than the date, moved to
`<data_dir>/archive/alerts.jsonl`.

    archive_alerts(log_file, directory, before_ns, dry_run=False) -> lines moved (or to move)
    read_archived(directory)       the archived lines, oldest first
    merge_archived(current, staged)
                                   a restore's staged archive directory keeps every alert
                                   line the archive here holds (alerts are the audit trail,
                                   not state: a restore never rolls them back)

A run holds `alerts.log`'s writer lock (platform.alert_center.alerts_lock) from reading the
file to replacing it, so no line the platform appends meanwhile is lost. The moved lines are
appended to the archive and fsynced *before* alerts.log is replaced by the lines that stay:
a crash in between leaves them in both, and the next run appends only what the archive does
not hold yet (counted as a multiset) — nothing lost, nothing archived twice. A line cut short
by a crash at the archive's end is dropped before appending (its line is still hot). Lines
without a readable `ts` stay in alerts.log.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mcp_trading.platform.alert_center import alerts_lock

__all__ = ["ALERTS_ARCHIVE", "archive_alerts", "merge_archived", "read_archived"]

ALERTS_ARCHIVE = "alerts.jsonl"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ts_ns(line: str) -> int | None:
    """The line's `ts` in ns since the epoch (None: not an alert line we can date)."""
    try:
        row = json.loads(line)
        when = datetime.fromisoformat(str(row["ts"]).replace("Z", "+00:00"))
    except (ValueError, TypeError, KeyError):
        return None
    if when.tzinfo is None:
        return None
    return (when - _EPOCH) // timedelta(microseconds=1) * 1_000


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _complete_lines(path: Path) -> list[str]:
    """The archive's whole lines; a last line cut short by a crash is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with path.open("r+b") as fh:
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
        data = data[:keep]
    return data.decode("utf-8", errors="replace").splitlines()


def _not_in(lines: list[str], held: list[str]) -> list[str]:
    """`lines` less those `held` already has, counted as a multiset, in their order."""
    wanted = Counter(lines) - Counter(held)
    out = []
    for line in lines:
        if wanted[line] > 0:
            wanted[line] -= 1
            out.append(line)
    return out


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))
        fh.flush()
        os.fsync(fh.fileno())
    _fsync_dir(path.parent)


def _replace(path: Path, lines: list[str]) -> None:
    tmp = path.with_name(path.name + ".archiving")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def archive_alerts(log_file: Path, directory: Path, before_ns: int, *,
                   dry_run: bool = False) -> int:
    """Move the alert lines dated before `before_ns` into the archive; return their count."""
    if not log_file.exists():
        return 0
    with alerts_lock(log_file):
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
        old: list[str] = []
        keep: list[str] = []
        for line in lines:
            ts = _ts_ns(line)
            (old if ts is not None and ts < before_ns else keep).append(line)
        if dry_run or not old:
            return len(old)
        directory.mkdir(parents=True, exist_ok=True)
        archive = directory / ALERTS_ARCHIVE
        new = _not_in(old, _complete_lines(archive))
        if new:
            _append(archive, new)
        _replace(log_file, keep)
    return len(old)


def read_archived(directory: Path) -> list[str]:
    path = directory / ALERTS_ARCHIVE
    return path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() \
        else []


def merge_archived(current: Path, staged: Path) -> int:
    """Append to the staged archive's alerts the lines only the current archive holds."""
    here = read_archived(current)
    if not here:
        return 0
    staged.mkdir(parents=True, exist_ok=True)
    target = staged / ALERTS_ARCHIVE
    extra = _not_in(here, _complete_lines(target))
    if extra:
        _append(target, extra)
    return len(extra)
