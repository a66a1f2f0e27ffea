"""The bulk paths of the SQL history store over its rows, on raw DBAPI connections (sqlite3,
psycopg): the upserts, and the reads of rows that rebuild the blocks reads are served from
(sql_blocks.py); `series_rows` is the rows' own answer the blocks' one is checked against.

Why raw: SQLAlchemy's result rows cost several times the driver's own tuples at a million
bars. Measured on the calibration machine (calib 0.93 s): 1M bars `executemany` into SQLite
(WAL, synchronous=FULL, one transaction) 236,000 bars/s; 1M bars read with `np.fromiter` over
the cursor into a structured array 2.0 s (`fetchall` + `np.array` 3.2 s); WITHOUT ROWID made
the file 31 % smaller at the same speed.

NULL (no volume, no adjustment factor) travels as +inf through the SELECT, because numpy's
structured fromiter takes no None; the store refuses infinite values on write, so +inf is
unambiguous and turns back into NaN here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mcp_trading.adapters.history.columns import diff_bars, take_bars
from mcp_trading.adapters.history.contract import BarColumns, UpsertCounts

__all__ = ["read_rows", "series_rows", "write_postgres", "write_sqlite"]

ROW_DTYPE = np.dtype([("ts", "i8"), ("open", "f8"), ("high", "f8"), ("low", "f8"),
                      ("close", "f8"), ("volume", "f8"), ("adj_factor", "f8")])

_SELECT = {
    "sqlite": "SELECT ts, open, high, low, close, IFNULL(volume, 9e999), "
              "IFNULL(adj_factor, 9e999) FROM history_bars "
              "WHERE symbol = ? AND source = ? AND timeframe = ?",
    "postgresql": "SELECT ts, open, high, low, close, COALESCE(volume, 'Infinity'), "
                  "COALESCE(adj_factor, 'Infinity') FROM history_bars "
                  "WHERE symbol = %s AND source = %s AND timeframe = %s",
}

_UPSERT_SQLITE = (
    "INSERT INTO history_bars (symbol, source, timeframe, ts, open, high, low, close, volume, "
    "adj_factor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (symbol, source, timeframe, ts) DO UPDATE SET open = excluded.open, "
    "high = excluded.high, low = excluded.low, close = excluded.close, "
    "volume = excluded.volume, adj_factor = excluded.adj_factor")

STAGE_POSTGRES = ("CREATE TEMP TABLE IF NOT EXISTS history_stage (ts BIGINT, open FLOAT8, "
                  "high FLOAT8, low FLOAT8, close FLOAT8, volume FLOAT8, adj_factor FLOAT8) "
                  "ON COMMIT DROP")

# One statement upserts the staged rows and counts what it did: a row whose values are all
# equal is left alone (the WHERE), so it is neither returned nor rewritten; xmax = 0 marks a
# freshly inserted row.
_UPSERT_POSTGRES = """
WITH up AS (
  INSERT INTO history_bars (symbol, source, timeframe, ts, open, high, low, close, volume,
                            adj_factor)
  SELECT %s, %s, %s, ts, open, high, low, close, NULLIF(volume, 'NaN'),
         NULLIF(adj_factor, 'NaN') FROM history_stage
  ON CONFLICT (symbol, source, timeframe, ts) DO UPDATE SET open = excluded.open,
    high = excluded.high, low = excluded.low, close = excluded.close,
    volume = excluded.volume, adj_factor = excluded.adj_factor
  WHERE (history_bars.open, history_bars.high, history_bars.low, history_bars.close,
         history_bars.volume, history_bars.adj_factor)
        IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, excluded.close,
                          excluded.volume, excluded.adj_factor)
  RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
"""


_SERIES = ("SELECT symbol, source, timeframe, MIN(ts), MAX(ts), COUNT(*) FROM history_bars "
           "{where}GROUP BY symbol, source, timeframe ORDER BY symbol, source, timeframe")


def series_rows(dialect: str, conn: Any, symbol: str | None,
                template: str = _SERIES) -> list[tuple[Any, ...]]:
    """(symbol, source, timeframe, first, last, bars) of every series, or one symbol's: plain
    SQL on the driver connection (SQLAlchemy's statement building cost more than the query
    itself on the read path of one symbol's daily bars). `template`: the rows' GROUP BY, or
    another table's query of the same shape with its `{where}`."""
    mark = "?" if dialect == "sqlite" else "%s"
    sql = template.format(where="" if symbol is None else f"WHERE symbol = {mark} ")
    cursor = conn.cursor()
    try:
        cursor.execute(sql, () if symbol is None else (symbol,))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def read_rows(dialect: str, conn: Any, key: tuple[str, str, str], *, start: int | None,
              end: int | None, limit: int | None, latest: bool) -> BarColumns:
    """One series' bars in [start, end], the first or latest `limit`, as columns."""
    mark = "?" if dialect == "sqlite" else "%s"
    sql = [_SELECT[dialect]]
    args: list[object] = list(key)
    if start is not None:
        sql.append(f"AND ts >= {mark}")
        args.append(start)
    if end is not None:
        sql.append(f"AND ts <= {mark}")
        args.append(end)
    sql.append("ORDER BY ts DESC" if latest and limit is not None else "ORDER BY ts")
    if limit is not None:
        sql.append(f"LIMIT {mark}")
        args.append(limit)
    cursor = conn.cursor()
    try:
        cursor.execute(" ".join(sql), args)
        rows = np.fromiter(cursor, dtype=ROW_DTYPE) if dialect == "sqlite" else \
            np.array(cursor.fetchall(), dtype=ROW_DTYPE)
    finally:
        cursor.close()
    if latest and limit is not None:
        rows = rows[::-1]
    return _columns(rows)


def _columns(rows: np.ndarray[Any, np.dtype[np.void]]) -> BarColumns:
    values = []
    for name in ("open", "high", "low", "close", "volume", "adj_factor"):
        column = np.ascontiguousarray(rows[name], dtype=np.float64)
        column[np.isposinf(column)] = np.nan
        values.append(column)
    return BarColumns(np.ascontiguousarray(rows["ts"], dtype=np.int64), *values)


def _changed_rows(bars: BarColumns, stored: BarColumns) -> tuple[BarColumns, UpsertCounts]:
    diff = diff_bars(stored, bars)
    changed = diff.changed
    inserted, updated = int(diff.inserted.sum()), int(diff.updated.sum())
    counts = UpsertCounts(inserted, updated, bars.size - inserted - updated)
    if inserted + updated == bars.size:
        return bars, counts
    return take_bars(bars, np.flatnonzero(changed)), counts


def write_sqlite(conn: Any, key: tuple[str, str, str],
                 bars: BarColumns) -> tuple[UpsertCounts, BarColumns]:
    """Upsert one series' bars inside the caller's open transaction; only changed rows. Also
    returns the series' bars in [first, last] of `bars` as stored now (the new ones over the
    old: the blocks are rebuilt from them without reading them back)."""
    stored = read_rows("sqlite", conn, key, start=int(bars.ts[0]), end=int(bars.ts[-1]),
                       limit=None, latest=False)
    rows, counts = _changed_rows(bars, stored)
    if rows.size:
        symbol, source, timeframe = key
        # sqlite3 binds a float NaN as NULL, which is what the table wants for "not reported"
        conn.executemany(_UPSERT_SQLITE, zip(
            [symbol] * rows.size, [source] * rows.size, [timeframe] * rows.size,
            rows.ts.tolist(), rows.open.tolist(), rows.high.tolist(), rows.low.tolist(),
            rows.close.tolist(), rows.volume.tolist(), rows.adj_factor.tolist(), strict=True))
    return counts, _merged(stored, bars)


def _merged(stored: BarColumns, bars: BarColumns) -> BarColumns:
    """`stored` with `bars` written over it: ascending, a new bar replacing an old one's ts;
    as SQLite reads them back (it stores -0.0 as 0.0: `+ 0.0` does the same)."""
    bars = BarColumns(bars.ts, *(column + 0.0 for column in bars[1:]))
    if stored.size == 0:
        return bars
    ts = np.concatenate((stored.ts, bars.ts))
    order = np.argsort(ts, kind="stable")  # an old bar sorts before the new one of its ts
    ordered = ts[order]
    keep = order[np.append(ordered[1:] != ordered[:-1], True)]  # the last of each ts
    return BarColumns._make(np.concatenate(columns)[keep] for columns in zip(stored, bars,
                                                                              strict=True))


def write_postgres(conn: Any, key: tuple[str, str, str], bars: BarColumns) -> UpsertCounts:
    """COPY one series' bars into a temp table, then upsert them, inside the caller's transaction."""
    with conn.cursor() as cursor:
        cursor.execute(STAGE_POSTGRES)
        cursor.execute("TRUNCATE history_stage")
        with cursor.copy("COPY history_stage (ts, open, high, low, close, volume, adj_factor) "
                         "FROM STDIN") as copy:
            for row in zip(bars.ts.tolist(), bars.open.tolist(), bars.high.tolist(),
                           bars.low.tolist(), bars.close.tolist(), bars.volume.tolist(),
                           bars.adj_factor.tolist(), strict=True):
                copy.write_row(row)
        cursor.execute(_UPSERT_POSTGRES, key)
        found = cursor.fetchone()
    inserted, updated = (int(found[0]), int(found[1])) if found else (0, 0)
    return UpsertCounts(inserted, updated, bars.size - inserted - updated)
