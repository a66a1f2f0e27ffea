"""The log files' handlers: rotated by the platform (internal) or by logrotate (external).

internal (`RotatingLogFile`): `<name>.log` is rotated when it reaches `max_bytes` or
`max_age_s` after it was opened, whichever comes first:

    writing    lines go to <name>.log
    rotating   <name>.log is renamed <name>.log.<UTC stamp> (instant, under the handler's lock)
               and a new <name>.log is opened; writing goes on at once
    archiving  a worker thread gzips the renamed file to <name>.log.<stamp>.gz, removes it,
               then deletes this name's archives older than `keep_days`

external (`ReopeningLogFile`): never renamed by the platform; reopened when logrotate moved
it (WatchedFileHandler's check before each line) and on SIGHUP, so a `create` rotation and a
`copytruncate` one (what the shipped logrotate file does) both work. One mode per process, chosen by
MCP_TRADING_LOG_ROTATION: never both on the same files.
"""

from __future__ import annotations

import gzip
import logging
import logging.handlers
import os
import shutil
import signal
import threading
import time
from pathlib import Path

__all__ = ["ReopeningLogFile", "RotatingLogFile", "archive_stamp", "install_sighup_reopen",
           "prune_archives"]

log = logging.getLogger(__name__)


def archive_stamp(ts: float) -> str:
    """The suffix of a rotated file: its UTC rotation time, sortable (20261203T084557)."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(ts))


def prune_archives(path: Path, keep_days: float, *, now: float | None = None) -> list[Path]:
    """Delete `<path>.*.gz` archives last written more than `keep_days` ago; the deleted."""
    cutoff = (time.time() if now is None else now) - keep_days * 86_400
    deleted = []
    for archive in path.parent.glob(path.name + ".*.gz"):
        try:
            if archive.stat().st_mtime < cutoff:
                archive.unlink()
                deleted.append(archive)
        except FileNotFoundError:  # another process's prune got there first
            continue
    return deleted


class RotatingLogFile(logging.handlers.BaseRotatingHandler):
    """`<name>.log` rotated by size and age, archives gzipped and kept `keep_days` (module
    docstring)."""

    def __init__(self, path: Path, *, max_bytes: int, max_age_s: float, keep_days: float) -> None:
        super().__init__(str(path), "a", encoding="utf-8", delay=False)
        self.path = path
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.keep_days = keep_days
        self._rollover_at = time.time() + max_age_s
        self._archivers: list[threading.Thread] = []
        self._reopen = False

    def request_reopen(self) -> None:
        """Reopen before the next line (SIGHUP: harmless here, and never fatal)."""
        self._reopen = True

    def shouldRollover(self, record: logging.LogRecord) -> bool:  # noqa: N802 (logging's name)
        if self._reopen and self.stream is not None:
            self._reopen = False
            self.stream.close()
            self.stream = self._open()
        if time.time() >= self._rollover_at:
            return True
        if self.stream is None:
            return False
        # the file's size, not the stream's position: a copy-truncate by hand shrinks it; the
        # line about to be written is not counted (formatting it twice per line is not worth
        # the precision), so a file ends at most one line past max_bytes
        return os.fstat(self.stream.fileno()).st_size >= self.max_bytes

    def doRollover(self) -> None:  # noqa: N802 (logging's name)
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        now = time.time()
        self._rollover_at = now + self.max_age_s
        if self.path.exists() and self.path.stat().st_size > 0:
            target = self._free_name(archive_stamp(now))
            os.replace(self.path, target)
            worker = threading.Thread(target=self._archive, args=(target,),
                                      name="log-archiver", daemon=True)
            self._archivers = [t for t in self._archivers if t.is_alive()] + [worker]
            worker.start()
        self.stream = self._open()

    def _free_name(self, stamp: str) -> Path:
        """`<name>.log.<stamp>`, with `-2`, `-3`... when two rotations share a second."""
        target, n = self.path.with_name(f"{self.path.name}.{stamp}"), 1
        while target.exists() or target.with_name(target.name + ".gz").exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.{stamp}-{n}")
        return target

    def _archive(self, rotated: Path) -> None:
        # the lifecycle writer process appends to this file too and sees the rename before its
        # next batch (it checks before each write): let that batch land before compressing
        time.sleep(0.5)
        try:
            gz = rotated.with_name(rotated.name + ".gz")
            with rotated.open("rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            rotated.unlink()
            prune_archives(self.path, self.keep_days)
        except OSError as exc:  # the uncompressed file stays; the log goes on
            log.warning("log archive of %s failed: %s", rotated.name, exc)

    def wait_archived(self, timeout: float = 30.0) -> None:
        """Wait for the archiving threads of past rotations (tests, shutdown)."""
        for worker in self._archivers:
            worker.join(timeout)

    def close(self) -> None:
        self.wait_archived()
        super().close()


class ReopeningLogFile(logging.handlers.WatchedFileHandler):
    """A file logrotate rotates: reopened when moved or on `request_reopen()` (SIGHUP)."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path), "a", encoding="utf-8")
        self.path = path
        self._reopen = False

    def request_reopen(self) -> None:
        """Reopen before the next line; safe from a signal handler (it only sets a flag)."""
        self._reopen = True

    def reopenIfNeeded(self) -> None:  # noqa: N802 (logging's name)
        if self._reopen:
            self._reopen = False
            if self.stream is not None:
                self.stream.flush()
                self.stream.close()
                self.stream = None
            self.stream = self._open()
            self._statstream()
            return
        super().reopenIfNeeded()


def install_sighup_reopen(handlers: list[RotatingLogFile | ReopeningLogFile]) -> bool:
    """SIGHUP asks each handler to reopen its file, in either mode: logrotate's postrotate
    in external mode, and a stray HUP never ends the process (Python's default would);
    False where it cannot be installed (not the main thread, or no SIGHUP here)."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return False

    def reopen(_signum: int, _frame: object) -> None:
        for handler in handlers:
            handler.request_reopen()

    signal.signal(signal.SIGHUP, reopen)
    return True
