"""The in-memory journal store: the same contract as the SQL store, without durability."""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from types import TracebackType

from mcp_trading.adapters.store.contract import (
    KEEP_SNAPSHOTS,
    READ_PAGE,
    check_batch,
    check_snapshot,
)
from mcp_trading.kernel.ports import JournalRecord, Snapshot

__all__ = ["MemoryJournalStore"]


class MemoryJournalStore:
    """A JournalStore held in a list; thread-safe for one writer and many readers."""

    def __init__(self) -> None:
        self._records: list[JournalRecord] = []
        self._last_seq = 0
        self._snapshots: list[Snapshot] = []  # ascending seq, at most KEEP_SNAPSHOTS
        self._segments: dict[bytes, bytes] = {}  # duplicate-check segments the kept ones name
        self._lock = threading.Lock()
        self._closed = False

    def append(self, records: Iterable[JournalRecord]) -> None:
        """Append a batch atomically; a non-increasing seq raises ValueError, writing nothing."""
        batch = records if isinstance(records, list) else list(records)
        with self._lock:
            self._check_open()
            if not batch:
                return
            last = check_batch(batch, self._last_seq)
            self._records.extend(batch)
            self._last_seq = last

    def read(self, after_seq: int = 0, limit: int | None = None) -> Iterator[JournalRecord]:
        """Records with seq > after_seq in seq order, at most `limit` of them."""
        self._check_open()
        remaining = limit
        while remaining is None or remaining > 0:
            size = READ_PAGE if remaining is None else min(READ_PAGE, remaining)
            with self._lock:
                start = bisect_right(self._records, after_seq, key=_seq)
                page = self._records[start:start + size]
            yield from page
            if len(page) < size:
                return
            after_seq = page[-1].seq
            if remaining is not None:
                remaining -= len(page)

    def last_seq(self) -> int:
        self._check_open()
        return self._last_seq

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep a snapshot (replacing one at the same seq) and prune all but the newest few."""
        with self._lock:
            self._check_open()
            check_snapshot(snapshot, self._last_seq)
            segments = {**self._segments, **{d: bytes(b) for d, b in snapshot.segments}}
            missing = [d for d in snapshot.refs if d not in segments]
            if missing:
                raise ValueError(f"the snapshot at seq {snapshot.seq} references {len(missing)} "
                                 "duplicate-check segment(s) the store does not hold and it "
                                 "does not carry; nothing was saved")
            kept = [s for s in self._snapshots if s.seq != snapshot.seq]
            kept.append(Snapshot(snapshot.seq, bytes(snapshot.payload), (), snapshot.refs))
            kept.sort(key=_seq)
            self._snapshots = kept[-KEEP_SNAPSHOTS:]
            named = {d for s in self._snapshots for d in s.refs}
            self._segments = {d: b for d, b in segments.items() if d in named}

    def latest_snapshot(self) -> Snapshot | None:
        self._check_open()
        with self._lock:
            if not self._snapshots:
                return None
            newest = self._snapshots[-1]
            return newest._replace(segments=tuple(
                (d, self._segments[d]) for d in newest.refs if d in self._segments))

    def snapshot_seqs(self) -> list[int]:
        """Seqs of the snapshots kept, oldest first."""
        self._check_open()
        return [s.seq for s in self._snapshots]

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> MemoryJournalStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the journal store is closed; open a new one")


def _seq(item: JournalRecord | Snapshot) -> int:
    return item.seq
