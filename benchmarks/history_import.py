"""History import: bars/s from a long-format CSV into SQLite, and peak memory vs file size.

    python benchmarks/history_import.py [--bars 1000000] [--big 3000000] [--calib S] [--json]

The input is GENERATED, a benchmark input and not market data: symbols BENCH1..BENCH4, 1-minute
bars of New York sessions (09:30-15:59, weekdays from 2015-01-05, holidays ignored), prices a
seeded random walk from 100 with high/low around open/close, volume 100..10,000. The rows are
ordered by time, symbols interleaved, as a long export is. Each import runs in a fresh process
(`--measure`) into a fresh SQLite file, durable and all or nothing: the figure is bars/s of
`import_file` from open to commit, and the process's peak RSS. `normalised_bars_s` = bars/s x
the calibration loop's seconds / 0.40 (`python /work/shared/tools/calib.py`, before and after;
the mean is used), as benchmarks/recovery.py does for seconds. Target: >= 250,000 bars/s;
peak RSS of the big file within 10% (+16 MB) of the 1M file's.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

CALIB = Path("/work/shared/tools/calib.py")
SYMBOLS = ("BENCH1", "BENCH2", "BENCH3", "BENCH4")
TARGET = 250_000


def generate(path: Path, bars: int, seed: int = 11) -> None:
    """Write `bars` rows of the generated long-format CSV, in chunks (bounded memory)."""
    rng = np.random.default_rng(seed)
    per_day = 390
    chunk_minutes = per_day * 50
    minutes_needed = -(-bars // len(SYMBOLS))
    price = np.full(len(SYMBOLS), 100.0)
    written = 0
    with path.open("wb") as f:
        f.write(b"Ticker,Date,Open,High,Low,Close,Volume\n")
        for start in range(0, minutes_needed, chunk_minutes):
            n = min(chunk_minutes, minutes_needed - start)
            minute = np.arange(start, start + n)
            day, in_day = minute // per_day, minute % per_day
            weekday_day = day // 5 * 7 + day % 5  # skip weekends: 2015-01-05 is a Monday
            local = (np.datetime64("2015-01-05T09:30", "s") + weekday_day * 86_400 + in_day * 60)
            steps = rng.normal(0, 0.0008, size=(n, len(SYMBOLS)))
            close = price * np.exp(np.cumsum(steps, axis=0))
            open_ = np.vstack([price, close[:-1]])
            price = close[-1]
            spread = np.abs(rng.normal(0, 0.0005, size=(n, len(SYMBOLS)))) * close
            high = np.maximum(open_, close) + spread
            low = np.minimum(open_, close) - spread
            volume = rng.integers(100, 10_000, size=(n, len(SYMBOLS)))
            rows = n * len(SYMBOLS)
            take = min(rows, bars - written)
            times = pc.strftime(pa.array(np.repeat(local, len(SYMBOLS))[:take]), format="%Y-%m-%d %H:%M:%S")
            table = pa.table({
                "Ticker": pa.array(np.tile(SYMBOLS, n)[:take]), "Date": times,
                "Open": np.round(open_.ravel()[:take], 4), "High": np.round(high.ravel()[:take], 4),
                "Low": np.round(low.ravel()[:take], 4), "Close": np.round(close.ravel()[:take], 4),
                "Volume": volume.ravel()[:take]})
            pcsv.write_csv(table, f, pcsv.WriteOptions(include_header=False, quoting_style="none"))
            written += take
            if written >= bars:
                break


def measure(csv_path: str, db: str) -> dict[str, float]:
    """In a fresh process: import the file into a fresh SQLite store; seconds and peak RSS."""
    from mcp_trading.adapters.history.factory import open_history_store
    from mcp_trading.adapters.history.importer import import_file

    store = open_history_store(f"sqlite:///{db}")
    started = time.perf_counter()
    summary = import_file(store, csv_path, timeframe="1Min")
    seconds = time.perf_counter() - started
    store.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"bars": summary.bars, "inserted": summary.inserted, "seconds": round(seconds, 3),
            "bars_s": round(summary.bars / seconds), "peak_rss_mb": round(rss_mb, 1)}


def calib() -> float:
    out = subprocess.run([sys.executable, str(CALIB)], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def _run(tmp: Path, bars: int) -> dict[str, float]:
    csv_path = tmp / f"bench-{bars}.csv"
    t0 = time.perf_counter()
    generate(csv_path, bars)
    print(f"[history_import] generated {bars} bars ({csv_path.stat().st_size >> 20} MB) in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    db = tmp / f"history-{bars}.db"
    out = subprocess.run([sys.executable, __file__, "--measure", str(csv_path), str(db)],
                         check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    result["file_mb"] = round(csv_path.stat().st_size / 2**20, 1)
    csv_path.unlink()
    db.unlink()
    print(f"[history_import] {result}", file=sys.stderr, flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=3_000_000, help="the file for the memory check")
    parser.add_argument("--calib", type=float, help="calib.py's figure on this machine, now")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    before = args.calib if args.calib is not None else calib()
    with tempfile.TemporaryDirectory(prefix="mcp-trading-history-import-") as tmp:
        small = _run(Path(tmp), args.bars)
        big = _run(Path(tmp), args.big)
    after = calib()
    loop = (before + after) / 2
    normalised = round(small["bars_s"] * loop / 0.40)
    result = {
        "input": "generated (BENCH1..4, 1Min random walk), not market data",
        "small": small, "big": big, "calib_before_s": before, "calib_after_s": after,
        "raw_bars_s": small["bars_s"], "normalised_bars_s": normalised, "target_bars_s": TARGET,
        "rss_growth_mb": round(big["peak_rss_mb"] - small["peak_rss_mb"], 1),
    }
    result["meets_target"] = normalised >= TARGET
    result["memory_flat"] = big["peak_rss_mb"] <= small["peak_rss_mb"] * 1.10 + 16
    print(json.dumps(result, indent=2))
    return 0 if result["meets_target"] and result["memory_flat"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
