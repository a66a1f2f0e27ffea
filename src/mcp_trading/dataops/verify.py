"""Verification of a backup: checksums from disk, a test restore, the semantic checks.

    materialize(directory, manifest, scratch, pg_url, pg_database) -> {role: url}
        the backup's stores made real again: SQLite files unpacked into `scratch` (their
        unpacked sha256 checked too), a PostgreSQL dump restored into `pg_database` (which
        this creates on the server of `pg_url`), the archived journal's segments copied
        into `scratch`/archive (its path as urls["archive"]). Restore uses it for its new
        location.
    verify_backup(directory, manifest, settings) -> {"ok", "checks", "seconds"}
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp_trading.config import Settings
from mcp_trading.dataops import checks, copies, pgadmin
from mcp_trading.dataops.archive_copy import archive_checks, materialize_archive
from mcp_trading.dataops.checks import CheckResult
from mcp_trading.dataops.manifest import file_problems

__all__ = ["materialize", "stores_checks", "verify_backup"]

Progress = Callable[[str, int, int], None]


def materialize(directory: Path, manifest: dict[str, Any], scratch: Path, *, pg_url: str | None,
                pg_database: str | None, progress: Progress | None = None) -> dict[str, str]:
    urls: dict[str, str] = {}
    for entry in manifest["files"]:
        if entry["kind"] == "sqlite":
            scratch.mkdir(parents=True, exist_ok=True)
            target = scratch / entry["name"]
            done = 0

            def step(n: int, name: str = entry["name"], total: int = entry["raw_size"]) -> None:
                nonlocal done
                done += n
                if progress is not None:
                    progress(f"unpack {name}", done, total)

            size, sha = copies.decompress_file(directory / entry["path"], target, step)
            if (size, sha) != (entry["raw_size"], entry["raw_sha256"]):
                raise copies.CopyError(f"{entry['path']}: unpacks to {size} bytes with another "
                                       "sha256 than the one copied (corrupted)")
            url = f"sqlite:///{target}"
        elif entry["kind"] == "postgres":
            if pg_url is None or pg_database is None:
                raise copies.CopyError("the backup holds a PostgreSQL dump but no PostgreSQL "
                                       "server is configured (DATABASE_URL)")
            if progress is not None:
                progress(f"pg_restore {entry['name']}", 0, 1)
            pgadmin.create_database(pg_url, pg_database)
            copies.pg_restore(pg_url, pg_database, directory / entry["path"])
            url = pgadmin.with_database(pg_url, pg_database)
        else:
            continue
        for role in entry["roles"]:
            urls[role] = url
    archive = materialize_archive(directory, manifest, scratch / "archive")
    if archive is not None:
        urls["archive"] = str(archive)
    return urls


def stores_checks(urls: dict[str, str], expected: dict[str, Any] | None) -> list[CheckResult]:
    if "journal" not in urls:
        return [CheckResult("journal-present", False, "the backup holds no journal")]
    results = checks.copy_checks(urls["journal"], urls.get("reports"), expected)
    if "archive" in urls:  # the archived journal: intact, and the hot journal continues it
        results.extend(archive_checks(Path(urls["archive"]), urls["journal"]))
    return results


def verify_backup(directory: Path, manifest: dict[str, Any], settings: Settings,
                  progress: Progress | None = None) -> dict[str, Any]:
    """Verify a backup being written (fills manifest journal_last_seq and live_state)."""
    started = time.perf_counter()
    results: list[CheckResult] = []
    problems = file_problems(directory, manifest)
    results.append(CheckResult("checksums", not problems, "; ".join(problems) or
                               f"{len(manifest['files'])} files re-read, sha256 match"))
    scratch = directory.parent / f".verify-{manifest['name']}"
    pg_url = settings.resolved_database_url
    pg_db = None
    if any(e["kind"] == "postgres" for e in manifest["files"]):
        pg_db = f"{pgadmin.database_of(pg_url)}_verify_{uuid.uuid4().hex[:8]}"
    try:
        if not problems:
            results.extend(_restore_and_check(directory, manifest, settings, scratch=scratch,
                                              pg_db=pg_db, progress=progress))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if pg_db is not None:
            pgadmin.drop_database(pg_url, pg_db)
    return {"ok": all(r.ok for r in results), "checks": [r.as_dict() for r in results],
            "seconds": round(time.perf_counter() - started, 3)}


def _restore_and_check(directory: Path, manifest: dict[str, Any], settings: Settings, *,
                       scratch: Path, pg_db: str | None, progress: Progress | None
                       ) -> list[CheckResult]:
    try:
        urls = materialize(directory, manifest, scratch, pg_url=settings.resolved_database_url,
                           pg_database=pg_db, progress=progress)
    except copies.CopyError as exc:
        return [CheckResult("test-restore", False, str(exc))]
    out = [CheckResult("test-restore", True, f"restored {len(urls)} stores into a scratch "
                       "location")]
    if "journal" not in urls:
        return [*out, CheckResult("journal-present", False, "the backup holds no journal")]
    seq = checks.journal_last_seq(urls["journal"])
    manifest["journal_last_seq"] = seq
    if progress is not None:
        progress("checks", 0, 1)
    live = checks.live_digest(settings.resolved_database_url, seq)
    manifest["live_state"] = live
    return [*out, *stores_checks(urls, live)]
