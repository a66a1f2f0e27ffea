"""A backup's `manifest.json`, and the checks that a backup on disk is complete and intact.

    {"format": 1, "name": "backup-20261202T150000Z", "status": "verified" | "failed",
     "platform_version": "...", "schema_revision": "...", "journal_last_seq": 1234,
     "deployment": "embedded" | "distributed", "started_at": ISO, "ended_at": ISO,
     "compression": "zstd",
     "files": [{"path": "files/trading.db.zst", "role": "journal", "kind": "sqlite",
                "size": n, "sha256": hex, "raw_size": n, "raw_sha256": hex, "target": name}],
     "live_state": {state digest at journal_last_seq (dataops.checks.state_digest)},
     "verification": {"ok": bool, "checks": [{"name", "ok", "detail"}], "seconds": s}}

A backup is a directory holding that manifest and its files, or the same as one tar file
(`<name>.tar`). A directory still being written is `<name>.partial`, never listed or restored.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path
from typing import Any

from mcp_trading.domain.errors import InvalidError

__all__ = [
    "FORMAT",
    "MANIFEST",
    "BackupInvalidError",
    "file_problems",
    "read_manifest",
    "sha256_file",
    "write_manifest",
]

FORMAT = 1
MANIFEST = "manifest.json"
_CHUNK = 1 << 22
_REQUIRED = ("format", "name", "status", "journal_last_seq", "files", "schema_revision")


class BackupInvalidError(InvalidError):
    """A backup is incomplete, corrupted, unverified or not a backup: nothing was touched."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Write manifest.json durably (temporary file, fsync, rename)."""
    tmp = directory / (MANIFEST + ".tmp")
    with tmp.open("w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(directory / MANIFEST)


def read_manifest(backup: Path) -> dict[str, Any]:
    """The manifest of a backup directory or tar file; BackupInvalidError when it is missing
    or not a manifest."""
    try:
        if backup.is_dir():
            text = (backup / MANIFEST).read_text()
        else:
            with tarfile.open(backup) as tar:
                member = tar.extractfile(_tar_name(tar, MANIFEST))
                if member is None:
                    raise FileNotFoundError(MANIFEST)
                text = member.read().decode()
        manifest: dict[str, Any] = json.loads(text)
    except (OSError, KeyError, tarfile.TarError, ValueError, UnicodeDecodeError) as exc:
        raise BackupInvalidError(
            f"{backup}: no readable {MANIFEST} ({type(exc).__name__}: {exc}); this is not a "
            "complete backup — pick another with `mcp-trading backup list`",
            field="backup") from None
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing or manifest.get("format") != FORMAT:
        raise BackupInvalidError(
            f"{backup}: {MANIFEST} lacks {', '.join(missing) or 'format ' + str(FORMAT)}; "
            "it was not written by a complete backup", field="backup")
    return manifest


def _tar_name(tar: tarfile.TarFile, name: str) -> str:
    """A member's name: at the top, or under the backup's own directory."""
    for member in tar.getnames():
        if member == name or (member.endswith("/" + name) and member.count("/") == 1):
            return member
    raise KeyError(name)


def file_problems(directory: Path, manifest: dict[str, Any]) -> list[str]:
    """What is wrong with the files of an (unpacked) backup: missing, wrong size, wrong
    sha256 (re-read from disk). Empty when every file is intact."""
    problems: list[str] = []
    for entry in manifest["files"]:
        path = directory / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}: missing")
            continue
        size = path.stat().st_size
        if size != entry["size"]:
            problems.append(f"{entry['path']}: {size} bytes, the manifest says {entry['size']}")
            continue
        if sha256_file(path) != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 differs from the manifest (corrupted)")
    return problems
