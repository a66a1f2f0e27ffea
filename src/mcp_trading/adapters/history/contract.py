"""The history bar store's interface: what every backend (memory, SQLite, PostgreSQL) does alike.

A bar is identified by (symbol, source, timeframe, ts). `source` names where it came from
(`simulator`, `import:<file stem>` or `sample`, `alphavantage`, ...): bars of different sources
never mix in one read, one roll-up or one failover chain. `ts` is the start of the bar's
interval in ns since the epoch; a `1Day` bar's ts is midnight of its trading day in the
exchange's time zone (America/New_York for the NYSE), like Alpaca's daily bars.

Prices are float64 (history is analytics input, read into numpy columns); the text a read
writes out is the shortest repr, so a price of 15 significant digits or fewer comes back as
the text it was imported as. `volume` is NaN where the source reports none. `adj_factor`
(adjusted close / close) is stored beside the raw prices where the source gives an adjusted
close, NaN where it does not.

The states of a write: nothing -> (write opened) -> rows staged -> committed | rolled back.
A write is all or nothing: `HistoryWriter` is a context manager whose exit commits the rows
added through it in one transaction, or, on any exception, stores none of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "ADJUSTMENTS",
    "HISTORY_TIMEFRAMES",
    "BarColumns",
    "HistoryInstrument",
    "HistoryStore",
    "HistoryWriter",
    "SeriesRange",
    "UpsertCounts",
]

#: Timeframe name -> minutes per bar (1Day: one trading session, however long).
HISTORY_TIMEFRAMES: dict[str, int] = {"1Min": 1, "5Min": 5, "15Min": 15, "30Min": 30,
                                      "1Hour": 60, "1Day": 1440}
ADJUSTMENTS = ("raw", "all")

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class BarColumns(NamedTuple):
    """Bars as columns, ascending by ts, all of one length."""

    ts: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64  # NaN: not reported
    adj_factor: F64  # NaN: no adjusted close known

    @property
    def size(self) -> int:
        """The number of bars."""
        return int(self.ts.shape[0])


class SeriesRange(NamedTuple):
    """What is stored of one (symbol, source, timeframe) series."""

    symbol: str
    source: str
    timeframe: str
    first: int  # ts of the first bar
    last: int  # ts of the last bar
    bars: int


class UpsertCounts(NamedTuple):
    inserted: int
    updated: int  # same key, different values (a later import corrects a bar)
    unchanged: int  # same key, same values: re-importing a file changes nothing


class HistoryInstrument(NamedTuple):
    """An instrument known from history only (registered by an import; persisted)."""

    symbol: str
    tick_size: str  # decimal text, the default increments unless a feed says otherwise
    lot_size: str
    source: str  # the import or provider that registered it
    created_ns: int


class HistoryWriter(AbstractContextManager["HistoryWriter"]):
    """One all-or-nothing write (see the module docstring)."""

    @abstractmethod
    def add(self, symbol: str, source: str, timeframe: str, bars: BarColumns) -> None:
        """Stage bars; nothing is visible to readers before the writer commits."""

    @property
    @abstractmethod
    def counts(self) -> UpsertCounts:
        """What the staged rows did (or will do at commit) to the stored series."""


class HistoryStore(ABC):
    """Stored history bars. Synchronous: services call it from a worker thread."""

    @abstractmethod
    def writer(self) -> HistoryWriter:
        """A new all-or-nothing write."""

    @abstractmethod
    def read(self, symbol: str, source: str, timeframe: str, *, start: int | None = None,
             end: int | None = None, limit: int | None = None,
             latest: bool = False) -> BarColumns:
        """Stored bars of one series in [start, end], ascending; the first or latest `limit`."""

    @abstractmethod
    def series(self, symbol: str | None = None) -> list[SeriesRange]:
        """Every stored series (of one symbol), ordered by symbol, source, timeframe."""

    @abstractmethod
    def delete(self, symbol: str, source: str | None = None) -> int:
        """Delete a symbol's bars (of one source, or all); returns the rows deleted."""

    @abstractmethod
    def register_instruments(self, instruments: Sequence[HistoryInstrument]) -> None:
        """Persist history-only instruments; one already registered keeps its first record."""

    @abstractmethod
    def instruments(self) -> list[HistoryInstrument]:
        """The history-only instruments, by symbol."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
