"""Whether a SQLite history database changed since a cached read: `ChangeWatch`.

SQLite's `PRAGMA data_version` moves, on one connection, whenever any OTHER connection has
committed a change to the database since that connection last asked: another process (an
`mcp-trading data import`), or this process's own pooled connections (its writers). So a
private connection that never writes sees every commit, at the cost of one pragma (a few
microseconds, no table read). A cached answer stamped with the version it was read under is
current while the version has not moved. PostgreSQL has no such counter: its store caches
nothing.
"""

from __future__ import annotations

import sqlite3
import threading

__all__ = ["ChangeWatch"]


class ChangeWatch:
    """The data version of one SQLite file, read on a private connection (thread-safe)."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()

    def version(self) -> int:
        """A number that differs from an earlier one once anyone has committed a change."""
        with self._lock:
            row = self._conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()
