"""Throughput of the whole kernel path: risk checks, matching, positions, durable journal.

    python benchmarks/kernel.py --json            # SQLite (WAL, synchronous=FULL) + in-memory journal
    python benchmarks/kernel.py --orders 50000    # fewer orders, human-readable output
    python benchmarks/kernel.py --repeat 5        # the median of 5 runs per journal (default 3)

Orders are acknowledged only when the group-commit journal reports them durable; the clock
stops after the last acknowledgement. The workload is a seeded mix of market and limit orders
(some marketable, some resting) from 10 accounts over 50 symbols, with a quote every 10
orders; every pre-trade limit is enabled (set wide enough that most orders pass).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from mcp_trading.adapters.store import MemoryJournalStore, open_store, upgrade
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderStatus, OrderType, TimeInForce
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel.ports import JournalStore
from mcp_trading.kernel.runtime import recover, tune_gc_for_kernel

SYMBOLS = [f"S{i:02d}" for i in range(50)]
ACCOUNTS = [f"acct{i}" for i in range(10)]
LIMITS: dict[str, object] = {
    "max_order_qty": 10_000, "max_order_notional": 5_000_000, "max_position_qty": 1_000_000,
    "max_gross_exposure": 1_000_000_000, "price_collar_pct": 10, "max_quote_age_s": 5,
    "max_orders_per_second": 1_000_000, "daily_loss_limit": 1_000_000_000, "max_drawdown_pct": 99,
}
CENT = Decimal("0.01")


def _workload(n_orders: int, seed: int) -> list[tuple[str, Any]]:
    """Pre-built commands so the timed loop measures the kernel, not the generator."""
    rng = random.Random(seed)
    prices = {s: rng.randint(2_000, 50_000) for s in SYMBOLS}  # cents
    ops: list[tuple[str, Any]] = []
    ts = 0
    for s in SYMBOLS:
        ops.append(("quote", _quote(s, prices[s], ts)))
    for i in range(n_orders):
        if i % 10 == 0:
            s = rng.choice(SYMBOLS)
            prices[s] = max(100, prices[s] + rng.randint(-3, 3))
            ts += 1_000_000
            ops.append(("quote", _quote(s, prices[s], ts)))
        s = rng.choice(SYMBOLS)
        side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
        qty = Decimal(rng.randint(1, 100))
        if rng.random() < 0.5:
            req = OrderRequest(symbol=s, qty=qty, side=side, type=OrderType.MARKET,
                               time_in_force=TimeInForce.DAY)
        else:
            offset = rng.randint(-5, 5)
            limit = Decimal(prices[s] + (offset if side is OrderSide.BUY else -offset)) * CENT
            req = OrderRequest(symbol=s, qty=qty, side=side, type=OrderType.LIMIT,
                               time_in_force=TimeInForce.GTC, limit_price=limit)
        ops.append(("order", (rng.choice(ACCOUNTS), req)))
    return ops


def _quote(symbol: str, mid_cents: int, ts: int) -> Quote:
    bid = Decimal(mid_cents - 1) * CENT
    ask = Decimal(mid_cents + 1) * CENT
    return Quote(symbol, bid, ask, Decimal(500), Decimal(500), Decimal(mid_cents) * CENT, ts)


def run(store: JournalStore, n_orders: int, seed: int) -> dict[str, Any]:
    ops = _workload(n_orders, seed)
    clock = ManualClock(0)
    instruments = {s: Instrument(symbol=s) for s in SYMBOLS}
    runtime = recover(store, instruments=instruments, clock=clock, calendar=AlwaysOpen(),
                      snapshot_every=0)
    kernel, journal = runtime.kernel, runtime.journal
    for a in ACCOUNTS:
        kernel.open_account(a, Decimal(50_000_000), allow_short=True)
        kernel.set_limits(a, LIMITS, actor="benchmark")
    kernel.set_limits(None, LIMITS, actor="benchmark")
    journal.flush()
    tune_gc_for_kernel()  # as the platform's kernel process does
    submit, on_quote = kernel.submit, kernel.on_quote
    accepted = rejected = filled = 0
    orders = []
    started = time.perf_counter()
    for kind, payload in ops:
        if kind == "quote":
            clock.set(payload.ts)
            on_quote(payload)
        else:
            orders.append(submit(payload[0], payload[1]))
    journal.wait_durable(kernel.seq, timeout=120)  # every order acknowledged = journaled
    elapsed = time.perf_counter() - started
    for order in orders:
        if order.status is OrderStatus.REJECTED:
            rejected += 1
        else:
            accepted += 1
            filled += order.status is OrderStatus.FILLED
    result = {
        "orders": n_orders,
        "seconds": round(elapsed, 3),
        "orders_per_s": round(n_orders / elapsed),
        "accepted": accepted,
        "rejected": rejected,
        "filled": filled,
        "events": kernel.seq,
        "commit_batches": journal.batches,
        "events_per_commit": round(kernel.seq / max(journal.batches, 1), 1),
    }
    runtime.close()
    return result


def _one(journal: str, orders: int, seed: int) -> dict[str, Any]:
    """One run in this process, on a fresh journal."""
    if journal == "memory":
        return run(MemoryJournalStore(), orders, seed)
    with tempfile.TemporaryDirectory(prefix="mcp-trading-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'journal.db'}"
        upgrade(url)
        return run(open_store(url), orders, seed)


def _median_run(journal: str, orders: int, seed: int,
                repeat: int) -> tuple[dict[str, Any], list[int]]:
    """`repeat` runs, each in its own process (as the platform runs one kernel per process,
    and so no run inherits another's heap); the median run and every run's figure."""
    runs = []
    for i in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--one", journal, "--orders", str(orders),
             "--seed", str(seed)], check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out))
        print(f"{journal} run {i + 1}/{repeat}: {runs[-1]['orders_per_s']:,} orders/s",
              file=sys.stderr, flush=True)
    ranked = sorted(runs, key=lambda r: r["orders_per_s"])
    return ranked[len(ranked) // 2], [r["orders_per_s"] for r in runs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per journal; the median is reported (a shared 2-core machine "
                             "moves single runs by +-10 %%)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--one", choices=("sqlite", "memory"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.orders, args.seed)))
        return 0
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    sqlite, sqlite_runs = _median_run("sqlite", args.orders, args.seed, args.repeat)
    memory, memory_runs = _median_run("memory", args.orders, args.seed, args.repeat)
    result = {
        "orders_per_s": sqlite["orders_per_s"],
        "journal": "sqlite (WAL, synchronous=FULL, group commit)",
        "statistic": f"median of {args.repeat} runs",
        "sqlite_runs_orders_per_s": sqlite_runs,
        "sqlite": sqlite,
        "memory_orders_per_s": memory["orders_per_s"],
        "memory_runs_orders_per_s": memory_runs,
        "memory": memory,
        "python": sys.version.split()[0],
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name in ("sqlite", "memory"):
            r = result[name]
            print(f"{name:7s} {r['orders_per_s']:>9,} orders/s  ({r['orders']:,} orders in "
                  f"{r['seconds']} s; {r['accepted']:,} accepted, {r['rejected']:,} rejected, "
                  f"{r['filled']:,} filled; {r['events_per_commit']} events per commit; "
                  f"median of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
