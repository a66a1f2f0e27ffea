"""A real trading history for the archival and integrity tests, made by the real kernel.

    python trading_days.py DATA_DIR --days N [--start 2024-01-02] [--orders 20]

recovers the kernel from DATA_DIR's SQLite journal (the platform's own settings: the same
files `mcp-trading start` uses), then trades `--orders` orders a day for N days on a manual
clock (market orders that fill, limit orders that rest and are canceled), snapshots every
200 events, and folds the projections. Run as a program (the fault tests kill it) or call
`trade_days` in-process.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.store import Projector, open_store, upgrade
from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel.runtime import recover

DAY_NS = 86_400 * 1_000_000_000
SYMBOLS = ("AAPL", "MSFT")
CENT = Decimal("0.01")


def day_ns(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


def trade_days(data_dir: Path, *, start: str = "2024-01-02", days: int = 5,
               per_day: int = 20, seed: int = 7, database_url: str | None = None) -> int:
    """Trade `days` days from `start`; return the journal's last seq."""
    settings = Settings(data_dir=data_dir, database_url=database_url)
    data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    upgrade(url)
    upgrade(settings.resolved_reports_url)
    rng = random.Random(seed)
    clock = ManualClock(day_ns(start) + 14 * 3_600 * 1_000_000_000)
    runtime = recover(open_store(url), instruments=default_instruments(), clock=clock,
                      calendar=AlwaysOpen(), config=settings.kernel_config(),
                      snapshot_every=200, snapshot_mode="thread")
    kernel = runtime.kernel
    try:
        for day in range(days):
            clock.set(day_ns(start) + day * DAY_NS + 14 * 3_600 * 1_000_000_000)
            for n in range(per_day):
                symbol = SYMBOLS[n % 2]
                bid = Decimal(100 + rng.randint(-200, 200) * 0.01).quantize(CENT)
                kernel.on_quote(Quote(symbol, bid, bid + CENT, Decimal(500), Decimal(500),
                                      None, clock.advance(1_000_000_000)))
                side = OrderSide.BUY if n % 3 else OrderSide.SELL
                if n % 4 == 3:
                    order = kernel.submit("paper", OrderRequest(
                        symbol, Decimal(5), OrderSide.BUY, OrderType.LIMIT, TimeInForce.DAY,
                        limit_price=bid - 5))
                    kernel.cancel(order.id)
                else:
                    kernel.submit("paper", OrderRequest(
                        symbol, Decimal(rng.randint(1, 9)), side, OrderType.MARKET,
                        TimeInForce.DAY, client_order_id=f"{start}-d{day}-{n}"))
                runtime.journal.flush()
                runtime.maybe_snapshot()
        runtime.journal.flush()
        last = kernel.seq
    finally:
        runtime.close()
    projector = Projector(settings.resolved_reports_url, source=open_store(url))
    try:
        projector.catch_up()
    finally:
        projector.close()
    return last


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--start", default="2024-01-02")
    parser.add_argument("--orders", type=int, default=20)
    args = parser.parse_args()
    print(trade_days(args.data_dir, start=args.start, days=args.days, per_day=args.orders))


if __name__ == "__main__":
    main()
