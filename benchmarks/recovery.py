"""Recovery: restart a kernel from a 1M-event SQLite journal and its latest snapshot.

    python benchmarks/recovery.py [--events 1000000] [--snapshot-every 100000] [--json]

Builds the journal first (not timed): a seeded mix of market orders that fill and limit
orders that are canceled, every one with a client_order_id, released from memory as the
platform does once the projections hold them, a snapshot every `--snapshot-every` events (so
the latest one is up to that many events old: the tail replayed is the worst case). Then, in
a fresh process (no inherited heap), times what `Platform.open` does: load the latest
snapshot, replay the journal after it, release what the projections hold. Reports seconds,
the tail replayed, the kernel process's RSS after recovery, and `normalised_s` =
seconds x 0.40 / the calibration loop's seconds (`--calib`, from
`python /work/shared/tools/calib.py`; measured here when not given). Target: <= 5 s.
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

from mcp_trading.adapters.store import open_store, upgrade
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel.runtime import recover, tune_gc_for_kernel

SYMBOLS = [f"S{i:02d}" for i in range(50)]
CALIB = Path("/work/shared/tools/calib.py")


def build(url: str, events: int, snapshot_every: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    clock = ManualClock(0)
    instruments = {s: Instrument(symbol=s) for s in SYMBOLS}
    runtime = recover(open_store(url), instruments=instruments, clock=clock,
                      calendar=AlwaysOpen(), snapshot_every=snapshot_every)
    kernel, journal = runtime.kernel, runtime.journal
    kernel.open_account("bench", Decimal(10) ** 12, allow_short=True)
    ts, i, snapshots = 1, 0, 0
    working: list[str] = []
    mids = {s: 10_000 + rng.randrange(10_000) for s in SYMBOLS}
    while kernel.seq < events:
        ts += 1_000_000
        clock.set(ts)
        symbol = SYMBOLS[i % len(SYMBOLS)]
        if i % 10 == 0:
            mid = mids[symbol] = max(100, mids[symbol] + rng.randrange(-20, 21))
            kernel.on_quote(Quote(symbol, Decimal(mid - 1) / 100, Decimal(mid + 1) / 100,
                                  Decimal(10**9), Decimal(10**9), None, ts))
        side = OrderSide.BUY if rng.random() < 0.5 else OrderSide.SELL
        if i % 5 < 3:
            request = OrderRequest(symbol, Decimal(1 + i % 7), side, OrderType.MARKET,
                                   TimeInForce.DAY, client_order_id=f"r-{i:09d}")
        else:
            limit = Decimal(mids[symbol] // 2) / 100 if side is OrderSide.BUY else Decimal(
                mids[symbol] * 2) / 100
            request = OrderRequest(symbol, Decimal(1 + i % 7), side, OrderType.LIMIT,
                                   TimeInForce.GTC, limit_price=limit,
                                   client_order_id=f"r-{i:09d}")
        order = kernel.submit("bench", request)
        if request.type is OrderType.LIMIT:
            working.append(order.id)
            if len(working) > 2_000:  # a working book of ~2,000 orders
                kernel.cancel(working.pop(rng.randrange(len(working))))
        i += 1
        if i % 1_000 == 0:
            journal.flush()
            kernel.state.release(journal.durable_seq)  # the projections caught up
            if runtime.maybe_snapshot():
                snapshots += 1
    journal.flush()
    kernel.state.release(journal.durable_seq)
    result = {"events": kernel.seq, "orders": i, "snapshots": snapshots,
              "working": len(working), "dedupe_entries": len(kernel.state.dedupe)}
    runtime.close()
    return result


def measure(url: str) -> dict[str, Any]:
    """One recovery, in this (fresh) process."""
    instruments = {s: Instrument(symbol=s) for s in SYMBOLS}
    started = time.perf_counter()
    runtime = recover(open_store(url), instruments=instruments, clock=ManualClock(0),
                      calendar=AlwaysOpen(), snapshot_every=0)
    state = runtime.kernel.state
    state.release(runtime.journal.durable_seq)  # Platform.open: what the projections hold
    tune_gc_for_kernel()
    seconds = time.perf_counter() - started
    rss = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    report = runtime.report
    out = {"seconds": round(seconds, 3), "snapshot_seq": report.snapshot_seq,
           "replayed": report.replayed, "last_seq": report.last_seq,
           "orders_in_memory": len(state.orders), "dedupe_entries": len(state.dedupe),
           "rss_mb": round(rss, 1)}
    runtime.close()
    return out


def calib() -> float:
    out = subprocess.run([sys.executable, str(CALIB)], check=True, capture_output=True,
                         text=True).stdout
    return float(out.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--snapshot-every", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="recoveries; the median is reported")
    parser.add_argument("--calib", type=float, help="calib.py's figure on this machine, now")
    parser.add_argument("--json", action="store_true", help="(the output is always JSON)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    with tempfile.TemporaryDirectory(prefix="mcp-trading-recovery-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'journal.db'}"
        upgrade(url)
        t0 = time.perf_counter()
        built = build(url, args.events, args.snapshot_every, args.seed)
        built["build_s"] = round(time.perf_counter() - t0, 1)
        print(f"[recovery] built {built}", file=sys.stderr, flush=True)
        before = args.calib if args.calib is not None else calib()
        runs = []
        for n in range(args.repeat):
            out = subprocess.run([sys.executable, __file__, "--measure", url], check=True,
                                 capture_output=True, text=True).stdout
            runs.append(json.loads(out))
            print(f"[recovery] run {n + 1}: {runs[-1]}", file=sys.stderr, flush=True)
        after = calib()
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    loop = (before + after) / 2
    result = {
        "journal": built, "recovery": median, "runs_s": [r["seconds"] for r in runs],
        "calib_before_s": before, "calib_after_s": after,
        "normalised_s": round(median["seconds"] * 0.40 / loop, 3),
        "target_s": 5.0,
    }
    result["meets_target"] = result["normalised_s"] <= 5.0
    print(json.dumps(result, indent=2))
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
