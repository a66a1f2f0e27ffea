"""The report's light fold (reports/day_fold.py) gives exactly the rows of the kernel's own
replay (reports/day_replay.py) on a generated day: every order path (accepted, routed,
partial and complete fills, cancels, expiries, replaces, rejections), short and flipped
positions, an internal account, halts and maintenance, history before the day that starts
from a snapshot, and events after the day that must be left out."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import journal, snapshots
from mcp_trading.domain.events import (
    AccountOpened,
    Event,
    MaintenanceChanged,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderRouted,
    TradingStateChanged,
)
from mcp_trading.domain.models import SlippageModel
from mcp_trading.domain.orders import OrderRequest, OrderStatus
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel import codec
from mcp_trading.kernel import snapshot as snapshot_codec
from mcp_trading.kernel.state import KernelState
from mcp_trading.reports.day_replay import KernelReplay
from mcp_trading.reports.trading_source import day_window, read_day

DAY = date(2026, 3, 9)  # the Monday after the DST change: a 23-hour day
SYMBOLS = ("AAPL", "MSFT", "SPY")
ACCOUNTS = ("paper", "swing-1", "_selftest")
_OPEN = (OrderStatus.ACCEPTED, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class _Day:
    """Random but legal events: each is applied to a kernel state as it is made."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.state = KernelState(default_instruments(), SlippageModel())
        self.events: list[Event] = []
        self.snapshot: tuple[int, bytes] | None = None
        self.n = 0

    def add(self, event: Event) -> None:
        self.events.append(event)
        self.state.apply(len(self.events), event)

    def order(self, ts: int) -> None:
        rng, self.n = self.rng, self.n + 1
        account = rng.choice(ACCOUNTS)
        req = OrderRequest.parse(symbol=rng.choice(SYMBOLS), side=rng.choice(["buy", "sell"]),
                                 qty=rng.choice([5, 10, 30]))
        mid = Decimal(rng.randint(9_000, 11_000)) / 100
        who = rng.choice([None, "agent:a", "strategy:s1", "cli"])
        if rng.random() < 0.1:
            self.add(OrderRejected(f"o{self.n}", account, req, "RISK_MAX_NOTIONAL",
                                   "too big", who, ts))
            return
        self.add(OrderAccepted(f"o{self.n}", account, req, mid, Decimal(0),
                               rng.random() < 0.7, ts, None, who, ts,
                               None if rng.random() < 0.05 else mid))

    def act(self, ts: int) -> None:
        rng = self.rng
        live = [o for o in self.state.orders.values() if o.status in _OPEN]
        roll = rng.random()
        if not live or roll < 0.35:
            self.order(ts)
        elif roll < 0.85:
            o = rng.choice(live)
            if o.status is OrderStatus.ACCEPTED and rng.random() < 0.5:
                self.add(OrderRouted(o.id, ts))
                return
            leaves = o.qty - o.filled_qty
            qty = leaves if rng.random() < 0.6 else min(leaves, Decimal(rng.randint(1, 4)))
            price = Decimal(rng.randint(9_000, 11_000)) / 100
            self.add(OrderFilled(o.id, qty, price, Decimal(rng.choice(["0", "0.05"])), ts))
        elif roll < 0.95:
            o = rng.choice(live)
            end = rng.choice([OrderCanceled(o.id, "user", ts), OrderExpired(o.id, ts),
                              OrderReplaced(o.id, f"r{o.id}", ts)])
            self.add(end)
        else:
            self.controls(ts)

    def controls(self, ts: int) -> None:
        if self.rng.random() < 0.5:
            state = self.rng.choice(list(TradingState))
            self.add(TradingStateChanged(self.rng.choice([None, "paper"]), state, "drill",
                                         "operator:test", ts))
        else:
            self.add(MaintenanceChanged(self.rng.random() < 0.5, self.rng.choice(["", "x"]),
                                        "operator:test", ts))

    def build(self, start_ns: int, end_ns: int) -> None:
        t0 = start_ns - 20 * 3600 * 10**9  # the evening before
        for i, account in enumerate(ACCOUNTS):
            self.add(AccountOpened(account, "USD", Decimal(1_000_000), True, t0 + i,
                                   account.startswith("_")))
        ts, step = t0 + 10, (end_ns + 5 * 3600 * 10**9 - t0) // 1_500
        for _ in range(1_500):
            ts += self.rng.randint(step // 2, step * 3 // 2)
            self.act(ts)
            if self.snapshot is None and ts > start_ns - 6 * 3600 * 10**9:
                self.snapshot = (len(self.events), snapshot_codec.dump(self.state).payload)


def _store(folder: Path, made: _Day) -> str:
    url = f"sqlite:///{folder / 'journal.db'}"
    engine = create_store_engine(url)
    upgrade(engine)
    rows, first, rng = [], 0, random.Random(1)
    while first < len(made.events):
        size = rng.choice([1, 1, 7, 50])
        batch = made.events[first:first + size]
        rec = (codec.record(first + 1, batch[0]) if size == 1
               else codec.segment_of(first + 1, batch))
        rows.append({"seq": rec.seq, "kind": rec.kind, "ts": rec.ts, "payload": rec.payload})
        first += len(batch)
    with engine.begin() as conn:
        conn.execute(insert(journal), rows)
        if made.snapshot is not None:
            conn.execute(insert(snapshots), [{"seq": made.snapshot[0], "created_at": 0,
                                               "payload": made.snapshot[1]}])
    engine.dispose()
    return url


def test_light_fold_rows_equal_the_kernel_replay(tmp_path: Path) -> None:
    start_ns, end_ns = day_window(DAY)
    statuses: set[str] = set()
    for seed in range(3):
        made = _Day(seed)
        made.build(start_ns, end_ns)
        assert made.snapshot is not None  # the fold starts from it, not from seq 0
        (tmp_path / str(seed)).mkdir()
        url = _store(tmp_path / str(seed), made)
        for day in (DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)):
            light, reference = read_day(url, day), read_day(url, day, KernelReplay)
            assert light == reference, (seed, day)
        rows = read_day(url, DAY)
        # the generated day exercises what it claims to
        assert len(rows.fills) > 100 and rows.controls and rows.notes
        statuses |= {o.status for o in rows.orders}
        assert any(p.qty < 0 for p in rows.positions)
        assert not any(o.account_id.startswith("_") for o in rows.orders)
        assert any(f.realized for f in rows.fills)
    assert statuses >= {"filled", "partially_filled", "canceled", "expired", "replaced",
                        "rejected", "accepted"}
