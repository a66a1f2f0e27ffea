"""Reads of a SQLite history database kept while it does not change: `ChangeWatch`,
`ReadCache`.

SQLite's `PRAGMA data_version` moves, on one connection, whenever any OTHER connection has
committed a change to the database since that connection last asked: another process (an
`mcp-trading data import`), or this process's own pooled connections (its writers). So a
private connection that never writes sees every commit, at the cost of one pragma (a few
microseconds, no table read). An answer kept under the version it was read at is current
while the version has not moved; the first look at a new version drops every kept answer.
PostgreSQL has no such counter: its store keeps nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["ChangeWatch", "ReadCache"]

V = TypeVar("V")


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


class ReadCache(Generic[V]):
    """Answers of one data version, least recently used dropped past `most` in weight (e.g.
    bars); an answer heavier than `largest` is not kept. Thread-safe."""

    def __init__(self, *, most: int, largest: int) -> None:
        self._most, self._largest = most, largest
        self._version: int | None = None
        self._kept: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int) -> V | None:
        with self._lock:
            if version != self._version:
                self._version, self._weight = version, 0
                self._kept.clear()
                return None
            hit = self._kept.get(key)
            if hit is None:
                return None
            self._kept.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, version: int, value: V, weight: int = 1) -> None:
        """Keep `value`, read after `version` was taken (so at least that current)."""
        if weight > self._largest:
            return
        with self._lock:
            if version != self._version:
                return  # a newer version was seen meanwhile: this answer may be older
            old = self._kept.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._kept[key] = (value, weight)
            self._weight += weight
            while self._weight > self._most and self._kept:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._weight -= dropped
