"""The in-memory history store: the same contract as the SQL store, without durability.

Used by the embedded in-memory deployment and by tests. Each series is one BarColumns held
whole; a writer works on copies and swaps them in at commit, so readers never see a
half-written import.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType

from mcp_trading.adapters.history.columns import (
    check_bars,
    check_key,
    check_limit,
    diff_bars,
    empty_bars,
    merge_bars,
    select_bars,
)
from mcp_trading.adapters.history.contract import (
    BarColumns,
    HistoryInstrument,
    HistoryStore,
    HistoryWriter,
    SeriesRange,
    UpsertCounts,
)

__all__ = ["MemoryHistoryStore"]

Key = tuple[str, str, str]  # symbol, source, timeframe


class MemoryHistoryStore(HistoryStore):
    """History bars in dicts of numpy columns; thread-safe."""

    def __init__(self) -> None:
        self._series: dict[Key, BarColumns] = {}
        self._instruments: dict[str, HistoryInstrument] = {}
        self._lock = threading.Lock()
        self._closed = False

    def writer(self) -> HistoryWriter:
        self._check_open()
        return _MemoryWriter(self)

    def read(self, symbol: str, source: str, timeframe: str, *, start: int | None = None,
             end: int | None = None, limit: int | None = None,
             latest: bool = False) -> BarColumns:
        check_key(symbol, source, timeframe)
        check_limit(limit)
        self._check_open()
        with self._lock:
            bars = self._series.get((symbol, source, timeframe))
        if bars is None:
            return empty_bars()
        return select_bars(bars, start=start, end=end, limit=limit, latest=latest)

    def series(self, symbol: str | None = None) -> list[SeriesRange]:
        self._check_open()
        with self._lock:
            items = sorted(self._series.items())
        return [SeriesRange(key[0], key[1], key[2], int(bars.ts[0]), int(bars.ts[-1]), bars.size)
                for key, bars in items
                if bars.size and (symbol is None or key[0] == symbol)]

    def delete(self, symbol: str, source: str | None = None) -> int:
        self._check_open()
        with self._lock:
            keys = [key for key in self._series
                    if key[0] == symbol and (source is None or key[1] == source)]
            return sum(self._series.pop(key).size for key in keys)

    def register_instruments(self, instruments: Sequence[HistoryInstrument]) -> None:
        self._check_open()
        with self._lock:
            for instrument in instruments:
                self._instruments.setdefault(instrument.symbol, instrument)

    def instruments(self) -> list[HistoryInstrument]:
        self._check_open()
        with self._lock:
            return [self._instruments[s] for s in sorted(self._instruments)]

    def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the history store is closed")

    # the writer's side: a snapshot to work on, and the swap at commit
    def _stored(self, key: Key) -> BarColumns | None:
        with self._lock:
            return self._series.get(key)

    def _commit(self, staged: dict[Key, _Staged]) -> None:
        with self._lock:
            for key, entry in staged.items():
                current = self._series.get(key)
                if current is entry.base:
                    self._series[key] = entry.merged
                else:  # another writer changed this series meanwhile: replay our adds on it
                    merged = empty_bars() if current is None else current
                    for bars in entry.adds:
                        merged = merge_bars(merged, bars)
                    self._series[key] = merged


class _Staged:
    """One series in a write: what was stored when the write began, the adds, the result."""

    __slots__ = ("adds", "base", "merged")

    def __init__(self, base: BarColumns | None) -> None:
        self.base = base
        self.adds: list[BarColumns] = []
        self.merged = empty_bars() if base is None else base


class _MemoryWriter(HistoryWriter):
    """Stages adds per series; counts against the stored series plus earlier adds."""

    def __init__(self, store: MemoryHistoryStore) -> None:
        self._store = store
        self._staged: dict[Key, _Staged] = {}
        self._counts = UpsertCounts(0, 0, 0)
        self._done = False

    def add(self, symbol: str, source: str, timeframe: str, bars: BarColumns) -> None:
        if self._done:
            raise RuntimeError("this history write is finished; open a new writer()")
        check_key(symbol, source, timeframe)
        bars = check_bars(bars)
        if bars.size == 0:
            return
        key = (symbol, source, timeframe)
        entry = self._staged.get(key)
        if entry is None:
            entry = self._staged[key] = _Staged(self._store._stored(key))
        diff = diff_bars(entry.merged, bars)
        inserted, updated = int(diff.inserted.sum()), int(diff.updated.sum())
        c = self._counts
        self._counts = UpsertCounts(c.inserted + inserted, c.updated + updated,
                                    c.unchanged + bars.size - inserted - updated)
        entry.adds.append(bars)
        entry.merged = merge_bars(entry.merged, bars)

    @property
    def counts(self) -> UpsertCounts:
        return self._counts

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._done:
            return
        self._done = True
        if exc_type is None:
            self._store._commit(self._staged)
        self._staged.clear()
