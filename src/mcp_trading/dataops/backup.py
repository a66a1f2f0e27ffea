"""`mcp-trading backup`: a consistent, compressed, *verified* copy of every store.

    run_backup(settings, to=None, archive=False, progress=None) -> manifest (dict)

Steps, each timed into manifest["phases"]:

    copy      the reports database first, then the journal (so the projection's checkpoint
              is never past the journal copy), then history: SQLite through the online backup
              API (the platform keeps trading), PostgreSQL through `pg_dump -Fc` (one
              snapshot); then each SQLite copy zstd-compressed into files/, sha256 on the way;
              then the archived journal (<data_dir>/archive: index, SHA256SUMS, the segments
              the index lists) into files/archive/ as they are — all under the archive run's
              lock, so segments + the hot journal copy are one gapless journal
    extras    the strategy files (MCP_TRADING_STRATEGY_DIR) and the settings without secrets
    verify    checksums re-read from disk; a test restore into a scratch location (a scratch
              directory, or a scratch PostgreSQL database); the live state at the copy's last
              seq (the live store's snapshot at or below it + its journal up to it) against a
              full replay of the restored copy; projection tables against the replay
    finish    manifest.json written (status verified/failed), the `<name>.partial` directory
              renamed to `<name>` (or packed into `<name>.tar`, also via a .partial name):
              a backup killed at any point leaves only a `.partial`, never listed or restored

A failed verification still finishes the backup, marked failed (for inspection); the CLI
exits non-zero and health keeps counting from the last verified one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tarfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcp_trading import __version__
from mcp_trading.adapters.store.migrate import current_revision
from mcp_trading.config import Settings
from mcp_trading.dataops import copies, pgadmin
from mcp_trading.dataops.archive import archive_dir
from mcp_trading.dataops.archive_copy import archive_quiet, copy_archive
from mcp_trading.dataops.manifest import FORMAT, write_manifest
from mcp_trading.dataops.retention import prune
from mcp_trading.dataops.sources import Source, settings_without_secrets, sources_of
from mcp_trading.dataops.verify import verify_backup
from mcp_trading.domain.errors import ConflictError

__all__ = ["BackupBusyError", "Progress", "backup_lock", "run_backup"]

#: progress(phase, done, total): bytes (or steps) of the current phase
Progress = Callable[[str, int, int], None]
PARTIAL = ".partial"


class BackupBusyError(ConflictError):
    """Another backup is writing into the same directory."""


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def backup_lock(root: Path) -> Iterator[None]:
    """One backup or restore per backup directory at a time (an flock the kernel drops when
    the holder dies, kill -9 included)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupBusyError(f"another backup or restore is using {root}; wait for it "
                                  "to finish (or point --to elsewhere)") from None
        yield


def _clean_leftovers(root: Path) -> list[str]:
    """Delete what killed backups left (safe: we hold the lock, so their writers are gone)."""
    removed = []
    for path in root.iterdir():
        if path.name.endswith(PARTIAL) or path.name.startswith(".verify-"):
            _remove(path)
            removed.append(path.name)
    return removed


def run_backup(settings: Settings, to: Path | None = None, *, archive: bool = False,
               progress: Progress | None = None) -> dict[str, Any]:
    from mcp_trading.dataops.swap import finish_swap

    finish_swap(settings)  # never back up a half-swapped restore
    root = (to or settings.resolved_backup_dir).resolve()
    with backup_lock(root):
        _clean_leftovers(root)
        sources = sources_of(settings)
        if any(src.kind == "postgres" for src in sources):
            pgadmin.drop_scratch(settings.resolved_database_url)
        started = _now()
        name = "backup-" + started.strftime("%Y%m%dT%H%M%S%fZ")
        work = root / (name + PARTIAL)
        (work / "files").mkdir(parents=True)
        manifest: dict[str, Any] = {
            "format": FORMAT, "name": name, "status": "unverified",
            "platform_version": __version__, "deployment": settings.deployment,
            "schema_revision": current_revision(settings.resolved_database_url),
            "journal_last_seq": None, "started_at": started.isoformat(),
            "compression": copies.CODEC, "files": [], "phases": {}}
        phases: dict[str, float] = manifest["phases"]
        clock = time.perf_counter()
        # the archive run's lock: no segment is written nor hot row deleted between the
        # journal copy and the archive copy (segments + hot journal are one journal)
        if progress is not None:
            progress("waiting for an archive run", 0, 1)
        with archive_quiet(archive_dir(settings)):
            for source in sources:
                manifest["files"].append(_copy(source, work, progress))
            archived, manifest["archive"] = copy_archive(archive_dir(settings), work)
            manifest["files"].extend(archived)
        phases["copy"] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()
        manifest["files"].extend(_extras(settings, work))
        phases["extras"] = round(time.perf_counter() - clock, 3)
        write_manifest(work, manifest)
        clock = time.perf_counter()
        verification = verify_backup(work, manifest, settings, progress=progress)
        phases["verify"] = round(time.perf_counter() - clock, 3)
        manifest["status"] = "verified" if verification["ok"] else "failed"
        manifest["verification"] = verification
        manifest["ended_at"] = _now().isoformat()
        clock = time.perf_counter()
        write_manifest(work, manifest)
        final = _finish(work, root / name, archive=archive)
        phases["finish"] = round(time.perf_counter() - clock, 3)
        manifest["path"] = str(final)
        if manifest["status"] == "verified":
            manifest["pruned"] = prune(root, settings.backup_keep_daily,
                                       settings.backup_keep_weekly)
        return manifest


def _copy(source: Source, work: Path, progress: Progress | None) -> dict[str, Any]:
    files = work / "files"
    entry: dict[str, Any] = {"role": source.role, "kind": source.kind,
                             "roles": list(source.roles), "name": source.name}
    if source.kind == "postgres":
        target = files / f"{source.name}.dump"
        if progress is not None:
            progress(f"pg_dump {source.name}", 0, 1)
        copies.pg_dump(source.url, target)
        entry.update(path=f"files/{target.name}", size=target.stat().st_size,
                     sha256=_sha(target), database=source.name,
                     compression="pg_dump custom format (its own zlib)")
        return entry
    assert source.path is not None
    raw = work / f"{source.name}.copy"
    copies.sqlite_copy(source.path, raw)
    total = raw.stat().st_size
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(f"compress {source.name}", done, total)

    target = files / f"{source.name}.zst"
    entry.update(copies.compress_file(raw, target, step), path=f"files/{target.name}",
                 compression=copies.CODEC)
    raw.unlink()
    return entry


def _sha(path: Path) -> str:
    from mcp_trading.dataops.manifest import sha256_file

    return sha256_file(path)


def _extras(settings: Settings, work: Path) -> list[dict[str, Any]]:
    """The settings (secrets left out) and the strategy files: what a restore needs that is
    in no database."""
    import json

    out: list[dict[str, Any]] = []
    target = work / "files" / "settings.json"
    target.write_text(json.dumps(settings_without_secrets(settings), indent=2, sort_keys=True))
    out.append({"role": "settings", "kind": "file", "path": "files/settings.json"})
    strategy_dir = settings.strategy_dir
    if strategy_dir is not None and strategy_dir.is_dir():
        for path in sorted(strategy_dir.rglob("*.py")):
            rel = path.relative_to(strategy_dir)
            dest = work / "files" / "strategies" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
            out.append({"role": "strategy", "kind": "file", "path": f"files/strategies/{rel}"})
    for entry in out:
        path = work / str(entry["path"])
        entry["size"] = path.stat().st_size
        entry["sha256"] = _sha(path)
    return out


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _finish(work: Path, final: Path, *, archive: bool) -> Path:
    """Make the backup visible in one rename (after everything in it is on disk)."""
    if archive:
        tmp = final.with_name(final.name + ".tar" + PARTIAL)
        with tarfile.open(tmp, "w") as tar:  # the files are compressed already
            tar.add(work, arcname=final.name)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        target = final.with_name(final.name + ".tar")
        tmp.replace(target)
        shutil.rmtree(work)
    else:
        for path in work.rglob("*"):
            if path.is_dir():
                _fsync_dir(path)
        work.replace(final)
        target = final
    _fsync_dir(final.parent)
    return target


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
