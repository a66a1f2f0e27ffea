"""The VaR case of benchmarks/reports.py: historical VaR of 500 positions over 2,500
days once the prices are loaded (target <= 200 ms), loading reported apart.

    python benchmarks/reports.py --case historical_var [--repeat 15]

Benchmark input, labelled as such: GENERATED prices (seeded geometric random walks, 2,501
daily closes per symbol, symbols BENCH000..), written to a SQLite history store in a temporary
directory under the source `benchmark` — not market data. Then:

- `load_s`: reading every symbol's whole daily history from the store (`prices.read_history`, what
  GET :8012/var does before it computes: `read_bars` per symbol, adjusted), once;
- `historical_var_ms`: `analytics.var_of` — the service function behind GET :8012/var —
  with method=historical, confidence 0.95,0.99, horizon 1,10, window 2,500: aligning the 500
  series on common dates, the 2,500 x 500 returns, the P&L, the quantiles and ES, the JSON
  view; the median of `--repeat` runs;
- `all_methods_ms`: the same with the three methods;
- `peer_pandas_ms`: a peer in the same run, in alternation with the above — pandas
  (DataFrame.pct_change, the P&L by dot product, Series.quantile and the tail mean) on the
  same aligned closes, historical only — so machine noise hits both alike.

calib.py's loop is timed before and after; `normalised` = time x 0.40 / loop (the mean of
the two), as DEVELOPERS.md says.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


REFERENCE_LOOP_S = 0.40
DAY_NS = 86_400_000_000_000
T0 = 1_104_555_600_000_000_000  # 2005-01-01 midnight New York
SOURCE = "benchmark"


def generated_store(directory: Path, positions: int, days: int) -> Any:
    """A SQLite history store holding GENERATED benchmark closes (not market data)."""
    from mcp_trading.adapters.history import BarColumns, open_history_store

    store = open_history_store(f"sqlite:///{directory / 'history.db'}")
    rng = np.random.default_rng(17)
    ts = T0 + np.arange(days + 1, dtype=np.int64) * DAY_NS
    nan = np.full(days + 1, np.nan)
    with store.writer() as writer:
        for i in range(positions):
            close = 50.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, days + 1)))
            writer.add(f"BENCH{i:03d}", SOURCE, "1Day",
                       BarColumns(ts, close, close, close, close, np.full(days + 1, 1e6), nan))
    return store


def _pandas_peer(series: dict[str, tuple[Any, Any]], values: dict[str, float]) -> float:
    import pandas as pd

    frame = pd.DataFrame({s: pd.Series(c, index=t) for s, (t, c) in series.items()}).dropna()
    pnl = frame.pct_change().iloc[1:] @ pd.Series(values)[frame.columns]
    out = 0.0
    for c in (0.95, 0.99):
        q = pnl.quantile(1 - c)
        out += -q - pnl[pnl <= q].mean()
    return out


def measure(positions: int, days: int, repeat: int) -> dict[str, Any]:
    from mcp_trading.services.risk.analytics import var_of
    from mcp_trading.services.risk.prices import Book, read_history
    from mcp_trading.services.risk.queries import VarQuery

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        t0 = time.perf_counter()
        store = generated_store(Path(tmp), positions, days)
        write_s = time.perf_counter() - t0
        symbols = [f"BENCH{i:03d}" for i in range(positions)]
        t0 = time.perf_counter()
        history = read_history(store, symbols)
        load_s = time.perf_counter() - t0
        store.close()
    values = {s: float(1000 + 10 * i) * (-1 if i % 7 == 0 else 1) for i, s in enumerate(symbols)}
    book = Book("bench", 10_000_000.0, values, ())
    hist = VarQuery((0.95, 0.99), (1, 10), ("historical",), days)
    every = VarQuery((0.95, 0.99), (1, 10), ("historical", "parametric", "cornish_fisher"), days)
    runs: dict[str, list[float]] = {"historical": [], "all": [], "pandas": []}
    body: dict[str, Any] = {}
    for r in range(repeat):
        order = ["historical", "all", "pandas"] if r % 2 == 0 else ["pandas", "all", "historical"]
        for name in order:
            t0 = time.perf_counter()
            if name == "pandas":
                _pandas_peer(history.series, values)
            else:
                body = var_of(book, history, hist if name == "historical" else every)
            runs[name].append((time.perf_counter() - t0) * 1000)
    assert body["window"]["days"] == days and not body["excluded"], body["excluded"]
    return {"positions": positions, "days": days, "repeat": repeat,
            "input": "GENERATED benchmark prices (seeded random walks), not market data",
            "write_generated_s": round(write_s, 3), "load_s": round(load_s, 3),
            "historical_var_ms": round(statistics.median(runs["historical"]), 2),
            "all_methods_ms": round(statistics.median(runs["all"]), 2),
            "peer_pandas_ms": round(statistics.median(runs["pandas"]), 2),
            "historical_var_99_1d": next(f["var"] for f in body["figures"]
                                         if f["confidence"] == 0.99 and f["horizon_days"] == 1
                                         and f["method"] == "historical")}
