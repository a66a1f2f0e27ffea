"""The SQL journal store (SQLite, PostgreSQL): raw-DBAPI appends, SQLAlchemy Core elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, select
from sqlalchemy.pool import PoolProxiedConnection

from mcp_trading.adapters.store.contract import (
    KEEP_SNAPSHOTS,
    READ_PAGE,
    check_batch,
    check_snapshot,
)
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.migrate import check_schema, upgrade
from mcp_trading.adapters.store.schema import archive_horizons, journal, snapshots
from mcp_trading.adapters.store.snapshot_rows import prune_segments, read_snapshot, write_snapshot
from mcp_trading.kernel.ports import JournalRecord, Snapshot

__all__ = ["SqlJournalStore"]

_Insert = Callable[[PoolProxiedConnection, list[JournalRecord]], None]

_READ = (
    select(journal.c.seq, journal.c.kind, journal.c.ts, journal.c.payload)
    .where(journal.c.seq > bindparam("after"))
    .order_by(journal.c.seq)
    .limit(bindparam("size"))
)
_LAST_SEQ = select(func.coalesce(func.max(journal.c.seq), 0))


class SqlJournalStore:
    """A JournalStore in a SQL database; one writer (the group-commit thread), many readers.

    The schema must be at the head migration: pass migrate=True to upgrade it on open,
    otherwise an out-of-date schema raises SchemaOutOfDateError.
    """

    def __init__(self, database_url: str, *, migrate: bool = False) -> None:
        engine = create_store_engine(database_url)
        try:
            self._insert = _inserter(engine)
            if migrate:
                upgrade(engine)
            else:
                check_schema(engine)
            with engine.connect() as conn:
                self._last_seq: int = conn.execute(_LAST_SEQ).scalar_one()
        except BaseException:
            engine.dispose()
            raise
        self._engine = engine
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._integrity_error: type[Exception] = engine.dialect.loaded_dbapi.IntegrityError
        self._writer: PoolProxiedConnection | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def engine(self) -> Engine:
        return self._engine

    def append(self, records: Iterable[JournalRecord]) -> None:
        """Write a batch in one transaction and return once it is durable."""
        batch = records if isinstance(records, list) else list(records)
        with self._lock:
            self._check_open()
            if not batch:
                return
            raw = self._writer_connection()
            last = check_batch(batch, self._last_seq)
            try:
                self._insert(raw, batch)
                raw.commit()
            except self._integrity_error as exc:
                self._discard_writer(raw)  # the next batch re-reads last_seq from the database
                raise ValueError(
                    f"journal already holds a seq in {batch[0].seq}..{last} (another writer?); "
                    "nothing from this batch was written"
                ) from exc
            except BaseException:
                self._discard_writer(raw)
                raise
            self._last_seq = last

    def read(self, after_seq: int = 0, limit: int | None = None) -> Iterator[JournalRecord]:
        """Records with seq > after_seq in seq order, fetched in pages; at most `limit`."""
        self._check_open()
        remaining = limit
        while remaining is None or remaining > 0:
            size = READ_PAGE if remaining is None else min(READ_PAGE, remaining)
            # one short connection per page: a slow consumer never holds a transaction open
            with self._engine.connect() as conn:
                rows = conn.execute(_READ, {"after": after_seq, "size": size}).all()
            yield from [JournalRecord(seq, kind, ts, payload) for seq, kind, ts, payload in rows]
            if len(rows) < size:
                return
            after_seq = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)

    def last_seq(self) -> int:
        """The highest committed seq, read from the database (so readers elsewhere see it)."""
        self._check_open()
        with self._engine.connect() as conn:
            seq: int = conn.execute(_LAST_SEQ).scalar_one()
        return seq

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Keep a snapshot (replacing one at the same seq) and prune all but the newest few."""
        self._check_open()
        with self._engine.begin() as conn:
            check_snapshot(snapshot, conn.execute(_LAST_SEQ).scalar_one())
            write_snapshot(conn, snapshot)
            _prune_snapshots(conn)

    def latest_snapshot(self) -> Snapshot | None:
        self._check_open()
        with self._engine.connect() as conn:
            return read_snapshot(conn)

    def snapshot_seqs(self) -> list[int]:
        """Seqs of the snapshots kept, oldest first."""
        self._check_open()
        with self._engine.connect() as conn:
            return list(conn.execute(select(snapshots.c.seq).order_by(snapshots.c.seq)).scalars())

    def close(self) -> None:
        """Release the writer connection and the pool; further calls raise RuntimeError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._writer is not None:
                self._release(self._writer)
                self._writer = None
            self._engine.dispose()

    def __enter__(self) -> SqlJournalStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the journal store is closed; open a new one")

    def _writer_connection(self) -> PoolProxiedConnection:
        if self._writer is None:
            raw = self._engine.raw_connection()
            cursor = raw.cursor()
            try:
                postgres = self._engine.dialect.name == "postgresql"
                if postgres:
                    # the ack promises durability whatever the server default says
                    cursor.execute("SET synchronous_commit = on")
                cursor.execute("SELECT coalesce(max(seq), 0) FROM journal")
                row = cursor.fetchone()
                raw.commit()
                if postgres:
                    # one statement per batch, committed by the server as it answers: one
                    # round trip instead of three (COPY start, COPY end, COMMIT)
                    raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            finally:
                cursor.close()
            self._last_seq = int(row[0]) if row is not None else 0
            self._writer = raw
        return self._writer

    def _discard_writer(self, raw: PoolProxiedConnection) -> None:
        # After a failed batch the connection's state is unknown (it may be broken, or a
        # commit may have half-happened): drop it, and let the next batch start afresh and
        # re-read last_seq from what is really in the database.
        self._writer = None
        self._release(raw, rollback=True)

    def _release(self, raw: PoolProxiedConnection, *, rollback: bool = False) -> None:
        """Back to the pool as the pool's other users expect it (in transactions), or gone."""
        try:
            if rollback:
                raw.rollback()
            driver: Any = raw.driver_connection
            if getattr(driver, "autocommit", False):
                driver.autocommit = False
            raw.close()
        except self._dbapi_error:
            raw.invalidate()


def _prune_snapshots(conn: Connection) -> None:
    newest = select(snapshots.c.seq).order_by(snapshots.c.seq.desc()).limit(KEEP_SNAPSHOTS)
    kept = conn.execute(newest).scalars().all()
    if len(kept) == KEEP_SNAPSHOTS:
        # the snapshot the hot journal starts after (its earlier part archived) is kept too:
        # a full replay starts from it (mcp_trading.dataops.archive)
        base = select(archive_horizons.c.seq).where(archive_horizons.c.seq.is_not(None))
        conn.execute(delete(snapshots).where(snapshots.c.seq < kept[-1],
                                             snapshots.c.seq.not_in(base)))
    prune_segments(conn)


def _inserter(engine: Engine) -> _Insert:
    dialect = engine.dialect
    if dialect.name == "sqlite":
        return _insert_sqlite
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return _insert_postgres
    raise ValueError(
        f"the journal store supports SQLite and PostgreSQL via psycopg 3, not "
        f"{dialect.name}+{dialect.driver}; use sqlite:///… or postgresql://…"
    )


# SQLite: multi-row INSERT … VALUES statements of 128, 64, …, 1 rows (a binary decomposition
# of the batch). Measured ~30 % faster than executemany (≈650k vs ≈500k rows/s at batches of
# 1,000), because the VM steps once per statement instead of once per row; with at most eight
# distinct statements all stay in sqlite3's statement cache. 128 rows x 4 = 512 parameters,
# under the 999 limit of older SQLite builds.
_SQLITE_CHUNK = 128
_SQLITE_SQL = {
    n: "INSERT INTO journal (seq, kind, ts, payload) VALUES " + ",".join(["(?,?,?,?)"] * n)
    for n in (1 << k for k in range(_SQLITE_CHUNK.bit_length()))
}


def _insert_sqlite(raw: PoolProxiedConnection, batch: list[JournalRecord]) -> None:
    cursor = raw.cursor()
    try:
        cursor.execute("BEGIN")  # the connection runs with isolation_level=None (engine.py)
        total, start, size = len(batch), 0, _SQLITE_CHUNK
        while start < total:
            if total - start >= size:
                cursor.execute(_SQLITE_SQL[size], list(chain.from_iterable(
                    batch[start:start + size])))
                start += size
            else:
                size >>= 1
    finally:
        cursor.close()


# PostgreSQL: one INSERT … SELECT FROM unnest(arrays) statement per batch, binary parameters,
# prepared, on an autocommit connection: the server commits (synchronous_commit=on) before it
# answers, so a batch costs one round trip. Measured on this machine, a one-record batch
# (a group-commit segment) durable in 0.39 ms p50 against 0.68 ms for COPY + COMMIT (three
# round trips); the statement text is the same for any batch size, so it stays prepared.
_INSERT_PG = (
    "INSERT INTO journal (seq, kind, ts, payload) "
    "SELECT * FROM unnest(%b::bigint[], %b::smallint[], %b::bigint[], %b::bytea[])"
)


def _insert_postgres(raw: PoolProxiedConnection, batch: list[JournalRecord]) -> None:
    connection: Any = raw.driver_connection  # psycopg.Connection, autocommit
    seqs, kinds, tss, payloads = zip(*batch, strict=True)
    connection.execute(_INSERT_PG, (list(seqs), list(kinds), list(tss),
                                    [bytes(p) for p in payloads]), prepare=True)
