"""The ten-year daily read through the market-data service function, earlier code against the
current, alternated call by call in one process (a shared, noisy machine hits both alike).

    python benchmarks/history_ab.py [--calls 200] [--json]

The read is the one benchmarks/history.py times: `MarketDataService.history` for AAPL,
2003-03-03..2013-03-01 (2,518 daily bars of the shipped sample, real prices, in SQLite).
Each variant is the current code with one or more earlier functions put back (copies kept
here, as they were before the change named), so each gain is measured on its own:

- `current`: the code as it is;
- `before_fixed_point`: price texts by `repr` per value (before prices of up to 4 decimals
  went through integer arithmetic);
- `before_series_cache`: SQLite series ranges by their GROUP BY on every read (before they
  were cached while the file's data version stands);
- `before_read_cache`: every read queried (before SQLite reads of up to 20,000 bars were
  kept while the file's data version stands);
- `before_iso_utc`: bar times suffixed "Z" in a Python loop;
- `cold_store`: neither ranges nor reads kept: what a first read after an import costs;
- `before_all`: all four put back (the code before this work).

Per call the variants take turns (their order rotating), each call timed alone; the output
is JSON: per variant the median and p90 in ms, raw and normalised (x 0.40 / calib loop, the
mean of calib.py's loop before and after), and each variant's median over `current`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))

import history_store
from mcp_trading.adapters.history.columns import check_key, check_limit
from mcp_trading.adapters.history.contract import BarColumns, SeriesRange
from mcp_trading.adapters.history.sql import SqlHistoryStore
from mcp_trading.adapters.history.sql_rows import read_rows, series_rows
from mcp_trading.services.market_data import bar_query

TEN_YEARS = {"start": "2003-03-03", "end": "2013-03-01"}


def _price_texts_repr(col: npt.NDArray[np.float64]) -> list[str]:
    """bar_query._price_texts before the fixed-point path (a copy)."""
    texts = list(map(repr, col.tolist()))
    magnitude = np.abs(col)
    if not texts or (max(map(len, texts)) <= 16 and not np.any(
            (magnitude != 0) & ((magnitude < 1e-4) | (magnitude >= 1e16)))):
        return texts
    return [t if len(t) <= 16 and "e" not in t else bar_query.price_text(float(col[i]))
            for i, t in enumerate(texts)]


def _series_uncached(self: SqlHistoryStore, symbol: str | None = None) -> list[SeriesRange]:
    """SqlHistoryStore.series before its ranges were cached (a copy): the GROUP BY each time."""
    conn = self.engine.raw_connection()
    try:
        rows = series_rows(self.dialect, conn.driver_connection, symbol)
    finally:
        conn.close()
    return [SeriesRange(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5])) for r in rows]


def _read_uncached(self: SqlHistoryStore, symbol: str, source: str, timeframe: str, *,
                   start: int | None = None, end: int | None = None, limit: int | None = None,
                   latest: bool = False) -> BarColumns:
    """SqlHistoryStore.read before small reads were kept (a copy): the query each time."""
    check_key(symbol, source, timeframe)
    check_limit(limit)
    conn = self.engine.raw_connection()
    try:
        return read_rows(self.dialect, conn.driver_connection, (symbol, source, timeframe),
                         start=start, end=end, limit=limit, latest=latest)
    finally:
        conn.close()


def _iso_times_plus_z(ts: npt.NDArray[np.int64]) -> list[str]:
    """bar_query._iso_times before numpy wrote the "Z" (a copy)."""
    text = np.datetime_as_string(ts.astype("datetime64[ns]"), unit="us")
    return [t + "Z" for t in text.tolist()]


#: variant -> (module or class, attribute, earlier function) put back while it runs
VARIANTS: dict[str, list[tuple[Any, str, Any]]] = {
    "current": [],
    "before_fixed_point": [(bar_query, "_price_texts", _price_texts_repr)],
    "before_series_cache": [(SqlHistoryStore, "series", _series_uncached)],
    "before_read_cache": [(SqlHistoryStore, "read", _read_uncached)],
    "before_iso_utc": [(bar_query, "_iso_times", _iso_times_plus_z)],
    "cold_store": [(SqlHistoryStore, "series", _series_uncached),
                   (SqlHistoryStore, "read", _read_uncached)],
    "before_all": [(bar_query, "_price_texts", _price_texts_repr),
                   (bar_query, "_iso_times", _iso_times_plus_z),
                   (SqlHistoryStore, "series", _series_uncached),
                   (SqlHistoryStore, "read", _read_uncached)],
}


@contextlib.contextmanager
def _variant(name: str) -> Iterator[None]:
    patches = VARIANTS[name]
    saved = [(module, attr, getattr(module, attr)) for module, attr, _ in patches]
    for module, attr, earlier in patches:
        setattr(module, attr, earlier)
    try:
        yield
    finally:
        for module, attr, value in saved:
            setattr(module, attr, value)


def measure(directory: Path, calls: int) -> dict[str, list[float]]:
    from mcp_trading.adapters.history import open_history_store
    from mcp_trading.adapters.history.sample import import_sample
    from mcp_trading.config import Settings
    from mcp_trading.platform.bootstrap import in_memory
    from mcp_trading.security.principal import Principal, Role
    from mcp_trading.services.market_data.service import MarketDataService

    store = open_history_store(f"sqlite:///{directory / 'sample.db'}")
    import_sample(store)
    platform = in_memory(Settings(data_dir=directory), history=store)
    viewer = Principal(Role.VIEWER, "bench", None, "bench")
    svc = MarketDataService.for_platform(platform)
    names = list(VARIANTS)
    times: dict[str, list[float]] = {name: [] for name in names}
    replies: dict[str, Any] = {}

    async def one() -> tuple[float, Any]:
        t0 = time.perf_counter()
        reply = await svc.history(viewer, "AAPL", timeframe="1Day", limit="10000", **TEN_YEARS)
        return time.perf_counter() - t0, reply

    async def run() -> None:
        for name in names:  # warm the store, the symbol cache and each variant
            with _variant(name):
                _, replies[name] = await one()
        for i in range(calls):
            for name in names[i % len(names):] + names[:i % len(names)]:
                with _variant(name):
                    seconds, _ = await one()
                times[name].append(seconds)

    try:
        asyncio.run(run())
    finally:
        platform.kernel_runtime.close()
        platform.history.close()
    first = replies[names[0]]
    if any(reply != first for reply in replies.values()):
        raise SystemExit("the variants' replies differ: a variant is not the same read")
    times["_bars"] = [float(len(first["bars"]))]
    return times


def report(times: dict[str, list[float]], before: float, after: float) -> dict[str, Any]:
    loop = (before + after) / 2
    bars = int(times.pop("_bars")[0])
    base = statistics.median(times["current"])
    out: dict[str, Any] = {"bars": bars, "calib_before_s": before, "calib_after_s": after,
                           "reference_loop_s": history_store.REFERENCE_LOOP_S, "variants": {}}
    for name, seconds in times.items():
        p50 = statistics.median(seconds)
        p90 = statistics.quantiles(seconds, n=10)[-1]
        out["variants"][name] = {
            "calls": len(seconds), "p50_ms": round(p50 * 1000, 3),
            "p90_ms": round(p90 * 1000, 3),
            "p50_ms_normalised": round(p50 * 1000 * history_store.REFERENCE_LOOP_S / loop, 3),
            "over_current": round(p50 / base, 3)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per variant")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = parser.parse_args()
    before = history_store.calib()
    with tempfile.TemporaryDirectory(prefix="mcp-trading-history-ab-") as tmp:
        times = measure(Path(tmp), args.calls)
    after = history_store.calib()
    print(json.dumps(report(times, before, after), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
