"""History, the issue's benchmark: the store, the CSV import and the market-data read, as one
JSON object with raw and normalised figures.

    python benchmarks/history.py [--bars 1000000] [--import-bars 1000000] [--big 3000000]
                                 [--skip-import] [--json]

Three parts, each the measurement of its own module or the service itself:

- `history_store.measure` (benchmarks/history_store.py): import of columns into a durable
  SQLite file, a 10-year daily read through `read_bars`, one million 1-minute bars into numpy;
- `history_import._run` (benchmarks/history_import.py): bars/s of `import_file` from a
  generated long-format CSV in a fresh process, and peak RSS of a bigger file (streamed:
  memory independent of file size);
- the ten-year daily read through the REST service function, `MarketDataService.history`
  (what GET :8001/bars/AAPL?timeframe=1Day&start=2003-03-03&end=2013-03-01 calls), over the
  shipped sample's real AAPL prices in SQLite: the median of 50 calls (the store keeps a
  repeated read while the file is unchanged: adapters/history/changes.py), the median of 50
  cold ones (`service_cold_ms`: the store's kept reads dropped before each, as after an
  import), alternated with those, and its parts (`read_bars`; `columns_view`, the reply's
  bar objects).

calib.py's loop (/work/shared/tools/calib.py) is timed before and after; `normalised` scales
each figure to the reference machine (loop 0.40 s) with the mean of the two: a rate
x loop / 0.40, a time x 0.40 / loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import history_import
import history_store

REFERENCE_LOOP_S = history_store.REFERENCE_LOOP_S
READS = 50
TEN_YEARS = {"start": "2003-03-03", "end": "2013-03-01"}  # the sample's last ten years


def service_read(directory: Path) -> dict[str, Any]:
    """The ten-year daily read through MarketDataService.history, and its parts."""
    from mcp_trading.adapters.history import open_history_store, read_bars
    from mcp_trading.adapters.history.sample import import_sample
    from mcp_trading.adapters.history.sql import SqlHistoryStore
    from mcp_trading.config import Settings
    from mcp_trading.platform.bootstrap import in_memory
    from mcp_trading.security.principal import Principal, Role
    from mcp_trading.services.market_data.bar_query import columns_view, parse_query
    from mcp_trading.services.market_data.service import MarketDataService

    store = open_history_store(f"sqlite:///{directory / 'sample.db'}")
    import_sample(store)
    platform = in_memory(Settings(data_dir=directory), history=store)
    viewer = Principal(Role.VIEWER, "bench", None, "bench")
    svc = MarketDataService.for_platform(platform)
    query = parse_query("AAPL", timeframe="1Day", limit="10000", adjustment=None, source=None,
                        page_token=None, **TEN_YEARS)

    async def calls() -> tuple[list[float], list[float], int]:
        times: list[float] = []
        cold: list[float] = []
        bars = 0
        for i in range(2 * READS + 3):  # the first three warm the store and the symbol cache
            if i >= 3 and i % 2 and isinstance(store, SqlHistoryStore):
                store.forget()  # a first read after an import: nothing kept
            t0 = time.perf_counter()
            reply = await svc.history(viewer, "AAPL", timeframe="1Day", limit="10000",
                                      **TEN_YEARS)
            (cold if i >= 3 and i % 2 else times).append(time.perf_counter() - t0)
            bars = len(reply["bars"])
        return times[3:], cold, bars

    try:
        times, cold, bars = asyncio.run(calls())
        reads, views = [], []
        for _ in range(READS):
            t0 = time.perf_counter()
            read = read_bars(store, "AAPL", "1Day", start=query.start, end=query.end,
                             limit=10_001)
            t1 = time.perf_counter()
            assert read is not None
            columns_view(read.columns)
            reads.append(t1 - t0)
            views.append(time.perf_counter() - t1)
    finally:
        platform.kernel_runtime.close()
        platform.history.close()
    return {"bars": bars, "service_ms": _ms(times), "service_cold_ms": _ms(cold),
            "read_bars_ms": _ms(reads),
            "columns_view_ms": _ms(views)}


def _ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000, help="history_store's bars")
    parser.add_argument("--import-bars", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=3_000_000, help="the import memory check")
    parser.add_argument("--skip-import", action="store_true", help="leave out the CSV import")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    args = parser.parse_args()
    before = history_store.calib()
    with tempfile.TemporaryDirectory(prefix="mcp-trading-history-bench-") as tmp:
        root = Path(tmp)
        (root / "store").mkdir()
        (root / "service").mkdir()
        store = history_store.measure(args.bars, root / "store")
        service = service_read(root / "service")
        imported = None
        if not args.skip_import:
            imported = {"small": history_import._run(root, args.import_bars),
                        "big": history_import._run(root, args.big)}
    after = history_store.calib()
    print(json.dumps(report(before, after, store, service, imported), indent=2))
    return 0


def report(before: float, after: float, store: dict[str, Any], service: dict[str, Any],
           imported: dict[str, Any] | None) -> dict[str, Any]:
    loop = (before + after) / 2
    def rate(x: float) -> float:
        return round(x * loop / REFERENCE_LOOP_S)

    def span(x: float) -> float:
        return round(x * REFERENCE_LOOP_S / loop, 3)

    normalised: dict[str, Any] = {
        "store_import_bars_per_s": rate(store["import_bars_per_s"]),
        "daily_10y_read_bars_ms": span(store["daily_10y_read_ms"]),
        "numpy_1m_read_s": span(store["numpy_1m_read_s"]),
        "service_daily_10y_ms": span(service["service_ms"]),
        "service_daily_10y_cold_ms": span(service["service_cold_ms"]),
        "service_read_bars_ms": span(service["read_bars_ms"]),
        "service_columns_view_ms": span(service["columns_view_ms"]),
    }
    raw: dict[str, Any] = {"store": store, "service": service}
    if imported is not None:
        small, big = imported["small"], imported["big"]
        raw["csv_import"] = imported
        normalised["csv_import_bars_per_s"] = rate(small["bars_s"])
        normalised["import_rss_growth_mb"] = round(big["peak_rss_mb"] - small["peak_rss_mb"], 1)
    targets = {"csv_import_bars_per_s": ">= 250000", "service_daily_10y_ms": "<= 5",
               "numpy_1m_read_s": "<= 1", "import_memory": "flat (big file within 10 % + 16 MB)"}
    met = {"service_daily_10y_ms": normalised["service_daily_10y_ms"] <= 5,
           "numpy_1m_read_s": normalised["numpy_1m_read_s"] <= 1}
    if imported is not None:
        met["csv_import_bars_per_s"] = normalised["csv_import_bars_per_s"] >= 250_000
        met["import_memory"] = imported["big"]["peak_rss_mb"] <= \
            imported["small"]["peak_rss_mb"] * 1.10 + 16
    return {"calib_before_s": before, "calib_after_s": after, "reference_loop_s":
            REFERENCE_LOOP_S, "raw": raw, "normalised": normalised, "targets": targets,
            "met": met, "input": "store: synthetic columns; import: generated CSV (BENCH1..4); "
                                 "service: the shipped sample's real AAPL prices"}


if __name__ == "__main__":
    raise SystemExit(main())
