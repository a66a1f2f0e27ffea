"""Kernel invariants under random command sequences (hypothesis).

Each example builds a kernel on a manual clock, opens a few accounts and runs a random list of
commands against it: quotes (a random walk on each symbol's tick grid), submits of every order
type and time in force, cancels and replaces of random existing orders, halts and resumes,
limit changes, timer ticks and clock advances across UTC days. Only the domain's intended
errors (refusals: errors of a kind) are tolerated. Afterwards the book is checked against the journal:
positions and cash against the recorded fills, reservations against the open orders, terminal
orders against how they looked when they became terminal, and the whole state against a
replay of the journal (through the codec) and a snapshot round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_trading.clocks import ManualClock
from mcp_trading.domain.accounts import Account
from mcp_trading.domain.errors import IllegalTransitionError, TradingError, kind_of
from mcp_trading.domain.events import (
    AccountOpened,
    Event,
    OrderAccepted,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    TradingDayStarted,
)
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.models import CommissionModel, LatencyModel, SlippageModel
from mcp_trading.domain.orders import TERMINAL, WORKING, Order, OrderRequest, OrderSide, TimeInForce
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel import codec, snapshot
from mcp_trading.kernel.kernel import Kernel, KernelConfig
from mcp_trading.kernel.state import KernelState

D = Decimal
ZERO = D(0)
SECOND = 1_000_000_000
DAY = 86_400 * SECOND
START_NS = 1_767_225_600 * SECOND + DAY - 90 * SECOND  # 2026-01-01 23:58:30 UTC: days roll soon

INSTRUMENTS = {
    "AAA": Instrument(symbol="AAA"),  # tick 0.01, lot 1
    "BBB": Instrument(symbol="BBB", tick_size=D("0.05"), lot_size=D(10), min_qty=D(10)),
    "CCC": Instrument(symbol="CCC", tick_size=D("0.01"), lot_size=D("0.5"), min_qty=D("0.5")),
}
SYMBOLS = sorted(INSTRUMENTS)
START_TICKS = {"AAA": 10_000, "BBB": 400, "CCC": 2_500}  # ~100, ~20, ~25
ACCOUNTS = ("paper", "short-1", "cash-2")  # "short-1" may sell short


# ---- commands ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SendQuote:
    symbol: int
    step: int  # ticks the bid moves
    spread: int  # ticks between bid and ask
    bid_size: int  # in lots
    ask_size: int
    last: int | None  # ticks above the bid, None for no trade price


@dataclass(frozen=True)
class Submit:
    account: int
    symbol: int
    lots: int
    side: str
    type: str
    tif: str
    limit_offset: int  # ticks from the bid: below, at or through the touch
    stop_offset: int
    trail_ticks: int
    trail_pct: str | None  # trail_percent when set, else trail_price
    coid: int | None  # a small pool, so duplicates and idempotent retries happen
    extended_hours: bool


@dataclass(frozen=True)
class Cancel:
    order: int
    working: bool  # pick among working orders (else among all, terminal ones included)
    with_account: bool


@dataclass(frozen=True)
class Replace:
    order: int
    working: bool
    lots: int | None
    limit_offset: int | None
    stop_offset: int | None
    trail: int | None
    tif: str | None


@dataclass(frozen=True)
class Halt:
    account: int | None
    level: TradingState
    cancel_working: bool | None


@dataclass(frozen=True)
class Resume:
    account: int | None


@dataclass(frozen=True)
class CancelAll:
    account: int | None
    symbol: int | None


@dataclass(frozen=True)
class CloseAll:
    account: int | None


@dataclass(frozen=True)
class SetLimits:
    account: int | None
    changes: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Advance:
    ns: int


@dataclass(frozen=True)
class Tick:
    pass


idx = st.integers(0, 1_000)
opt_account = st.none() | st.integers(0, len(ACCOUNTS) - 1)
offsets = st.integers(-12, 12)

quotes = st.builds(
    SendQuote, symbol=st.integers(0, len(SYMBOLS) - 1), step=st.integers(-6, 6),
    spread=st.integers(1, 4), bid_size=st.integers(0, 40), ask_size=st.integers(0, 40),
    last=st.none() | st.integers(0, 4))
submits = st.builds(
    Submit, account=st.integers(0, len(ACCOUNTS) - 1), symbol=st.integers(0, len(SYMBOLS) - 1),
    lots=st.integers(1, 60), side=st.sampled_from(["buy", "sell"]),
    type=st.sampled_from(["market", "limit", "stop", "stop_limit", "trailing_stop"]),
    tif=st.sampled_from(["day", "gtc", "ioc", "fok"]), limit_offset=offsets, stop_offset=offsets,
    trail_ticks=st.integers(1, 20), trail_pct=st.none() | st.sampled_from(["0.5", "1", "2.5", "10"]),
    coid=st.sampled_from([None, None, None, 0, 1, 2, 3]), extended_hours=st.booleans())
mostly = st.sampled_from([True, True, True, False])
cancels = st.builds(Cancel, order=idx, working=mostly, with_account=st.booleans())
replaces = st.builds(
    Replace, order=idx, working=mostly, lots=st.none() | st.integers(1, 60), limit_offset=st.none() | offsets,
    stop_offset=st.none() | offsets, trail=st.none() | st.integers(1, 20),
    tif=st.none() | st.sampled_from(["day", "gtc", "ioc", "fok"]))
halts = st.builds(
    Halt, account=opt_account,
    level=st.sampled_from([TradingState.HALTED, TradingState.HALTED_NEW_ORDERS, TradingState.REDUCING]),
    cancel_working=st.none() | st.booleans())
limit_values: dict[str, st.SearchStrategy[Any]] = {
    "max_order_qty": st.integers(5, 80),
    "max_order_notional": st.integers(200, 8_000),
    "max_position_qty": st.integers(10, 150),
    "max_gross_exposure": st.integers(1_000, 30_000),
    "price_collar_pct": st.sampled_from(["0.5", "2", "10"]),
    "max_quote_age_s": st.sampled_from(["0.5", "5", "600"]),
    "max_orders_per_second": st.integers(1, 5),
    "daily_loss_limit": st.integers(5, 500),
    "max_drawdown_pct": st.sampled_from(["0.1", "1", "5"]),
}
limit_changes = st.lists(
    st.sampled_from(sorted(limit_values)).flatmap(
        lambda name: st.tuples(st.just(name), st.none() | limit_values[name])),
    min_size=1, max_size=3,
).map(tuple)
# an invalid value now and then: the change must be refused and change nothing
bad_limit = st.sampled_from([(("max_order_qty", "-1"),), (("nonsense", "1"),),
                             (("price_collar_pct", "150"),), (("max_orders_per_second", "1.5"),)])
advances = st.one_of(
    st.integers(0, 3 * SECOND),  # within a second or three: the rate limit window
    st.integers(1, 3_600).map(lambda s: s * SECOND),  # minutes to an hour
    st.integers(1, 3).map(lambda d: d * DAY),  # whole days: day orders expire
).map(Advance)


def weighted(*pairs: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Pick a strategy with the given weights (one_of would treat repeats as one)."""
    return st.sampled_from([s for weight, s in pairs for _ in range(weight)]).flatmap(lambda s: s)


commands = weighted(
    (8, quotes), (10, submits), (2, cancels), (3, replaces), (3, advances), (1, st.just(Tick())),
    # these reshape everything after them, so they come seldom
    (1, halts), (2, st.builds(Resume, account=opt_account)),
    (1, st.builds(CancelAll, account=opt_account, symbol=st.none() | st.integers(0, len(SYMBOLS) - 1))),
    (1, st.builds(CloseAll, account=opt_account)),
    (1, st.builds(SetLimits, account=opt_account, changes=limit_changes | bad_limit)),
)
scripts = st.lists(commands, min_size=20, max_size=120)

configs = st.builds(
    KernelConfig,
    id_base=st.just(1),
    commission=st.sampled_from([
        CommissionModel(), CommissionModel(per_share=D("0.005"), minimum=D("1")),
        CommissionModel(bps=D("1.5"))]),
    slippage=st.sampled_from([SlippageModel(), SlippageModel(bps=D("7"))]),
    latency=st.sampled_from([LatencyModel(), LatencyModel(order_ns=50_000_000)]),
)
cash_amounts = st.sampled_from([D(0), D(500), D("2500.75"), D(20_000), D(100_000)])


# ---- the harness ---------------------------------------------------------------------------

def order_view(order: Order) -> dict[str, Any]:
    """Every attribute of an order, whether kept in slots, the instance or class defaults."""
    cls = type(order)
    names = (set(getattr(cls, "__slots__", ())) | set(getattr(cls, "__annotations__", {}))
             | set(getattr(order, "__dict__", {})))
    return {name: getattr(order, name) for name in sorted(names)}


@dataclass
class Recorder:
    """The kernel's journal: keeps every event, and notes each order as it turns terminal.

    The kernel hands an event to the journal before applying it, so an event is inspected
    when the next one arrives (or when the command ends), once it is part of the state.
    """

    kernel: Kernel | None = None
    events: list[tuple[int, Event]] = field(default_factory=list)
    terminal: dict[str, dict[str, Any]] = field(default_factory=dict)
    _pending: Event | None = None

    def __call__(self, seq: int, event: Event) -> None:
        assert seq == len(self.events) + 1, f"sequence gap: {seq} after {len(self.events)}"
        self.settle()
        self.events.append((seq, event))
        self._pending = event

    def settle(self) -> None:
        event, self._pending = self._pending, None
        order_id = getattr(event, "order_id", None)
        if order_id is None or order_id in self.terminal:
            return
        assert self.kernel is not None
        order = self.kernel.state.orders[order_id]
        if order.status in TERMINAL:
            self.terminal[order_id] = order_view(order)


class Harness:
    def __init__(self, config: KernelConfig, cash: tuple[Decimal, Decimal, Decimal]) -> None:
        self.clock = ManualClock(START_NS)
        self.journal = Recorder()
        self.config = config
        self.kernel = Kernel(instruments=INSTRUMENTS, clock=self.clock, calendar=AlwaysOpen(),
                             journal=self.journal, config=config)
        self.journal.kernel = self.kernel
        self.kernel.ensure_default_account()
        self.kernel.open_account(ACCOUNTS[1], cash[1], allow_short=True)
        self.kernel.open_account(ACCOUNTS[2], cash[2])
        self.bid_ticks = dict(START_TICKS)
        for symbol, inst in INSTRUMENTS.items():  # every symbol starts quoted
            bid = START_TICKS[symbol] * inst.tick_size
            self.kernel.on_quote(Quote(symbol, bid, bid + inst.tick_size, 20 * inst.lot_size,
                                       20 * inst.lot_size, None, self.clock.now_ns()))
        self.journal.settle()

    # ---- helpers --------------------------------------------------------------------------
    def _bid(self, symbol: str) -> Decimal:
        book = self.kernel.state.venue.books.get(symbol)
        tick = INSTRUMENTS[symbol].tick_size
        if book is not None and book.quote is not None:
            return book.quote.bid
        return self.bid_ticks[symbol] * tick

    def _price(self, symbol: str, offset: int) -> Decimal:
        tick = INSTRUMENTS[symbol].tick_size
        return max(self._bid(symbol) + offset * tick, tick)

    def _order(self, index: int, working: bool) -> Order | None:
        orders = [o for o in self.kernel.state.orders.values()  # arrival order
                  if not working or o.status in WORKING]
        return orders[index % len(orders)] if orders else None

    # ---- commands -------------------------------------------------------------------------
    def run(self, command: object) -> None:
        before = self.kernel.seq
        try:
            self._dispatch(command)
        except IllegalTransitionError:
            raise  # the kernel asked the state machine for a move it has no entry for: a bug
        except TradingError as exc:
            if kind_of(exc) is None:
                raise  # a fault (journal, store), never a refusal
            # a refused command changes nothing, apart from rolling the session it found over
            for _, event in self.journal.events[before:]:
                assert isinstance(event, TradingDayStarted | OrderExpired), (
                    f"{command} raised after emitting {event}")
        self.journal.settle()

    def _dispatch(self, command: object) -> None:
        k = self.kernel
        match command:
            case SendQuote():
                symbol = SYMBOLS[command.symbol]
                inst = INSTRUMENTS[symbol]
                bid = self.bid_ticks[symbol] = max(self.bid_ticks[symbol] + command.step, 1)
                ask = bid + command.spread
                last = None if command.last is None else min(bid + command.last, ask)
                k.on_quote(Quote(
                    symbol, bid * inst.tick_size, ask * inst.tick_size,
                    command.bid_size * inst.lot_size, command.ask_size * inst.lot_size,
                    None if last is None else last * inst.tick_size, self.clock.now_ns()))
            case Submit():
                symbol = SYMBOLS[command.symbol]
                inst = INSTRUMENTS[symbol]
                raw: dict[str, object] = {
                    "symbol": symbol, "qty": str(command.lots * inst.lot_size), "side": command.side,
                    "type": command.type, "time_in_force": command.tif,
                    "extended_hours": command.extended_hours,
                }
                if command.type in ("limit", "stop_limit"):
                    raw["limit_price"] = str(self._price(symbol, command.limit_offset))
                if command.type in ("stop", "stop_limit"):
                    raw["stop_price"] = str(self._price(symbol, command.stop_offset))
                if command.type == "trailing_stop":
                    if command.tif in ("ioc", "fok"):
                        raw["time_in_force"] = "gtc"
                    if command.trail_pct is not None:
                        raw["trail_percent"] = command.trail_pct
                    else:
                        raw["trail_price"] = str(command.trail_ticks * inst.tick_size)
                if command.coid is not None:
                    raw["client_order_id"] = f"c-{command.coid}"
                k.submit(ACCOUNTS[command.account], OrderRequest.parse(**raw), attribution="prop")
            case Cancel():
                order = self._order(command.order, command.working)
                if order is not None:
                    k.cancel(order.id, account_id=order.account_id if command.with_account else None)
            case Replace():
                order = self._order(command.order, command.working)
                if order is None:
                    return
                inst = INSTRUMENTS[order.symbol]
                k.replace(
                    order.id,
                    qty=None if command.lots is None else command.lots * inst.lot_size,
                    limit_price=None if command.limit_offset is None or order.limit_price is None
                    else self._price(order.symbol, command.limit_offset),
                    stop_price=None if command.stop_offset is None or order.stop_price is None
                    or order.trail_price is not None or order.trail_percent is not None
                    else self._price(order.symbol, command.stop_offset),
                    trail=None if command.trail is None or order.type != "trailing_stop"
                    else (command.trail * inst.tick_size if order.trail_price is not None
                          else D(command.trail) / 4),
                    time_in_force=None if command.tif is None else TimeInForce(command.tif))
            case Halt():
                k.halt(level=command.level, account_id=self._account(command.account),
                       reason="property test", actor="test", cancel_working=command.cancel_working)
            case Resume():
                k.resume(account_id=self._account(command.account), reason="property test", actor="test")
            case CancelAll():
                k.cancel_all(account_id=self._account(command.account),
                             symbol=None if command.symbol is None else SYMBOLS[command.symbol])
            case CloseAll():
                k.close_all_positions(account_id=self._account(command.account), reason="test",
                                      actor="test")
            case SetLimits():
                k.set_limits(self._account(command.account), dict(command.changes), actor="test")
            case Advance():
                self.clock.advance(command.ns)
            case Tick():
                k.tick()
            case _:
                raise AssertionError(f"unknown command {command!r}")

    @staticmethod
    def _account(index: int | None) -> str | None:
        return None if index is None else ACCOUNTS[index]


# ---- the invariants ------------------------------------------------------------------------

def check_book_against_fills(h: Harness) -> None:
    """Positions, cash, fills and reservations agree with the journaled fills."""
    state = h.kernel.state
    start: dict[str, Decimal] = {}
    position: dict[tuple[str, str], Decimal] = {}
    cash: dict[str, Decimal] = {}
    filled: dict[str, Decimal] = {}
    for _, event in h.journal.events:
        if isinstance(event, AccountOpened):
            start[event.account_id] = cash[event.account_id] = event.cash
        elif isinstance(event, OrderFilled):
            order = state.orders[event.order_id]  # who and what never change after acceptance
            account_id, symbol, side = order.account_id, order.symbol, order.side
            signed = event.qty if side is OrderSide.BUY else -event.qty
            position[account_id, symbol] = position.get((account_id, symbol), ZERO) + signed
            cash[account_id] += -signed * event.price - event.commission
            filled[event.order_id] = filled.get(event.order_id, ZERO) + event.qty

    for account in state.accounts.values():
        assert account.start_cash == start[account.id]
        for symbol in SYMBOLS:
            assert account.position_qty(symbol) == position.get((account.id, symbol), ZERO), (
                f"{account.id} {symbol}: position {account.position_qty(symbol)} != Σ fills "
                f"{position.get((account.id, symbol), ZERO)}")
        assert account.cash == cash[account.id], f"{account.id}: cash {account.cash} != {cash[account.id]}"
        assert account.reserved >= ZERO, f"{account.id}: reserved {account.reserved} < 0"
        open_reserved = sum((o.reserved for o in account.open_orders.values()), ZERO)
        assert account.reserved == open_reserved, (
            f"{account.id}: reserved {account.reserved} != Σ open orders {open_reserved}")
        marked = [p for p in account.positions.values() if p.mark is not None]
        assert account.position_value == sum((p.qty * p.mark for p in marked), ZERO), account.id
        assert account.gross_value == sum((abs(p.qty) * p.mark for p in marked), ZERO), account.id
        for order_id, order in account.open_orders.items():
            assert order.status in WORKING and order.account_id == account.id, order
            assert state.orders[order_id] is order
        for symbol in SYMBOLS:
            for buy, book in ((True, account.open_buy), (False, account.open_sell)):
                leaves = sum((o.qty - o.filled_qty for o in account.open_orders.values()
                              if o.symbol == symbol and o.is_buy == buy), ZERO)
                assert book.get(symbol, ZERO) == leaves, (account.id, symbol, buy)

    assert state.gross_value == sum((a.gross_value for a in state.accounts.values()), ZERO)
    for symbol in SYMBOLS:
        net = sum((a.position_qty(symbol) for a in state.accounts.values()), ZERO)
        assert state.net_position(symbol) == net, symbol

    for order in state.orders.values():
        assert ZERO <= order.filled_qty <= order.qty, order
        assert order.filled_qty == filled.get(order.id, ZERO), order
        if order.status == "filled":
            assert order.filled_qty == order.qty, order
        if order.status in TERMINAL:
            assert order.reserved == ZERO, order
            assert order.id not in state.accounts[order.account_id].open_orders, order
        else:
            assert order.id in state.accounts[order.account_id].open_orders, order


def check_terminal_orders_unchanged(h: Harness) -> None:
    state = h.kernel.state
    for order in state.orders.values():
        if order.status in TERMINAL:
            assert order.id in h.journal.terminal, f"{order} turned terminal unnoticed"
    for order_id, then in h.journal.terminal.items():
        now = order_view(state.orders[order_id])
        changed = {n: (then.get(n), now.get(n)) for n in then.keys() | now.keys()
                   if then.get(n) != now.get(n)}
        assert not changed, f"terminal order {order_id} changed: {changed}"


def _open_qty(book: dict[str, Decimal]) -> dict[str, Decimal]:
    return {symbol: qty for symbol, qty in book.items() if qty != ZERO}


def account_view(a: Account, *, market: bool) -> dict[str, Any]:
    """What an account is; `market` adds what comes from quotes rather than the journal."""
    view: dict[str, Any] = {
        "currency": a.currency, "cash": a.cash, "start_cash": a.start_cash,
        "allow_short": a.allow_short, "state": a.state, "state_reason": a.state_reason,
        "limits": a.limits, "reserved": a.reserved, "realized_pnl": a.realized_pnl,
        "commissions": a.commissions, "day_start_equity": a.day_start_equity,
        "positions": {s: (p.qty, p.avg_entry_price, p.realized_pnl) for s, p in a.positions.items()},
        "open_orders": list(a.open_orders),
        "open_buy": _open_qty(a.open_buy), "open_sell": _open_qty(a.open_sell),
        "by_client_id": {c: o.id for c, o in a.by_client_id.items()},
    }
    if market:
        view |= {"marks": {s: p.mark for s, p in a.positions.items()},
                 "position_value": a.position_value, "gross_value": a.gross_value,
                 "day_peak_equity": a.day_peak_equity}
    return view


def state_view(state: KernelState, *, market: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "seq": state.seq, "order_count": state.order_count,
        "platform": (state.platform_state, state.platform_reason),
        "global_limits": state.global_limits, "session": state.session,
        "accounts": {i: account_view(a, market=market) for i, a in state.accounts.items()},
        "orders": {i: order_view(o) for i, o in state.orders.items()},
        "holders": {s: sorted(a.id for a in accounts) for s, accounts in state.holders.items()},
        "net_qty": {s: state.net_position(s) for s in SYMBOLS},
    }
    if market:
        view |= {"marks": state.marks, "gross_value": state.gross_value}
    return view


def _chunks(events: list[tuple[int, Event]]) -> list[list[tuple[int, Event]]]:
    """Alternately one event and up to seven: the shapes a group commit writes."""
    chunks, i = [], 0
    while i < len(events):
        size = 1 if len(chunks) % 2 == 0 else 7
        chunks.append(events[i:i + size])
        i += size
    return chunks


def check_replay_and_snapshot(h: Harness) -> None:
    live = h.kernel.state
    # through the codec, as the journal stores them: single records and group-commit segments
    records = [codec.segment(chunk) if n % 2 else codec.record(*chunk[0])
               for n, chunk in enumerate(_chunks(h.journal.events))]
    decoded = list(codec.events(records))
    assert decoded == h.journal.events
    replayed = KernelState(INSTRUMENTS, h.config.slippage)
    for seq, event in decoded:
        replayed.apply(seq, event)
    assert state_view(replayed, market=False) == state_view(live, market=False)
    snapshot.rebuild_books(replayed)

    loaded = snapshot.load(snapshot.dump(live), INSTRUMENTS, h.config.slippage)
    assert state_view(loaded, market=True) == state_view(live, market=True)
    assert snapshot.dump(loaded) == snapshot.dump(live)


def check_all(h: Harness) -> None:
    check_book_against_fills(h)
    check_terminal_orders_unchanged(h)


# ---- the tests ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(config=configs, cash=st.tuples(st.just(D(100_000)), cash_amounts, cash_amounts),
       script=scripts)
def test_random_command_sequences_keep_the_book_consistent(
        config: KernelConfig, cash: tuple[Decimal, Decimal, Decimal], script: list[object]) -> None:
    h = Harness(config, cash)
    for command in script:
        h.run(command)
        check_book_against_fills(h)
    check_all(h)
    check_replay_and_snapshot(h)


@SETTINGS
@given(script=st.lists(weighted((3, quotes), (4, submits), (1, cancels), (2, replaces), (1, advances)),
                       min_size=20, max_size=120))
def test_fills_and_replays_without_limits_or_halts(script: list[object]) -> None:
    """The same checks on a busier mix: more orders reach the venue when nothing stops them."""
    h = Harness(KernelConfig(id_base=2), (D(100_000), D(50_000), D(20_000)))
    for command in script:
        h.run(command)
    check_all(h)
    check_replay_and_snapshot(h)


def test_harness_sees_fills() -> None:
    """Guard against a vacuous harness: a plain sequence fills and is checked."""
    h = Harness(KernelConfig(id_base=3), (D(100_000), D(50_000), D(20_000)))
    h.run(SendQuote(0, 0, 1, 10, 10, None))
    h.run(Submit(0, 0, 5, "buy", "market", "day", 0, 0, 1, None, None, False))
    h.run(Submit(1, 0, 3, "sell", "limit", "gtc", 0, 0, 1, None, 1, False))
    h.run(Advance(DAY))
    h.run(SendQuote(0, 1, 1, 10, 10, 1))
    assert any(isinstance(e, OrderFilled) for _, e in h.journal.events)
    assert any(isinstance(e, OrderRejected | OrderAccepted) for _, e in h.journal.events)
    check_all(h)
    check_replay_and_snapshot(h)
