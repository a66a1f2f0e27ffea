"""Shared fixtures: a kernel on a manual clock with a list journal, and quote/order helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from mcp_trading.clocks import ManualClock
from mcp_trading.domain.accounts import Account
from mcp_trading.domain.events import Event
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import Order, OrderRequest
from mcp_trading.domain.sessions import AlwaysOpen, Session, SessionCalendar
from mcp_trading.kernel.kernel import Kernel, KernelConfig

NS = 1_000_000_000
DAY_NS = 86_400 * NS
START_NS = ManualClock().now_ns()  # 2026-01-01T00:00:00Z, the start of an AlwaysOpen session


def instruments() -> dict[str, Instrument]:
    return {
        "AAPL": Instrument(symbol="AAPL", name="Apple"),
        "MSFT": Instrument(symbol="MSFT", name="Microsoft"),
        "HALT": Instrument(symbol="HALT", tradable=False, name="suspended"),
    }


class ExchangeHours:
    """A fake calendar: one session a day from `open_s` to `close_s` seconds after UTC midnight."""

    name = "exchange_hours"

    def __init__(self, open_s: int = 14 * 3600 + 1800, close_s: int = 21 * 3600) -> None:
        self.open_s = open_s
        self.close_s = close_s

    def session_at(self, ts: int) -> Session:
        midnight = ts - ts % DAY_NS
        close = midnight + self.close_s * NS
        if ts >= close:
            midnight += DAY_NS
            close += DAY_NS
        return Session(str(midnight // DAY_NS), midnight + self.open_s * NS, close)


@dataclass
class Harness:
    """A kernel plus the clock and the journal it writes to."""

    kernel: Kernel
    clock: ManualClock
    events: list[tuple[int, Event]] = field(default_factory=list)

    @property
    def account(self) -> Account:
        return self.kernel.state.accounts["paper"]

    def advance(self, seconds: float) -> int:
        return self.clock.advance(int(seconds * NS))

    def quote(self, bid: str | Decimal = "100.00", ask: str | Decimal = "100.02", *,
              symbol: str = "AAPL", bid_size: int = 1_000, ask_size: int = 1_000,
              last: str | Decimal | None = None) -> Quote:
        """Feed a quote stamped with the clock's current time."""
        q = Quote(symbol, Decimal(bid), Decimal(ask), Decimal(bid_size), Decimal(ask_size),
                  None if last is None else Decimal(last), self.clock.now_ns())
        self.kernel.on_quote(q)
        return q

    def submit(self, account: str = "paper", **fields: object) -> Order:
        fields.setdefault("symbol", "AAPL")
        return self.kernel.submit(account, OrderRequest.parse(**fields))

    def buy(self, qty: int | str, account: str = "paper", **fields: object) -> Order:
        return self.submit(account, qty=qty, side="buy", **fields)

    def sell(self, qty: int | str, account: str = "paper", **fields: object) -> Order:
        return self.submit(account, qty=qty, side="sell", **fields)

    def event_names(self, after_seq: int = 0) -> list[str]:
        return [type(e).__name__ for s, e in self.events if s > after_seq]


MakeKernel = Callable[..., Harness]


@pytest.fixture
def make_kernel() -> MakeKernel:
    """Build a kernel with the default 'paper' account (100,000 USD) and a list journal."""

    def build(*, config: KernelConfig | None = None, calendar: SessionCalendar | None = None,
              start_ns: int = START_NS) -> Harness:
        clock = ManualClock(start_ns)
        events: list[tuple[int, Event]] = []
        kernel = Kernel(instruments=instruments(), clock=clock, calendar=calendar or AlwaysOpen(),
                        journal=lambda seq, ev: events.append((seq, ev)),
                        config=config or KernelConfig(id_base=1))
        kernel.ensure_default_account()
        return Harness(kernel, clock, events)

    return build


@pytest.fixture
def exchange_hours() -> ExchangeHours:
    """A calendar open 14:30-21:00 UTC each day, so a kernel started at midnight is closed."""
    return ExchangeHours()


@pytest.fixture
def h(make_kernel: MakeKernel) -> Harness:
    """A default kernel."""
    return make_kernel()
