"""The history bar store's speed on SQLite: import, a 10-year daily read, 1M bars into numpy.

    python benchmarks/history_store.py [--bars 1000000] [--json]

Bars are synthetic (a deterministic price path rounded to cents, labelled as such): the
figures measure the store, not the data. Import goes through `writer()` with the columns
already built (parsing a file is the importer's cost, measured by its own benchmark), in
chunks of 100,000 like a streamed import, into a durable SQLite file (WAL, synchronous=FULL),
one transaction. Reads go through `read_bars`, the path REST and backtests use (the SQLite
store keeps a read of up to 20,000 bars while the file is unchanged, so the repeated 10-year
daily read is a kept one; history.py's `service_cold_ms` times a first read).

calib.py's loop is timed before and after; `normalised` scales each figure to the reference
machine (loop 0.40 s): a rate x loop / 0.40, a time x 0.40 / loop, with the mean of the two
loops.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from mcp_trading.adapters.history import BarColumns, open_history_store, read_bars

CALIB = Path("/work/shared/tools/calib.py")
REFERENCE_LOOP_S = 0.40
MIN_NS = 60_000_000_000
DAY_NS = 86_400_000_000_000
T0 = 1_262_322_000_000_000_000  # 2010-01-01 midnight New York
CHUNK = 100_000


def calib() -> float:
    if CALIB.exists():
        out = subprocess.run([sys.executable, str(CALIB)], capture_output=True, text=True,
                             check=True)
        return float(out.stdout.strip())
    sys.path.insert(0, str(Path(__file__).parent))
    from launch import calib as inline
    return inline()


def synthetic(n: int, step_ns: int) -> BarColumns:
    """n bars every step_ns from T0, prices a smooth deterministic path in cents."""
    i = np.arange(n, dtype=np.float64)
    close = np.round(100 + 20 * np.sin(i / 500) + i * 1e-5, 2)
    open_ = np.round(close - 0.05, 2)
    return BarColumns(T0 + np.arange(n, dtype=np.int64) * step_ns, open_,
                      np.maximum(open_, close) + 0.1, np.minimum(open_, close) - 0.1, close,
                      np.full(n, 1000.0), np.full(n, np.nan))


def _import(store: Any, symbol: str, bars: BarColumns) -> tuple[float, Any]:
    t0 = time.perf_counter()
    with store.writer() as writer:
        for lo in range(0, bars.size, CHUNK):
            writer.add(symbol, "import:bench", "1Min",
                       BarColumns._make(c[lo:lo + CHUNK] for c in bars))
    return time.perf_counter() - t0, writer.counts


def measure(n: int, directory: Path) -> dict[str, Any]:
    store = open_history_store(f"sqlite:///{directory / 'history.db'}")
    try:
        minutes = synthetic(n, MIN_NS)
        seconds, counts = _import(store, "MIN", minutes)
        again_s, again = _import(store, "MIN", minutes)
        with store.writer() as writer:
            writer.add("DAILY", "import:bench", "1Day", synthetic(2520, DAY_NS))
        end = T0 + 2519 * DAY_NS
        daily = []
        for _ in range(50):
            t0 = time.perf_counter()
            read = read_bars(store, "DAILY", "1Day", start=T0, end=end)
            daily.append(time.perf_counter() - t0)
            assert read is not None and read.columns.size == 2520
        numpy_s = []
        for _ in range(3):
            t0 = time.perf_counter()
            read = read_bars(store, "MIN", "1Min", limit=None)
            numpy_s.append(time.perf_counter() - t0)
            assert read is not None and read.columns.size == n
    finally:
        store.close()
    return {"bars": n, "import_bars_per_s": round(n / seconds), "import_counts": counts._asdict(),
            "reimport_s": round(again_s, 3), "reimport_counts": again._asdict(),
            "daily_10y_read_ms": round(statistics.median(daily) * 1000, 3),
            "numpy_1m_read_s": round(min(numpy_s), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true", help="JSON only (the default output)")
    args = parser.parse_args()
    before = calib()
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(args.bars, Path(tmp))
    after = calib()
    loop = (before + after) / 2
    figures["calib_before_s"], figures["calib_after_s"] = before, after
    figures["normalised"] = {
        "import_bars_per_s": round(figures["import_bars_per_s"] * loop / REFERENCE_LOOP_S),
        "daily_10y_read_ms": round(figures["daily_10y_read_ms"] * REFERENCE_LOOP_S / loop, 3),
        "numpy_1m_read_s": round(figures["numpy_1m_read_s"] * REFERENCE_LOOP_S / loop, 3),
    }
    figures["targets"] = {"import_bars_per_s": ">= 250000", "daily_10y_read_ms": "<= 5",
                          "numpy_1m_read_s": "<= 1"}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
