"""The SQL history store: SQLite (the default, a file of its own) and PostgreSQL.

Bulk paths go through the raw DBAPI connection: a writer's adds into the rows (`sql_rows`),
then the blocks they touched rebuilt from them (`sql_blocks`), in the same transaction; reads
and series ranges from the blocks. The small ones (delete, instruments) through SQLAlchemy
Core. On
SQLite the series ranges and reads of up to _READ_KEPT bars are kept until any connection
(any process) commits a change to the file (changes.py): a repeated read, e.g. a chart's ten
years of daily bars, costs no query; copies are handed out, never the kept arrays.

A writer's states: idle (no connection) -> open (first add checked out a connection and began
a transaction: SQLite `BEGIN IMMEDIATE`, taking the file's write lock at once rather than
failing half way; PostgreSQL's implicit one) -> committed | rolled back. Each add is written
into the open transaction at once, so an import's memory does not grow with the file, and no
reader sees any of it before the commit. A database error inside an add rolls the whole write
back and the writer refuses further use.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from mcp_trading.adapters.history.changes import ChangeWatch, ReadCache
from mcp_trading.adapters.history.columns import check_bars, check_key, check_limit
from mcp_trading.adapters.history.contract import (
    BarColumns,
    HistoryInstrument,
    HistoryStore,
    HistoryWriter,
    SeriesRange,
    UpsertCounts,
)
from mcp_trading.adapters.history.sql_blocks import read_blocks, rebuild_blocks, series_from_blocks
from mcp_trading.adapters.history.sql_rows import write_postgres, write_sqlite
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.migrate import check_schema, upgrade
from mcp_trading.adapters.store.schema import history_bars, history_blocks, history_instruments

__all__ = ["SqlHistoryStore"]

_SERIES_KEPT = 4096  # series ranges kept (SQLite, while the file is unchanged)
_READ_KEPT = 20_000  # bars of the largest read kept (ten years of daily bars: 2,520)
_BARS_KEPT = 250_000  # bars kept in all (~14 MB)


def _copy(bars: BarColumns) -> BarColumns:
    return BarColumns._make(column.copy() for column in bars)


class SqlHistoryStore(HistoryStore):
    """History bars in a SQL database (SQLite or PostgreSQL) at the migration head."""

    def __init__(self, database: str | Engine, *, migrate: bool = False) -> None:
        self._owns_engine = not isinstance(database, Engine)
        self._engine = create_store_engine(database) if isinstance(database, str) else database
        self.dialect = self._engine.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"the history store runs on SQLite or PostgreSQL, not {self.dialect}")
        if migrate:
            upgrade(self._engine)
        else:
            check_schema(self._engine)
        path = self._engine.url.database
        #: SQLite: series ranges and small reads are kept while the file's data version
        #: stands (changes.py)
        self._watch = ChangeWatch(path) if self.dialect == "sqlite" and path else None
        self._series: ReadCache[list[SeriesRange]] = ReadCache(most=_SERIES_KEPT,
                                                               largest=_SERIES_KEPT)
        self._reads: ReadCache[BarColumns] = ReadCache(most=_BARS_KEPT, largest=_READ_KEPT)

    def writer(self) -> HistoryWriter:
        return _SqlWriter(self)

    def read(self, symbol: str, source: str, timeframe: str, *, start: int | None = None,
             end: int | None = None, limit: int | None = None,
             latest: bool = False) -> BarColumns:
        check_key(symbol, source, timeframe)
        check_limit(limit)
        version = None if self._watch is None else self._watch.version()
        asked = (symbol, source, timeframe, start, end, limit, latest)
        kept = None if version is None else self._reads.get(asked, version)
        if kept is not None:
            return _copy(kept)
        conn = self._engine.raw_connection()
        try:
            bars = read_blocks(self.dialect, conn.driver_connection, (symbol, source, timeframe),
                               start=start, end=end, limit=limit, latest=latest)
        finally:
            conn.close()
        if version is not None and bars.size <= _READ_KEPT:  # a big read is not kept, nor copied
            self._reads.put(asked, version, bars, bars.size)
            return _copy(bars)  # the kept arrays are never handed out
        return bars

    def series(self, symbol: str | None = None) -> list[SeriesRange]:
        """Every series (of one symbol) with its range. On SQLite the GROUP BY's answer is
        kept until any connection commits a change (an import here or in another process):
        a read of one symbol's bars then costs no scan of its rows to count them."""
        version = None if self._watch is None else self._watch.version()
        kept = None if version is None else self._series.get(symbol, version)
        if kept is not None:
            return list(kept)
        conn = self._engine.raw_connection()
        try:
            rows = series_from_blocks(self.dialect, conn.driver_connection, symbol)
        finally:
            conn.close()
        ranges = [SeriesRange(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows]
        if version is not None:  # read after `version` was taken: at least that current
            self._series.put(symbol, version, ranges, max(len(ranges), 1))
        return list(ranges)

    def delete(self, symbol: str, source: str | None = None) -> int:
        statement = delete(history_bars).where(history_bars.c.symbol == symbol)
        blocks = delete(history_blocks).where(history_blocks.c.symbol == symbol)
        if source is not None:
            statement = statement.where(history_bars.c.source == source)
            blocks = blocks.where(history_blocks.c.source == source)
        with self._engine.begin() as conn:
            deleted = int(conn.execute(statement).rowcount)
            conn.execute(blocks)
            return deleted

    def register_instruments(self, instruments: Sequence[HistoryInstrument]) -> None:
        if not instruments:
            return
        insert = sqlite.insert if self.dialect == "sqlite" else postgresql.insert
        statement = insert(history_instruments).on_conflict_do_nothing(index_elements=["symbol"])
        with self._engine.begin() as conn:
            conn.execute(statement, [i._asdict() for i in instruments])

    def instruments(self) -> list[HistoryInstrument]:
        t = history_instruments.c
        query = select(t.symbol, t.tick_size, t.lot_size, t.source, t.created_ns).order_by(
            t.symbol)
        with self._engine.connect() as conn:
            return [HistoryInstrument(r[0], r[1], r[2], r[3], int(r[4]))
                    for r in conn.execute(query)]

    def forget(self) -> None:
        """Drop every kept series range and read (the next read queries: e.g. a benchmark's
        first read after an import)."""
        self._series = ReadCache(most=_SERIES_KEPT, largest=_SERIES_KEPT)
        self._reads = ReadCache(most=_BARS_KEPT, largest=_READ_KEPT)

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
        if self._owns_engine:
            self._engine.dispose()

    @property
    def engine(self) -> Engine:
        return self._engine


class _SqlWriter(HistoryWriter):
    """One transaction on one raw connection; see the module docstring for its states."""

    def __init__(self, store: SqlHistoryStore) -> None:
        self._store = store
        self._conn: Any = None  # the pooled DBAPI connection while open
        self._counts = UpsertCounts(0, 0, 0)
        self._failed: BaseException | None = None
        self._done = False

    def add(self, symbol: str, source: str, timeframe: str, bars: BarColumns) -> None:
        if self._done or self._failed is not None:
            raise RuntimeError("this history write is finished or failed; open a new writer()")
        check_key(symbol, source, timeframe)
        bars = check_bars(bars)
        if bars.size == 0:
            return
        sqlite_dialect = self._store.dialect == "sqlite"
        if self._conn is None:
            self._conn = self._store.engine.raw_connection()
            if sqlite_dialect:
                self._conn.driver_connection.execute("BEGIN IMMEDIATE")
        key, driver = (symbol, source, timeframe), self._conn.driver_connection
        try:
            if sqlite_dialect:
                counts, now = write_sqlite(driver, key, bars)
            else:
                counts, now = write_postgres(driver, key, bars), None
            if counts.inserted or counts.updated:
                rebuild_blocks(self._store.dialect, driver, key, int(bars.ts[0]),
                               int(bars.ts[-1]), inside=now)
        except BaseException as exc:
            self._failed = exc
            self._finish(commit=False)
            raise
        c = self._counts
        self._counts = UpsertCounts(c.inserted + counts.inserted, c.updated + counts.updated,
                                    c.unchanged + counts.unchanged)

    @property
    def counts(self) -> UpsertCounts:
        return self._counts

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._done:
            if exc_type is None and self._failed is not None:
                raise RuntimeError("an add of this history write failed, so none of it was "
                                   "stored") from self._failed
            return
        self._finish(commit=exc_type is None)

    def _finish(self, *, commit: bool) -> None:
        self._done = True
        conn, self._conn = self._conn, None
        if conn is None:
            return
        driver = conn.driver_connection
        try:
            if self._store.dialect == "sqlite":
                driver.execute("COMMIT" if commit else "ROLLBACK")
            elif commit:
                driver.commit()
            else:
                driver.rollback()
        finally:
            conn.close()
