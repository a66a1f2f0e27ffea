"""Database maintenance (runbook: Planned Maintenance, database-maintenance): every store the
settings name (dataops/sources.py), each step timed and reported.

SQLite (each file: journal, reports, history):
- `PRAGMA wal_checkpoint(TRUNCATE)`: the WAL folded into the database and emptied (a busy
  checkpoint — a reader holding an old snapshot — is reported, not an error);
- `PRAGMA integrity_check`: "ok", else the problems it lists (the run fails);
- `ANALYZE` and `PRAGMA optimize`: fresh planner statistics;
- `VACUUM` when worth it: "auto" runs it when at least 20 % of the pages are free and that is
  at least 1 MiB, "always" or "never". VACUUM rewrites the file under an exclusive lock, so it
  is skipped (and says why) while the platform runs: the single writer would stall for the
  whole rewrite. Run it with the platform stopped (planned_maintenance.sh does).
PostgreSQL: `VACUUM (ANALYZE)` of each of the platform's tables that exists (online; it never
blocks writers), with the dead tuples before and after.

Nothing is changed but what those commands change; a failing store does not stop the others.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from mcp_trading.adapters.store.schema import metadata
from mcp_trading.config import Settings
from mcp_trading.dataops.pgadmin import libpq_url
from mcp_trading.dataops.sources import Source, sources_of
from mcp_trading.domain.errors import InvalidError

__all__ = ["VACUUM_MODES", "StoreResult", "maintain"]

VACUUM_MODES = ("auto", "always", "never")
_FREE_SHARE = 0.20
_FREE_BYTES = 1 << 20


@dataclass
class StoreResult:
    store: str  # file name or database name
    kind: str  # sqlite | postgres
    roles: tuple[str, ...]
    ok: bool = True
    steps: list[dict[str, Any]] = field(default_factory=list)

    def step(self, name: str, started: float, ok: bool = True, **figures: Any) -> None:
        self.steps.append({"step": name, "ok": ok, "seconds": round(time.perf_counter() - started, 3),
                           **figures})
        self.ok = self.ok and ok

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.store, "kind": self.kind, "roles": list(self.roles), "ok": self.ok,
                "steps": self.steps}


def maintain(settings: Settings, *, vacuum: str = "auto", platform_running: bool = False,
             progress: Callable[[str], None] | None = None) -> list[StoreResult]:
    if vacuum not in VACUUM_MODES:
        raise InvalidError(f"vacuum {vacuum!r}; give one of {', '.join(VACUUM_MODES)}",
                           field="vacuum")
    results = []
    for source in sources_of(settings):
        if progress is not None:
            progress(f"{source.kind} {source.name}")
        result = StoreResult(source.name, source.kind, source.roles)
        try:
            if source.kind == "sqlite":
                _sqlite(source, result, vacuum=vacuum, running=platform_running)
            else:
                _postgres(source, result)
        except (sqlite3.Error, psycopg.Error) as exc:
            result.step("connect", time.perf_counter(), ok=False,
                        error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
        results.append(result)
    return results


def _sqlite(source: Source, result: StoreResult, *, vacuum: str, running: bool) -> None:
    assert source.path is not None
    size_before = source.path.stat().st_size
    conn = sqlite3.connect(source.path, timeout=30, isolation_level=None)
    try:
        t = time.perf_counter()
        busy, wal_pages, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        result.step("wal_checkpoint", t, busy=bool(busy), wal_pages=wal_pages,
                    checkpointed=done)
        t = time.perf_counter()
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        result.step("integrity_check", t, ok=problems == ["ok"],
                    result="ok" if problems == ["ok"] else problems[:20])
        t = time.perf_counter()
        conn.execute("ANALYZE")
        conn.execute("PRAGMA optimize")
        result.step("analyze", t)
        _sqlite_vacuum(conn, result, vacuum=vacuum, running=running)
    finally:
        conn.close()
    result.steps.append({"step": "size", "ok": True, "bytes_before": size_before,
                         "bytes_after": source.path.stat().st_size})


def _sqlite_vacuum(conn: sqlite3.Connection, result: StoreResult, *, vacuum: str,
                   running: bool) -> None:
    t = time.perf_counter()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    worth = pages > 0 and free / pages >= _FREE_SHARE and free * page_size >= _FREE_BYTES
    figures = {"pages": pages, "free_pages": free, "free_bytes": free * page_size}
    if vacuum == "never" or (vacuum == "auto" and not worth):
        result.step("vacuum", t, ran=False, reason="not worth it" if vacuum == "auto"
                    else "--vacuum never", **figures)
    elif running:
        result.step("vacuum", t, ran=False, reason="the platform is running: VACUUM would hold "
                    "the writer for the whole rewrite; stop it first (planned_maintenance.sh "
                    "database-maintenance does)", **figures)
    else:
        conn.execute("VACUUM")
        # in WAL mode the rewritten pages sit in the WAL: fold them in so the file shrinks now
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        result.step("vacuum", t, ran=True, **figures)


def _postgres(source: Source, result: StoreResult) -> None:
    url = libpq_url(source.url)
    with psycopg.connect(url, autocommit=True, connect_timeout=15) as conn:
        present = {row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        tables = [t for t in metadata.tables if t in present]
        before = _dead_tuples(conn, tables)
        t = time.perf_counter()
        for table in tables:  # names from our own schema, quoted
            conn.execute(f'VACUUM (ANALYZE) "{table}"')
        result.step("vacuum_analyze", t, tables=len(tables),
                    dead_tuples_before=sum(before.values()),
                    dead_tuples_after=sum(_dead_tuples(conn, tables).values()))


def _dead_tuples(conn: psycopg.Connection[Any], tables: list[str]) -> dict[str, int]:
    rows = conn.execute("SELECT relname, n_dead_tup FROM pg_stat_user_tables "
                        "WHERE relname = ANY(%s)", (tables,)).fetchall()
    return {name: int(dead) for name, dead in rows}
