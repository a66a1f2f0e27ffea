"""End-of-day report benchmarks (machine-readable JSON on stdout).

    python benchmarks/reports.py [--case daily_trading] [--fills 100000] [--repeat 3]

Cases (`CASES`):
- daily_trading: a day with N fills (N market orders, each filled once, over 12 symbols and
  3 accounts, alternating buy and sell so P&L is realised) is written into a fresh SQLite
  store as journal segments; then `build_trading_report` + `publish` run end to end (journal
  fold, figures, text, HTML, files, stored row). Target: <= 3 s for 100,000 fills.
- performance_summary: the same store plus 10 years (2,520 days) of close snapshots of each
  account (EquitySnapshotted); then `build_performance_report` + `publish` (two journal
  scans, the fold of the day, returns, metrics, text, HTML with four charts).
- historical_var: historical VaR of 500 positions over 2,500 days once the prices are loaded
  (benchmarks/reports_var.py; loading reported apart, pandas as the peer in alternation).
  Target: <= 200 ms.
Normalised = raw x 0.40 / calib (calib: the 10M-add loop, taken before and after).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from launch import calib
from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import journal
from mcp_trading.config import Settings
from mcp_trading.domain.events import (
    AccountOpened,
    EquitySnapshotted,
    Event,
    OrderAccepted,
    OrderFilled,
)
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.kernel import codec
from mcp_trading.reports.daily import build_trading_report, publish
from mcp_trading.reports.performance import build_performance_report
from mcp_trading.reports.trading_source import day_window

SYMBOLS = ("AAPL", "MSFT", "SPY", "QQQ", "AMZN", "NVDA", "GOOGL", "META", "TSLA", "JPM", "V",
           "XOM")
ACCOUNTS = ("paper", "swing-1", "swing-2")
DAY = date(2026, 11, 30)
_SEGMENT = 2_000


def _events(fills: int, start_ns: int) -> list[Event]:
    out: list[Event] = [AccountOpened(a, "USD", Decimal(10_000_000), True, start_ns)
                        for a in ACCOUNTS]
    step = (8 * 3600 * 10**9) // max(fills, 1)
    t0 = start_ns + 9 * 3600 * 10**9
    for i in range(fills):
        symbol, account = SYMBOLS[i % len(SYMBOLS)], ACCOUNTS[i % len(ACCOUNTS)]
        side = "buy" if (i // 36) % 2 == 0 else "sell"
        mid = Decimal(100 + (i % 500) / 100).quantize(Decimal("0.01"))
        req = OrderRequest.parse(symbol=symbol, side=side, qty=10)
        ts = t0 + i * step
        oid = f"o{i}"
        out.append(OrderAccepted(oid, account, req, mid, Decimal(0), True, ts, None,
                                 f"strategy:s{i % 4}", ts, mid))
        price = mid + Decimal("0.01") if side == "buy" else mid - Decimal("0.01")
        out.append(OrderFilled(oid, Decimal(10), price, Decimal("0.05"), ts + 1000))
    return out


def _snapshots(days: int) -> list[Event]:
    """Close snapshots of every account on each of `days` weekdays before DAY (a walk)."""
    out: list[Event] = []
    day, equity = date.fromordinal(DAY.toordinal() - 1), 10_000_000.0
    for i in range(days):
        while day.weekday() >= 5:
            day = date.fromordinal(day.toordinal() - 1)
        equity *= 1 + ((i * 7919) % 201 - 100) / 10_000
        ts = day_window(day)[0] + 16 * 3600 * 10**9
        out += [EquitySnapshotted(a, day.isoformat(), Decimal(f"{equity:.2f}"),
                                  Decimal(f"{equity:.2f}"), (), "close", "bench", ts)
                for a in ACCOUNTS]
        day = date.fromordinal(day.toordinal() - 1)
    return out[::-1]


def _store(folder: Path, fills: int, snapshot_days: int = 0) -> Settings:
    settings = Settings(data_dir=folder)
    engine = create_store_engine(settings.resolved_database_url)
    upgrade(engine)
    start = day_window(DAY)[0] - snapshot_days * 2 * 86_400 * 10**9
    events = [*[AccountOpened(a, "USD", Decimal(10_000_000), True, start) for a in ACCOUNTS],
              *_snapshots(snapshot_days), *_events(fills, day_window(DAY)[0])[len(ACCOUNTS):]]
    with engine.begin() as conn:
        rows = []
        for first in range(0, len(events), _SEGMENT):
            rec = codec.segment_of(first + 1, events[first:first + _SEGMENT])
            rows.append({"seq": rec.seq, "kind": rec.kind, "ts": rec.ts, "payload": rec.payload})
        conn.execute(insert(journal), rows)
    engine.dispose()
    return settings


def daily_trading(fills: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        t0 = time.perf_counter()
        settings = _store(Path(tmp), fills)
        generate = time.perf_counter() - t0
        times, build = [], []
        doc: dict[str, Any] = {}
        for _ in range(repeat):
            t0 = time.perf_counter()
            report = build_trading_report(settings, DAY)
            t1 = time.perf_counter()
            publish(settings, report)
            times.append(time.perf_counter() - t0)
            build.append(t1 - t0)
            doc = report.document
    assert doc["totals"]["fills"] == fills, doc["totals"]
    return {"case": "daily_trading", "fills": fills, "generate_s": round(generate, 3),
            "end_to_end_s": [round(t, 3) for t in times],
            "median_s": round(statistics.median(times), 3),
            "build_median_s": round(statistics.median(build), 3), "target_s": 3.0,
            "html_bytes": len(report.html), "symbols": len(doc["pnl_by_symbol"])}


def performance_summary(fills: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-perf-") as tmp:
        settings = _store(Path(tmp), fills, snapshot_days=2_520)
        times = []
        doc: dict[str, Any] = {}
        for _ in range(repeat):
            t0 = time.perf_counter()
            report = build_performance_report(settings, DAY)
            publish(settings, report)
            times.append(time.perf_counter() - t0)
            doc = report.document
    assert doc["totals"]["metrics"]["returns"] >= 2_519, doc["totals"]["metrics"]
    return {"case": "performance_summary", "fills": fills, "snapshot_days": 2_520,
            "end_to_end_s": [round(t, 3) for t in times],
            "median_s": round(statistics.median(times), 3), "html_bytes": len(report.html)}


def historical_var(_fills: int, repeat: int) -> dict[str, Any]:
    from reports_var import measure

    figures = measure(500, 2500, max(repeat, 5))
    return {"case": "historical_var", **figures,
            "median_s": figures["historical_var_ms"] / 1000, "target_s": 0.2}


CASES: dict[str, Callable[[int, int], dict[str, Any]]] = {
    "daily_trading": daily_trading, "historical_var": historical_var,
    "performance_summary": performance_summary}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--fills", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    before = calib()
    results = [CASES[name](args.fills, args.repeat) for name in args.case or sorted(CASES)]
    after = calib()
    loop = statistics.median([before, after])
    for r in results:
        r["normalised_median_s"] = round(r["median_s"] * 0.40 / loop, 3)
        r["passes"] = r["normalised_median_s"] <= r["target_s"]
    print(json.dumps({"calib_s": {"before": before, "after": after}, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
