"""Stored optimizer runs and rebalance previews: in memory, or the `optimizer_runs` and
`optimizer_previews` tables of the platform's database (SQLite or PostgreSQL; Alembic
migration 0008).

A run row holds its searchable columns, a summary (what `list_runs` answers) and the request
with its whole answer as zlib-compressed JSON: the request is enough to run it again.

A preview moves through these states, each move one conditional UPDATE (so two confirms of
one preview cannot both place orders, even in two processes):

    open --a confirm with the right token claims it--> claimed
    claimed --every order would be accepted: placed--> confirmed (the answer per order)
    claimed --an order would be refused: none placed--> refused (which and why)
    open --expires_ns passes--> (still open in the table; a confirm answers "expired")

A claimed preview is never confirmed twice: a second confirm finds it no longer open.
"""

from __future__ import annotations

import json
import threading
import zlib
from abc import ABC, abstractmethod
from typing import Any

from sqlalchemy import Engine, insert, select, update

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.migrate import check_schema, upgrade
from mcp_trading.adapters.store.schema import optimizer_previews, optimizer_runs
from mcp_trading.domain.errors import InvalidError, NotFoundError

__all__ = ["MAX_LIST", "MemoryOptimizerStore", "OptimizerStore", "SqlOptimizerStore",
           "open_optimizer_store"]

MAX_LIST = 1_000
Row = dict[str, Any]


def _run_not_found(run_id: str) -> NotFoundError:
    return NotFoundError(f"no optimizer run {run_id!r}; GET /runs lists the stored ones",
                         code="RUN_NOT_FOUND", field="run_id")


def _preview_not_found(preview_id: str) -> NotFoundError:
    return NotFoundError(f"no rebalance preview {preview_id!r}; POST /rebalance makes one",
                         code="PREVIEW_NOT_FOUND", field="preview_id")


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIST:
        raise InvalidError(f"limit is {limit}; give 1..{MAX_LIST}", field="limit")
    if offset < 0:
        raise InvalidError(f"offset is {offset}; it must be >= 0", field="offset")


def _pack(payload: Row) -> bytes:
    return zlib.compress(json.dumps(payload, allow_nan=False).encode())


def _unpack(blob: bytes) -> Row:
    out: Row = json.loads(zlib.decompress(blob))
    return out


class OptimizerStore(ABC):
    """Runs by id and previews by id (module docstring)."""

    @abstractmethod
    def save_run(self, run: Row, payload: Row) -> None:
        """Store a run: `run` has id, created_ns, kind, method, symbols (list), summary."""

    @abstractmethod
    def get_run(self, run_id: str) -> Row:
        """{"summary": ..., "request": ..., "result": ...}; NotFoundError if unknown."""

    @abstractmethod
    def list_runs(self, limit: int = 50, offset: int = 0) -> list[Row]:
        """Summaries, newest first."""

    @abstractmethod
    def save_preview(self, preview: Row) -> None:
        """Store an open preview (its columns as in the table, payload a dict)."""

    @abstractmethod
    def get_preview(self, preview_id: str) -> Row:
        """The preview's columns, payload and answer as dicts; NotFoundError if unknown."""

    @abstractmethod
    def move_preview(self, preview_id: str, before: str, after: str,
                     answer: Row | None = None) -> bool:
        """`before` -> `after` (with the answer, if given); False if it was not `before`."""

    def close(self) -> None:  # noqa: B027 - a store without connections has nothing to do
        """Release connections."""


class MemoryOptimizerStore(OptimizerStore):
    """Rows held as JSON, so what is read back is a copy, as in SQL."""

    def __init__(self) -> None:
        self._runs: dict[str, tuple[int, str, bytes]] = {}
        self._previews: dict[str, str] = {}
        self._lock = threading.Lock()

    def save_run(self, run: Row, payload: Row) -> None:
        with self._lock:
            self._runs[run["id"]] = (run["created_ns"], json.dumps(run["summary"]),
                                     _pack(payload))

    def get_run(self, run_id: str) -> Row:
        with self._lock:
            row = self._runs.get(run_id)
        if row is None:
            raise _run_not_found(run_id)
        return {"summary": json.loads(row[1]), **_unpack(row[2])}

    def list_runs(self, limit: int = 50, offset: int = 0) -> list[Row]:
        _check_page(limit, offset)
        with self._lock:
            rows = sorted(self._runs.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [json.loads(row[1]) for _, row in rows[offset:offset + limit]]

    def save_preview(self, preview: Row) -> None:
        with self._lock:
            self._previews[preview["id"]] = json.dumps({**preview, "answer": None})

    def get_preview(self, preview_id: str) -> Row:
        with self._lock:
            text = self._previews.get(preview_id)
        if text is None:
            raise _preview_not_found(preview_id)
        out: Row = json.loads(text)
        return out

    def move_preview(self, preview_id: str, before: str, after: str,
                     answer: Row | None = None) -> bool:
        with self._lock:
            text = self._previews.get(preview_id)
            if text is None:
                raise _preview_not_found(preview_id)
            row = json.loads(text)
            if row["state"] != before:
                return False
            row["state"] = after
            if answer is not None:
                row["answer"] = answer
            self._previews[preview_id] = json.dumps(row)
            return True


class SqlOptimizerStore(OptimizerStore):
    """The two tables; the schema must be at head unless `migrate` (then upgraded)."""

    def __init__(self, database: str | Engine, *, migrate: bool = False) -> None:
        self._own = isinstance(database, str)
        self._engine = create_store_engine(database) if isinstance(database, str) else database
        if migrate:
            upgrade(self._engine)
        else:
            check_schema(self._engine)

    def save_run(self, run: Row, payload: Row) -> None:
        row = {"id": run["id"], "created_ns": run["created_ns"], "kind": run["kind"],
               "method": run["method"], "symbols": ",".join(run["symbols"]),
               "summary": json.dumps(run["summary"], allow_nan=False), "payload": _pack(payload)}
        with self._engine.begin() as conn:
            conn.execute(insert(optimizer_runs).values(**row))

    def get_run(self, run_id: str) -> Row:
        t = optimizer_runs
        with self._engine.connect() as conn:
            row = conn.execute(select(t.c.summary, t.c.payload).where(t.c.id == run_id)).first()
        if row is None:
            raise _run_not_found(run_id)
        return {"summary": json.loads(row[0]), **_unpack(row[1])}

    def list_runs(self, limit: int = 50, offset: int = 0) -> list[Row]:
        _check_page(limit, offset)
        t = optimizer_runs
        query = select(t.c.summary).order_by(t.c.created_ns.desc(), t.c.id)
        with self._engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).scalars().all()
        return [json.loads(text) for text in rows]

    def save_preview(self, preview: Row) -> None:
        row = {**preview, "payload": json.dumps(preview["payload"], allow_nan=False),
               "answer": None}
        with self._engine.begin() as conn:
            conn.execute(insert(optimizer_previews).values(**row))

    def get_preview(self, preview_id: str) -> Row:
        t = optimizer_previews
        with self._engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.id == preview_id)).mappings().first()
        if row is None:
            raise _preview_not_found(preview_id)
        out = dict(row)
        out["payload"] = json.loads(out["payload"])
        out["answer"] = None if out["answer"] is None else json.loads(out["answer"])
        return out

    def move_preview(self, preview_id: str, before: str, after: str,
                     answer: Row | None = None) -> bool:
        t = optimizer_previews
        values: Row = {"state": after}
        if answer is not None:
            values["answer"] = json.dumps(answer, allow_nan=False, default=str)
        with self._engine.begin() as conn:
            done = conn.execute(update(t).where(t.c.id == preview_id, t.c.state == before)
                                .values(**values)).rowcount
        return bool(done)

    def close(self) -> None:
        if self._own:
            self._engine.dispose()


def open_optimizer_store(database_url: str, *, migrate: bool = False) -> OptimizerStore:
    """`memory://` (or `memory:`) in memory, else the SQL store at that URL."""
    if database_url in ("memory://", "memory:"):
        return MemoryOptimizerStore()
    return SqlOptimizerStore(database_url, migrate=migrate)
