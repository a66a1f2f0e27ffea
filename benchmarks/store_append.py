"""Micro-benchmark: journal append throughput in batches of 1,000 (memory, SQLite, PostgreSQL).

Prints JSON. PostgreSQL is measured when reachable at BENCH_DATABASE_URL (default: the test
server), in a throwaway database that is dropped afterwards; otherwise its figure is null.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

from mcp_trading.adapters.store import MemoryJournalStore, SqlJournalStore
from mcp_trading.domain.events import OrderFilled
from mcp_trading.kernel import codec
from mcp_trading.kernel.ports import JournalRecord, JournalStore

BATCH = 1_000
BATCHES = 200
ROUNDS = 3
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def batches() -> list[list[JournalRecord]]:
    """Realistic records: encoded fills, about 60 bytes each."""
    base = 1_700_000_000_000_000_000
    out = []
    for b in range(BATCHES):
        first = b * BATCH + 1
        out.append([
            codec.record(seq, OrderFilled(f"o-{seq}", Decimal(10), Decimal("101.25"),
                                          Decimal("0.01"), base + seq))
            for seq in range(first, first + BATCH)
        ])
    return out


def rate(open_store: Callable[[], JournalStore], data: list[list[JournalRecord]]) -> float:
    """Median rows/s over ROUNDS fresh stores."""
    results = []
    for _ in range(ROUNDS):
        store = open_store()
        try:
            started = time.perf_counter()
            for batch in data:
                store.append(batch)
            results.append(len(data) * BATCH / (time.perf_counter() - started))
        finally:
            store.close()
    return statistics.median(results)


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh database on the server, dropped afterwards; None when unreachable."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError:
        yield None
        return
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def main() -> None:
    data = batches()
    result: dict[str, float | int | None] = {"batch": BATCH}
    result["memory_rows_per_s"] = round(rate(MemoryJournalStore, data))
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(ROUNDS))

        def sqlite_store() -> JournalStore:
            url = f"sqlite:///{Path(tmp) / f'bench{next(counter)}.db'}"
            return SqlJournalStore(url, migrate=True)

        result["sqlite_rows_per_s"] = round(rate(sqlite_store, data))
    with postgres_database() as url:
        if url is None:
            result["postgres_rows_per_s"] = None
        else:
            def postgres_store() -> JournalStore:
                store = SqlJournalStore(url, migrate=True)
                with store.engine.begin() as conn:
                    conn.exec_driver_sql("TRUNCATE journal")
                store.close()
                return SqlJournalStore(url)

            result["postgres_rows_per_s"] = round(rate(postgres_store, data))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
