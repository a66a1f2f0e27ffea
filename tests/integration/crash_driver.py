"""A kernel in a process of its own, for the crash-recovery test.

    python crash_driver.py URL --seed N     recover from the journal at URL, then trade until
                                            killed: print "READY <seq>" once recovered, then
                                            one "ACK <order_id> <status> <filled_qty>" line
                                            per order a command touched, each only after the
                                            journal reports the command durable
    python crash_driver.py URL --dump       recover, print the state and the journal's fills
                                            as one JSON object, and exit
                                            (--no-snapshot replays the whole journal)

Quotes are simulated here (a seeded random walk on the cent grid); the clock is the wall
clock and the calendar AlwaysOpen, as in a live paper deployment.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from decimal import Decimal

from mcp_trading.adapters.store import open_store, upgrade
from mcp_trading.clocks import WallClock
from mcp_trading.domain.events import OrderFilled
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import WORKING, Order, OrderRequest, OrderSide
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel import codec
from mcp_trading.kernel.kernel import Kernel, KernelConfig
from mcp_trading.kernel.runtime import KernelRuntime, recover

INSTRUMENTS = {s: Instrument(symbol=s) for s in ("AAA", "BBB")}
START_CENTS = {"AAA": 10_000, "BBB": 4_000}
SHORT_ACCOUNT = "short"  # the default account "paper" is long-only
CENT = Decimal("0.01")


def _recover(url: str, *, use_snapshot: bool = True) -> KernelRuntime:
    return recover(open_store(url), instruments=INSTRUMENTS, clock=WallClock(),
                   calendar=AlwaysOpen(), config=KernelConfig(), snapshot_every=40,
                   use_snapshot=use_snapshot)


def _ack(order: Order) -> None:
    print(f"ACK {order.id} {order.status} {order.filled_qty}", flush=True)


class Trader:
    """Random but valid traffic: quotes, orders of several kinds, cancels."""

    def __init__(self, kernel: Kernel, seed: int) -> None:
        self.kernel = kernel
        self.rng = random.Random(seed)
        self.bid = dict(START_CENTS)

    def quote(self) -> list[Order]:
        """Send one quote; return the orders it filled."""
        rng, k = self.rng, self.kernel
        symbol = rng.choice(sorted(INSTRUMENTS))
        bid = self.bid[symbol] = max(self.bid[symbol] + rng.randint(-3, 3), 100)
        ask = bid + rng.randint(1, 3)
        working = [o for a in k.state.accounts.values() for o in a.open_orders.values()
                   if o.symbol == symbol]
        before = {o.id: o.filled_qty for o in working}
        k.on_quote(Quote(symbol, bid * CENT, ask * CENT, Decimal(rng.randint(0, 40) * 10),
                         Decimal(rng.randint(0, 40) * 10), None, k.clock.now_ns()))
        return [o for o in working if o.filled_qty != before[o.id] or o.status not in WORKING]

    def order(self) -> Order:
        rng = self.rng
        symbol = rng.choice(sorted(INSTRUMENTS))
        kind = rng.choice(["market", "limit", "limit"])
        raw: dict[str, object] = {
            "symbol": symbol, "qty": rng.randint(1, 60), "side": rng.choice(["buy", "sell"]),
            "type": kind,
            "time_in_force": rng.choice(["day", "ioc"] if kind == "market" else ["day", "gtc", "ioc", "fok"]),
        }
        if kind == "limit":  # marketable or not, a few cents either side of the touch
            raw["limit_price"] = str((self.bid[symbol] + rng.randint(-4, 6)) * CENT)
        account = rng.choice([self.kernel.config.default_account, SHORT_ACCOUNT])
        return self.kernel.submit(account, OrderRequest.parse(**raw), attribution="crash-test")

    def cancel(self) -> Order | None:
        working = [o for a in self.kernel.state.accounts.values() for o in a.open_orders.values()]
        if not working:
            return None
        order = self.rng.choice(working)
        return self.kernel.cancel(order.id)


def trade(url: str, seed: int) -> None:
    upgrade(url)
    runtime = _recover(url)
    kernel, journal = runtime.kernel, runtime.journal
    if SHORT_ACCOUNT not in kernel.state.accounts:
        kernel.open_account(SHORT_ACCOUNT, Decimal(1_000_000), allow_short=True)
    journal.wait_durable(kernel.seq)
    print(f"READY {kernel.seq}", flush=True)
    trader = Trader(kernel, seed)
    while True:
        touched = trader.quote()
        roll = trader.rng.random()
        if roll < 0.8:
            touched.append(trader.order())
        elif roll < 0.95:
            canceled = trader.cancel()
            if canceled is not None:
                touched.append(canceled)
        journal.wait_durable(kernel.seq)  # the acknowledgement waits for the disk
        for order in touched:
            _ack(order)
        runtime.maybe_snapshot()


def dump(url: str, *, use_snapshot: bool) -> None:
    runtime = _recover(url, use_snapshot=use_snapshot)
    state = runtime.kernel.state
    fills: dict[str, dict[str, Decimal]] = {a: {} for a in state.accounts}
    fill_cash: dict[str, Decimal] = {a.id: a.start_cash for a in state.accounts.values()}
    for _, event in codec.events(runtime.journal.store.read()):
        if isinstance(event, OrderFilled):
            order = state.orders[event.order_id]
            signed = event.qty if order.side is OrderSide.BUY else -event.qty
            fills[order.account_id][order.symbol] = fills[order.account_id].get(order.symbol, 0) + signed
            fill_cash[order.account_id] -= signed * event.price + event.commission
    report = {
        "seq": state.seq,
        "snapshot_seq": runtime.report.snapshot_seq,
        "replayed": runtime.report.replayed,
        "orders": {o.id: {"status": str(o.status), "filled_qty": str(o.filled_qty), "qty": str(o.qty)}
                   for o in state.orders.values()},
        "positions": {a.id: {s: str(p.qty) for s, p in a.positions.items()}
                      for a in state.accounts.values()},
        "cash": {a.id: str(a.cash) for a in state.accounts.values()},
        "reserved": {a.id: str(a.reserved) for a in state.accounts.values()},
        "open_reserved": {a.id: str(sum((o.reserved for o in a.open_orders.values()), Decimal(0)))
                          for a in state.accounts.values()},
        "fills": {a: {s: str(q) for s, q in by_symbol.items()} for a, by_symbol in fills.items()},
        "cash_from_fills": {a: str(c) for a, c in fill_cash.items()},
    }
    runtime.close()
    json.dump(report, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dump", action="store_true")
    parser.add_argument("--no-snapshot", action="store_true")
    args = parser.parse_args()
    if args.dump:
        dump(args.url, use_snapshot=not args.no_snapshot)
    else:
        trade(args.url, args.seed)


if __name__ == "__main__":
    main()
