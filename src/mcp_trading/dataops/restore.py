"""`mcp-trading restore BACKUP|latest`: check first, restore aside, swap in, keep a rollback.

    run_restore(settings, "latest" | path | name) -> report (dict)

1. The backup (directory or .tar) is resolved and its manifest and *every* file checked
   (present, size, sha256) and its status must be `verified`; anything wrong raises
   BackupInvalidError naming it, before anything is touched.
2. Its stores are restored into a new location: SQLite files unpacked into
   <data_dir>/.restore-<stamp>/, a PostgreSQL dump into a new database <db>_restore_<stamp>.
   The same checks as the backup's verification run there (journal contiguity, replay ==
   the manifest's live state, projection == replay); a failure deletes the new location and
   raises RestoreFailedError — the current data is still untouched.
3. Swap, atomically as a set (dataops/swap.py): every restored file is staged beside its
   target and a swap plan written — the commit point — listing the moves: each current
   SQLite file (with its -wal/-shm) into <data_dir>/rollback-<stamp>/, each restored one onto
   its place, the archived journal (<data_dir>/archive, under the archive run's lock) the
   same way (a backup that predates it, no "archive" in its manifest, leaves the one here;
   the alert lines archived here since the backup are merged in: dataops.archive_alerts),
   and PostgreSQL's rename of <db> to <db>_rollback_<stamp> and the restored database to <db>
   (one transaction). A crash after the commit point is finished at the next start (or
   restore, backup, verify...); an error undoes the moves made. Old set or new, never a mix.
   Then the swapped-in SQLite files' sha256 must be the checked copies', the journal in
   place must end at the backup's seq without a gap, and the verification's checks run
   again on the stores in place (replay == live state, projection == replay, the archive in
   place intact and continued by the hot journal): the platform's state is the backup's.

The caller (the CLI) makes sure the platform is not running: see cli/backup.py.
"""

from __future__ import annotations

import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from mcp_trading.config import Settings
from mcp_trading.dataops import checks, pgadmin, swap
from mcp_trading.dataops.archive import archive_dir
from mcp_trading.dataops.archive_alerts import merge_archived
from mcp_trading.dataops.archive_copy import archive_quiet
from mcp_trading.dataops.backup import Progress, backup_lock
from mcp_trading.dataops.checks import CheckResult
from mcp_trading.dataops.copies import CopyError, sqlite_path
from mcp_trading.dataops.manifest import (
    BackupInvalidError,
    file_problems,
    read_manifest,
    sha256_file,
)
from mcp_trading.dataops.retention import last_verified
from mcp_trading.dataops.sources import url_of_role
from mcp_trading.dataops.verify import materialize, stores_checks
from mcp_trading.domain.errors import ConflictError, NotFoundError

__all__ = ["RestoreFailedError", "check_backup", "opened", "resolve_backup", "run_restore"]


class RestoreFailedError(ConflictError):
    """The restored copy failed its checks; the current data was left as it was."""


def resolve_backup(settings: Settings, spec: str) -> Path:
    root = settings.resolved_backup_dir
    if spec == "latest":
        entry = last_verified(root)
        if entry is None:
            raise NotFoundError(f"no verified backup in {root}; take one with `mcp-trading "
                                "backup` or name a backup path", field="backup")
        return Path(entry["path"])
    for candidate in (Path(spec), root / spec):
        if candidate.exists():
            return candidate.resolve()
    raise NotFoundError(f"backup {spec!r} not found (as a path or in {root}); "
                        "`mcp-trading backup list` shows them", field="backup")


@contextmanager
def opened(path: Path, scratch_parent: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The backup as a directory and its manifest (a .tar is unpacked into a scratch dir)."""
    manifest = read_manifest(path)
    if path.is_dir():
        yield path, manifest
        return
    scratch_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=scratch_parent))
    try:
        try:
            with tarfile.open(path) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise BackupInvalidError(f"{path}: cannot unpack ({exc}); nothing was touched",
                                     field="backup") from None
        inner = [p for p in tmp.iterdir() if p.is_dir()]
        yield (inner[0] if len(inner) == 1 else tmp), manifest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_backup(directory: Path, manifest: dict[str, Any]) -> None:
    """Refuse an unverified, incomplete or corrupted backup, naming every problem."""
    problems = []
    if manifest["status"] != "verified":
        problems.append(f"its status is {manifest['status']!r}, not 'verified' (its "
                        "verification failed or never finished)")
    problems.extend(file_problems(directory, manifest))
    if problems:
        raise BackupInvalidError(f"backup {manifest['name']} refused: " + "; ".join(problems)
                                 + ". Nothing was touched; pick another with `mcp-trading "
                                 "backup list`", field="backup")


def _check_fits(settings: Settings, manifest: dict[str, Any]) -> None:
    journal = next((e for e in manifest["files"] if "journal" in e.get("roles", [])), None)
    if journal is None:
        raise BackupInvalidError(f"backup {manifest['name']} holds no journal", field="backup")
    here = "postgres" if sqlite_path(settings.resolved_database_url) is None else "sqlite"
    if journal["kind"] != here:
        raise BackupInvalidError(
            f"backup {manifest['name']} holds a {journal['kind']} journal but this platform's "
            f"DATABASE_URL is {here}; restore it with the settings it was taken under "
            f"(deployment {manifest.get('deployment')})", field="backup")


def run_restore(settings: Settings, spec: str, progress: Progress | None = None
                ) -> dict[str, Any]:
    swap.finish_swap(settings)  # a restore killed mid-swap is finished first
    path = resolve_backup(settings, spec)
    data_dir = settings.data_dir.resolve()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with backup_lock(settings.resolved_backup_dir), opened(path, data_dir) as (directory,
                                                                                manifest):
        _clear_leftovers(data_dir)
        check_backup(directory, manifest)
        _check_fits(settings, manifest)
        new_dir = data_dir / f".restore-{stamp}"
        pg_url = settings.resolved_database_url
        has_pg = any(e["kind"] == "postgres" for e in manifest["files"])
        new_db = f"{pgadmin.database_of(pg_url)}_restore_{stamp.lower()}" if has_pg else None
        if has_pg:
            pgadmin.drop_scratch(pg_url)  # what a killed backup or restore left
        try:
            urls = materialize(directory, manifest, new_dir, pg_url=pg_url,
                               pg_database=new_db, progress=progress)
            results = stores_checks(urls, manifest.get("live_state"))
        except (CopyError, OSError) as exc:
            _discard(new_dir, pg_url, new_db)
            raise RestoreFailedError(f"restoring {manifest['name']} failed: {exc}; the "
                                     "current data is untouched") from None
        failed = [r for r in results if not r.ok]
        if failed:
            _discard(new_dir, pg_url, new_db)
            raise RestoreFailedError(
                f"the restored copy of {manifest['name']} failed "
                + "; ".join(f"{r.name}: {r.detail}" for r in failed)
                + "; the current data is untouched")
        try:
            with archive_quiet(archive_dir(settings), wait=False):
                rollback = _swap(settings, manifest, new_dir, new_db, stamp)
        except (OSError, psycopg.Error) as exc:
            _discard(new_dir, pg_url, new_db)
            raise RestoreFailedError(f"swapping {manifest['name']} in failed ({exc}); every "
                                     "move made was undone, the current data is as it was"
                                     ) from None
        shutil.rmtree(new_dir, ignore_errors=True)
    after = _swapped_in(settings, manifest, rollback.pop("sha256"))
    return {"backup": manifest["name"], "path": str(path),
            "journal_last_seq": manifest["journal_last_seq"], "rollback": rollback,
            "checks": [r.as_dict() for r in after], "ok": all(r.ok for r in after)}


def _swapped_in(settings: Settings, manifest: dict[str, Any], checked: dict[str, str]
                ) -> list[CheckResult]:
    """The stores in place are the checked copies: each SQLite file's sha256 is the one the
    checks passed on (a rename changes no byte), the journal ends at the backup's seq with no
    gap, and the verification's semantic checks pass again on the stores in place (replay ==
    the backup's live state, projection == replay, the archive intact and continued)."""
    out = []
    for entry in manifest["files"]:
        if entry["kind"] != "sqlite":
            continue
        target = sqlite_path(url_of_role(settings, entry["roles"][0]))
        same = target is not None and sha256_file(target) == checked.get(entry["name"])
        out.append(CheckResult(f"in-place:{entry['name']}", same,
                               "identical to the verified copy" if same else
                               f"{target} differs from the verified copy"))
    journal = url_of_role(settings, "journal")
    out.append(checks.journal_contiguity(journal))
    urls = {role: url_of_role(settings, role) for entry in manifest["files"]
            if entry["kind"] in ("sqlite", "postgres") for role in entry["roles"]}
    if manifest.get("archive", {}).get("segments"):
        urls["archive"] = str(archive_dir(settings))
    out.extend(CheckResult(f"in-place:{r.name}", r.ok, r.detail)
               for r in stores_checks(urls, manifest.get("live_state")))
    seq = checks.journal_last_seq(journal)
    out.append(CheckResult("journal-last-seq", seq == manifest["journal_last_seq"],
                           f"journal ends at seq {seq} (the backup's: "
                           f"{manifest['journal_last_seq']})"))
    return out


def _clear_leftovers(data_dir: Path) -> None:
    """What a restore killed before its swap plan was written left: restored copies that were
    never swapped in (under the backup lock, so their writer is gone)."""
    for path in data_dir.glob(".restore-*"):
        shutil.rmtree(path, ignore_errors=True)


def _discard(new_dir: Path, pg_url: str, new_db: str | None) -> None:
    shutil.rmtree(new_dir, ignore_errors=True)
    if new_db is not None:
        pgadmin.drop_database(pg_url, new_db)


def _swap(settings: Settings, manifest: dict[str, Any], new_dir: Path, new_db: str | None,
          stamp: str) -> dict[str, Any]:
    """Build the swap plan (every restored file staged beside its target) and run it."""
    data_dir = settings.data_dir.resolve()
    rollback_dir = data_dir / f"rollback-{stamp}"
    steps: list[dict[str, Any]] = []
    out: dict[str, Any] = {"directory": None, "database": None, "sha256": {}}

    def keep(current: Path) -> None:
        if current.exists():
            same = current.parent.stat().st_dev == data_dir.stat().st_dev
            where = rollback_dir if same else current.parent / f"rollback-{stamp}"
            steps.append({"kind": "keep", "src": str(current), "dst": str(where / current.name)})
            out["directory"] = out["directory"] or str(where)

    for entry in manifest["files"]:
        if entry["kind"] != "sqlite":
            continue
        target = sqlite_path(url_of_role(settings, entry["roles"][0]))
        if target is None:
            raise RestoreFailedError(f"{entry['name']} is a SQLite backup but this "
                                     f"platform keeps {entry['roles'][0]} elsewhere")
        checked = new_dir / entry["name"]
        _self_contained(checked)
        out["sha256"][entry["name"]] = sha256_file(checked)  # as the checks left it
        staged = swap.stage(checked, target, stamp)
        for suffix in ("", "-wal", "-shm"):
            keep(target.with_name(target.name + suffix))
        steps.append({"kind": "place", "src": str(staged), "dst": str(target)})
    if "archive" in manifest:  # the backup's archived journal replaces the one here
        current = archive_dir(settings).resolve()
        keep(current)
        # the archived alerts are the audit trail: lines archived since the backup stay
        if merge_archived(current, new_dir / "archive") or (new_dir / "archive").is_dir():
            steps.append({"kind": "place", "src": str(swap.stage(new_dir / "archive", current,
                                                                  stamp)),
                          "dst": str(current)})
    if new_db is not None:
        url = settings.resolved_database_url
        current_db = pgadmin.database_of(url)
        out["database"] = f"{current_db}_rollback_{stamp.lower()}"
        steps.append({"pg": {"current": current_db, "new": new_db,
                             "rollback": out["database"]}})
    swap.run_plan(settings, {
        "direction": "forward", "backup": manifest["name"], "staging": str(new_dir),
        "steps": steps})
    return out


def _self_contained(path: Path) -> None:
    """Fold any -wal of the checked copy into the file, so the one file is all of it."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
