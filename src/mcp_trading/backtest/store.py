"""Stored backtest results by id: in memory, or the `backtests` table of the main store's
database (SQLite or PostgreSQL; Alembic migration 0007 in adapters/store/migrations).

A row holds the searchable columns (id, created_ns, strategy, symbols, start, end), the
summary as JSON (what `list` answers without reading the result) and the whole result as
zlib-compressed JSON (`BacktestResult.to_json`; ~10x smaller). Saving an id twice replaces
the row. `get` / `delete` of an unknown id raise NotFoundError naming it.
"""

from __future__ import annotations

import json
import threading
import zlib
from abc import ABC, abstractmethod
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.migrate import check_schema, upgrade
from mcp_trading.adapters.store.schema import backtests
from mcp_trading.backtest.result import BacktestResult
from mcp_trading.domain.errors import InvalidError, NotFoundError

__all__ = ["MAX_LIST", "BacktestStore", "MemoryBacktestStore", "SqlBacktestStore",
           "open_backtest_store"]

MAX_LIST = 1_000  # the most summaries one list answers


def _not_found(run_id: str) -> NotFoundError:
    return NotFoundError(f"no backtest {run_id!r}; GET /backtests lists the stored ones",
                         field="id")


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIST:
        raise InvalidError(f"limit is {limit}; give 1..{MAX_LIST}", field="limit")
    if offset < 0:
        raise InvalidError(f"offset is {offset}; it must be >= 0", field="offset")


class BacktestStore(ABC):
    """Backtest results by id (module docstring)."""

    @abstractmethod
    def save(self, result: BacktestResult) -> None:
        """Store `result` under its id (replacing a result of the same id)."""

    @abstractmethod
    def get(self, run_id: str) -> BacktestResult:
        """The stored result; NotFoundError if there is none."""

    @abstractmethod
    def list(self, limit: int = 50, offset: int = 0,
             strategy: str | None = None) -> list[dict[str, Any]]:
        """Summaries, newest first (of one strategy)."""

    @abstractmethod
    def delete(self, run_id: str) -> None:
        """Remove a result; NotFoundError if there is none."""

    def close(self) -> None:  # noqa: B027 - a store without connections has nothing to do
        """Release connections."""


class MemoryBacktestStore(BacktestStore):
    """Results held as their JSON (so a stored result is a copy, as in SQL)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[int, str, dict[str, Any], bytes]] = {}
        self._lock = threading.Lock()

    def save(self, result: BacktestResult) -> None:
        payload = zlib.compress(result.to_json().encode())
        with self._lock:
            self._rows[result.id] = (result.created_ns, result.spec.strategy,
                                     result.summary(), payload)

    def get(self, run_id: str) -> BacktestResult:
        with self._lock:
            row = self._rows.get(run_id)
        if row is None:
            raise _not_found(run_id)
        return BacktestResult.from_json(zlib.decompress(row[3]))

    def list(self, limit: int = 50, offset: int = 0,
             strategy: str | None = None) -> list[dict[str, Any]]:
        _check_page(limit, offset)
        with self._lock:
            rows = sorted(self._rows.items(), key=lambda kv: (-kv[1][0], kv[0]))
        chosen = [row[2] for _, row in rows if strategy is None or row[1] == strategy]
        return [dict(s) for s in chosen[offset:offset + limit]]

    def delete(self, run_id: str) -> None:
        with self._lock:
            if self._rows.pop(run_id, None) is None:
                raise _not_found(run_id)


class SqlBacktestStore(BacktestStore):
    """The `backtests` table; the schema must be at head unless `migrate` (then upgraded)."""

    def __init__(self, database: str | Engine, *, migrate: bool = False) -> None:
        self._own = isinstance(database, str)
        self._engine = create_store_engine(database) if isinstance(database, str) else database
        if migrate:
            upgrade(self._engine)
        else:
            check_schema(self._engine)

    def save(self, result: BacktestResult) -> None:
        row = {"id": result.id, "created_ns": result.created_ns,
               "strategy": result.spec.strategy, "symbols": ",".join(result.spec.symbols),
               "start": result.spec.start.isoformat(), "end": result.spec.end.isoformat(),
               "summary": json.dumps(result.summary(), allow_nan=False),
               "payload": zlib.compress(result.to_json().encode())}
        with self._engine.begin() as conn:
            conn.execute(delete(backtests).where(backtests.c.id == result.id))
            conn.execute(insert(backtests).values(**row))

    def get(self, run_id: str) -> BacktestResult:
        with self._engine.connect() as conn:
            payload = conn.execute(select(backtests.c.payload)
                                   .where(backtests.c.id == run_id)).scalar()
        if payload is None:
            raise _not_found(run_id)
        return BacktestResult.from_json(zlib.decompress(payload))

    def list(self, limit: int = 50, offset: int = 0,
             strategy: str | None = None) -> list[dict[str, Any]]:
        _check_page(limit, offset)
        query = select(backtests.c.summary).order_by(backtests.c.created_ns.desc(),
                                                     backtests.c.id)
        if strategy is not None:
            query = query.where(backtests.c.strategy == strategy)
        with self._engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).scalars().all()
        return [json.loads(text) for text in rows]

    def delete(self, run_id: str) -> None:
        with self._engine.begin() as conn:
            gone = conn.execute(delete(backtests).where(backtests.c.id == run_id)).rowcount
        if not gone:
            raise _not_found(run_id)

    def close(self) -> None:
        if self._own:
            self._engine.dispose()


def open_backtest_store(database_url: str, *, migrate: bool = False) -> BacktestStore:
    """`memory://` (or `memory:`) in memory, else the SQL store at that URL."""
    if database_url in ("memory://", "memory:"):
        return MemoryBacktestStore()
    return SqlBacktestStore(database_url, migrate=migrate)
