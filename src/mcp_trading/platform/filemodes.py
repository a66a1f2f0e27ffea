"""Private files: the data directory and what holds keys or secrets are the platform user's only.

The data directory holds the SQLite store (API key hashes, the journal), the logs (actors,
key ids, order flow), the PID file and the emergency log. Two rules keep them private:

- `restrict_umask()` runs first in every `mcp-trading` process, so whatever it or its children
  create (SQLite and its -wal/-shm files, log files, the PID file, `platform.out`) is born
  private. A umask that already hides everything from "other" is the operator's choice and is
  kept (the shipped systemd units say `UMask=0027` with `Group=mcp-trading`: group-readable,
  0750 directories and 0640 files); anything looser (the usual 0022) becomes 0077.
- `secure_data_dir()` creates the data and log directories with those modes and tightens what
  an older version left readable (the directories themselves and the files directly in
  them), so an upgrade does not keep 0644 key hashes. The directory mode is what protects
  the rest: nobody outside it can traverse into a 0700/0750 directory.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from mcp_trading.config import Settings

__all__ = ["PRIVATE_UMASK", "current_umask", "restrict_umask", "secure_data_dir", "secure_dir"]

PRIVATE_UMASK = 0o077
_OTHER = 0o007
_GROUP_WRITE = 0o020


def current_umask() -> int:
    """The process umask (read by setting and restoring it: call at start, not from threads)."""
    mask = os.umask(PRIVATE_UMASK)
    os.umask(mask)
    return mask


def restrict_umask() -> int:
    """Make files this process creates private; returns the umask now in force.

    Keeps a umask that already masks every "other" bit (adding group-write), else 0077.
    """
    mask = current_umask()
    new = mask | _GROUP_WRITE if mask & _OTHER == _OTHER else PRIVATE_UMASK
    os.umask(new)
    return new


def _tighten(path: Path, mode: int) -> None:
    """Clear the permission bits `mode` does not allow (never widens a stricter mode)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            return  # a symlink's target is not ours to change
        current = stat.S_IMODE(st.st_mode)
        if current & ~mode:
            path.chmod(current & mode)


def secure_dir(directory: Path) -> None:
    """Create `directory` (and parents) and make it and the files directly in it private.

    Modes follow the umask in force (see `restrict_umask`): 0700/0600, or 0750/0640 under
    the systemd units' `UMask=0027`.
    """
    mask = current_umask() | _GROUP_WRITE
    if mask & _OTHER != _OTHER:
        mask = PRIVATE_UMASK  # never leave the data readable by everyone, whatever the caller
    allowed = 0o777 & ~mask  # 0700 or 0750; files keep only those of their bits (0644 -> 0600)
    directory.mkdir(parents=True, exist_ok=True, mode=allowed)
    _tighten(directory, allowed)
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False):
                _tighten(Path(entry.path), allowed)


def secure_data_dir(settings: Settings) -> None:
    """Create the data and log directories private and tighten what is already in them."""
    secure_dir(settings.data_dir)
    secure_dir(settings.resolved_log_dir)
