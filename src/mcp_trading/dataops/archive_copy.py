"""The archived journal (`<data_dir>/archive/`) in backups: copied, checked, put back.

    archive_quiet(directory, wait=True)  the archive run's own lock (`.archive.lock`), held
                                         by a backup while it copies the journal and the
                                         segments (no archive run moves rows meanwhile) and
                                         by a restore while it swaps (wait=False: refuse)
    copy_archive(directory, work)        the index, SHA256SUMS, every segment the index lists
                                         and the archived alerts (alerts.jsonl) into
                                         work/files/archive/ -> manifest entries
                                         (kind "archive", with size and sha256) and a summary
    materialize_archive(backup, manifest, target)
                                         the backed-up archive files into `target`
    archive_checks(archive, journal_url) the segments' checksums and gaps (integrity's
                                         check), and the hot journal continuing them
                                         exactly: no event missing between the two

Segments are compressed already (zstd, checksummed): a backup copies them as they are.
"""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import journal
from mcp_trading.dataops import segments
from mcp_trading.dataops.archive_alerts import ALERTS_ARCHIVE
from mcp_trading.dataops.checks import CheckResult
from mcp_trading.dataops.manifest import sha256_file
from mcp_trading.domain.errors import ConflictError
from mcp_trading.kernel.ports import JournalRecord

__all__ = ["ARCHIVE_KIND", "ArchiveBusyError", "archive_checks", "archive_quiet",
           "copy_archive", "materialize_archive"]

ARCHIVE_KIND = "archive"
_SUMS = "SHA256SUMS"


class ArchiveBusyError(ConflictError):
    """An archive run holds the archive directory."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="ARCHIVE_RUNNING")


@contextmanager
def archive_quiet(directory: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the archive run's lock (the kernel drops it when the holder dies)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".archive.lock", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveBusyError(f"an archive run is using {directory}; wait for it to "
                                   "finish, then run this again") from None
        yield


def _entry(path: Path, rel: str, role: str) -> dict[str, Any]:
    return {"role": role, "kind": ARCHIVE_KIND, "roles": [], "name": path.name,
            "path": rel, "size": path.stat().st_size, "sha256": sha256_file(path)}


def copy_archive(directory: Path, work: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Copy the index, then the segments it lists (call under `archive_quiet`)."""
    infos = segments.load_index(directory)  # SegmentError for an unreadable index
    summary: dict[str, Any] = {"segments": len(infos),
                               "first_seq": infos[0].first_seq if infos else None,
                               "last_seq": infos[-1].last_seq if infos else 0}
    alerts = directory / ALERTS_ARCHIVE
    if not infos and not alerts.exists():
        return [], summary
    dest = work / "files" / "archive"
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    if alerts.exists():  # appended only by an archive run, which waits for this copy
        shutil.copyfile(alerts, dest / ALERTS_ARCHIVE)
        out.append(_entry(dest / ALERTS_ARCHIVE, f"files/archive/{ALERTS_ARCHIVE}",
                          "archive-alerts"))
    for name in (segments.INDEX_NAME, _SUMS):
        if (directory / name).exists():
            shutil.copyfile(directory / name, dest / name)
            out.append(_entry(dest / name, f"files/archive/{name}", "archive-index"))
    for info in infos:
        target = dest / info.file
        try:
            shutil.copyfile(directory / info.file, target)
        except OSError as exc:
            raise segments.SegmentError(f"segment {info.file} listed in the index cannot be "
                                        f"read ({exc.strerror}); run `mcp-trading verify`"
                                        ) from None
        entry = _entry(target, f"files/archive/{info.file}", "archive-segment")
        if entry["sha256"] != info.sha256:
            raise segments.SegmentError(f"segment {info.file} differs from its index entry "
                                        "(damaged); the backup would copy a bad archive — "
                                        "run `mcp-trading verify`")
        out.append(entry)
    return out, summary


def materialize_archive(backup: Path, manifest: dict[str, Any], target: Path) -> Path | None:
    """The backed-up archive files copied into `target` (None when the backup has none)."""
    entries = [e for e in manifest["files"] if e["kind"] == ARCHIVE_KIND]
    if not entries:
        return None
    target.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        shutil.copyfile(backup / entry["path"], target / entry["name"])
    return target


def _first_hot_event(url: str) -> int | None:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            low = conn.execute(select(func.min(journal.c.seq))).scalar()
            if low is None:
                return None
            row = conn.execute(select(journal.c.seq, journal.c.kind, journal.c.ts,
                                      journal.c.payload).where(journal.c.seq == low)).one()
    finally:
        engine.dispose()
    return segments.first_event_seq(JournalRecord(row[0], row[1], row[2], bytes(row[3])))


def archive_checks(archive: Path, journal_url: str) -> list[CheckResult]:
    """The archive's segments intact and gapless, and the hot journal continuing them."""
    problems, events, last = segments.segment_problems(archive)
    out = [CheckResult("archive-segments", not problems, "; ".join(problems) or
                       f"{len(segments.load_index(archive))} segments, {events} events, "
                       f"seqs 1..{last}, checksums equal")]
    first = _first_hot_event(journal_url)
    if first is None:
        ok, detail = True, f"hot journal empty; the archive ends at {last}"
    else:
        ok = first <= last + 1
        detail = (f"the hot journal starts at seq {first}, the archive ends at {last}"
                  + ("" if ok else f": events {last + 1}..{first - 1} are in neither"))
    out.append(CheckResult("archive-continues", ok, detail))
    return out
