"""The intraday equity samples (table `equity_samples`, migration 0011): each account's
equity and cash at one moment, written by the portfolio service's sampler and read for the
intraday equity chart. A chart series, not a fact of the book: not journaled (the EOD
history is, as `EquitySnapshotted`), and pruned after a number of days.

    SqlEquitySamples(url)       SQLite or PostgreSQL (the platform's reports database)
    MemoryEquitySamples()       the same in memory (the in-memory platform, tests)
    open_equity_samples(url)    the one the URL names (`memory://`: the in-memory one)

Both: `add(rows)`, `read(account_ids, since_ns, limit)` (oldest first, at most `limit`),
`prune(before_ns)` (how many left), `close()`. Thread-safe (the service calls them off
the event loop).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import NamedTuple, Protocol

from sqlalchemy import delete, insert, select

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import equity_samples

__all__ = ["EquitySample", "EquitySamples", "MemoryEquitySamples", "SqlEquitySamples",
           "open_equity_samples"]


class EquitySample(NamedTuple):
    ts: int  # ns since the epoch
    account_id: str
    equity: Decimal
    cash: Decimal


class EquitySamples(Protocol):
    def add(self, rows: Sequence[EquitySample]) -> None: ...

    def read(self, account_ids: Iterable[str], since_ns: int = 0,
             limit: int | None = None) -> list[EquitySample]: ...

    def prune(self, before_ns: int) -> int: ...

    def close(self) -> None: ...


class SqlEquitySamples:
    """Samples in the `equity_samples` table (the schema must be at 0011 or later)."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_store_engine(database_url)

    def add(self, rows: Sequence[EquitySample]) -> None:
        if not rows:
            return
        with self._engine.begin() as conn:
            conn.execute(insert(equity_samples), [r._asdict() for r in rows])

    def read(self, account_ids: Iterable[str], since_ns: int = 0,
             limit: int | None = None) -> list[EquitySample]:
        ids = sorted(set(account_ids))
        if not ids:
            return []
        t = equity_samples.c
        query = (select(t.ts, t.account_id, t.equity, t.cash)
                 .where(t.account_id.in_(ids), t.ts >= since_ns).order_by(t.ts, t.account_id))
        if limit is not None:
            query = query.limit(limit)
        with self._engine.connect() as conn:
            return [EquitySample(*row) for row in conn.execute(query)]

    def prune(self, before_ns: int) -> int:
        with self._engine.begin() as conn:
            return conn.execute(delete(equity_samples).where(
                equity_samples.c.ts < before_ns)).rowcount or 0

    def close(self) -> None:
        self._engine.dispose()


class MemoryEquitySamples:
    """Samples in a list, oldest first; the same answers as the SQL store."""

    def __init__(self) -> None:
        self._rows: list[EquitySample] = []
        self._lock = threading.Lock()

    def add(self, rows: Sequence[EquitySample]) -> None:
        with self._lock:
            self._rows.extend(rows)
            self._rows.sort(key=lambda r: (r.ts, r.account_id))

    def read(self, account_ids: Iterable[str], since_ns: int = 0,
             limit: int | None = None) -> list[EquitySample]:
        ids = set(account_ids)
        with self._lock:
            found = [r for r in self._rows if r.account_id in ids and r.ts >= since_ns]
        return found if limit is None else found[:limit]

    def prune(self, before_ns: int) -> int:
        with self._lock:
            kept = [r for r in self._rows if r.ts >= before_ns]
            gone, self._rows = len(self._rows) - len(kept), kept
        return gone

    def close(self) -> None:
        return None


def open_equity_samples(database_url: str) -> SqlEquitySamples | MemoryEquitySamples:
    """The sample store of the database `database_url` names (`memory://`: in memory)."""
    if database_url in ("memory://", "memory:"):
        return MemoryEquitySamples()
    return SqlEquitySamples(database_url)
