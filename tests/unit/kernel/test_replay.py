"""Replay and snapshots: the journal alone rebuilds the book; a snapshot round-trips it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import Order, OrderStatus
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel import codec, snapshot
from mcp_trading.kernel.kernel import Kernel, KernelConfig
from mcp_trading.kernel.ports import Snapshot
from mcp_trading.kernel.state import KernelState

D = Decimal

_ORDER_FIELDS = (
    "id", "account_id", "client_order_id", "symbol", "qty", "side", "type", "time_in_force",
    "limit_price", "stop_price", "trail_price", "trail_percent", "extended_hours", "status",
    "filled_qty", "filled_avg_price", "created_at", "updated_at", "active_at", "filled_at",
    "canceled_at", "expired_at", "replaced_at", "replaces", "replaced_by", "reject_code",
    "reject_reason", "triggered", "watermark", "ref_price", "reserved", "attribution", "request",
)
# Values that come from the journal; marks (and so equity and the intraday peak) come from the
# market and are compared only where a snapshot carries them.
_ACCOUNT_FIELDS = (
    "id", "currency", "cash", "start_cash", "allow_short", "state", "state_reason", "limits",
    "reserved", "realized_pnl", "commissions", "day_start_equity", "open_buy", "open_sell",
)
_MARKED_ACCOUNT_FIELDS = ("position_value", "gross_value", "day_peak_equity")


def order_view(order: Order) -> dict[str, object]:
    return {f: getattr(order, f) for f in _ORDER_FIELDS}


def account_view(account: Account, *, marked: bool) -> dict[str, object]:
    names = _ACCOUNT_FIELDS + (_MARKED_ACCOUNT_FIELDS if marked else ())
    view: dict[str, object] = {f: getattr(account, f) for f in names}
    view["open_buy"] = {s: q for s, q in account.open_buy.items() if q}
    view["open_sell"] = {s: q for s, q in account.open_sell.items() if q}
    view["positions"] = {
        s: (p.qty, p.avg_entry_price, p.realized_pnl) + ((p.mark,) if marked else ())
        for s, p in account.positions.items()}
    view["open_orders"] = list(account.open_orders)
    view["by_client_id"] = {c: o.id for c, o in account.by_client_id.items()}
    return view


def state_view(state: KernelState, *, marked: bool) -> dict[str, object]:
    return {
        "seq": state.seq,
        "order_count": state.order_count,
        "platform": (state.platform_state, state.platform_reason),
        "global_limits": state.global_limits,
        "session": state.session,
        "accounts": {a: account_view(acc, marked=marked) for a, acc in state.accounts.items()},
        "orders": {o: order_view(order) for o, order in state.orders.items()},
        **({"marks": state.marks} if marked else {}),
    }


def busy_day(h) -> None:
    """Every kind of event: fills, partials, rejects, replaces, stops, trails, halts, expiry."""
    k = h.kernel
    k.open_account("shorts", D(50_000), allow_short=True)
    k.set_limits(None, {"max_order_qty": 5_000}, actor="ops")
    k.set_limits("paper", {"price_collar_pct": 10, "daily_loss_limit": 50_000}, actor="ops")
    h.quote("100.00", "100.02", ask_size=150, last="100.01")
    h.quote("50.00", "50.02", symbol="MSFT")
    h.buy(200, client_order_id="first")  # partial, rest works
    h.buy(10_000)  # rejected
    limit = h.buy(50, type="limit", limit_price="99.50", time_in_force="gtc")
    h.sell(30, account="shorts", type="limit", limit_price="100.40")
    h.sell(100, type="trailing_stop", trail_percent="1.5", time_in_force="gtc")
    h.buy(20, symbol="MSFT", type="stop_limit", stop_price="51", limit_price="51.50",
          time_in_force="gtc")
    day = h.buy(5, symbol="MSFT", type="limit", limit_price="46")
    h.buy(5, type="limit", limit_price="95")  # a day order left to expire
    h.advance(1)
    h.quote("100.40", "100.60", last="100.55")
    k.replace(limit.id, qty=D(60), limit_price=D("99.40"), client_order_id="moved")
    h.quote("51.10", "51.30", symbol="MSFT", last="51.20")
    h.advance(1)
    h.quote("98.00", "98.02", last="98.01")
    k.halt(level=TradingState.HALTED_NEW_ORDERS, account_id="shorts", reason="check", actor="ops")
    k.cancel(day.id)
    h.advance(1)
    k.close_all_positions(account_id="shorts", reason="flatten", actor="ops")
    k.resume(account_id="shorts", reason="done", actor="ops")
    h.clock.set(k.state.session.close_ns + 1)
    h.quote("97.00", "97.02", last="97.01")


@pytest.fixture
def busy(make_kernel):
    h = make_kernel(config=KernelConfig(id_base=7))
    busy_day(h)
    assert h.kernel.state.accounts["shorts"].positions["AAPL"].qty == 0  # shorted, then closed
    assert h.kernel.state.accounts["shorts"].realized_pnl != 0
    names = set(h.event_names())
    assert {"OrderRejected", "OrderReplaced", "OrderTriggered", "OrderTrailMoved", "OrderExpired",
            "OrderCanceled", "LimitsSet", "TradingStateChanged"} <= names
    return h


def replay(events, h, *, through_codec: bool) -> KernelState:
    state = KernelState(h.kernel.instruments, h.kernel.config.slippage)
    for seq, event in events:
        state.apply(seq, codec.decode(codec.kind_of(event), codec.encode(event))
                    if through_codec else event)
    return state


@pytest.mark.parametrize("through_codec", [False, True])
def test_replaying_the_journal_rebuilds_accounts_positions_and_orders(busy, through_codec: bool) -> None:
    rebuilt = replay(busy.events, busy, through_codec=through_codec)
    assert state_view(rebuilt, marked=False) == state_view(busy.kernel.state, marked=False)


def test_replayed_idempotency_index_still_recognises_a_retry(busy) -> None:
    rebuilt = replay(busy.events, busy, through_codec=True)
    first = busy.kernel.order_by_client_id("paper", "first")
    assert rebuilt.accounts["paper"].by_client_id["first"].request == first.request


def test_snapshot_round_trip_restores_the_whole_state(busy) -> None:
    live = busy.kernel.state
    loaded = snapshot.load(snapshot.dump(live), live.instruments, busy.kernel.config.slippage)
    assert state_view(loaded, marked=True) == state_view(live, marked=True)
    assert snapshot.dump(loaded) == snapshot.dump(live)


def test_snapshot_plus_the_tail_of_the_journal_equals_the_live_state(make_kernel) -> None:
    h = make_kernel(config=KernelConfig(id_base=7))
    h.quote("100.00", "100.02", last="100.01")
    h.buy(100)
    h.buy(50, type="limit", limit_price="99", time_in_force="gtc")
    snap = snapshot.dump(h.kernel.state)
    cut = len(h.events)
    h.advance(1)
    h.quote("98.99", "99.01", last="99.00")
    h.sell(30)
    h.kernel.halt(reason="eod", actor="ops")
    state = snapshot.load(snap, h.kernel.instruments, h.kernel.config.slippage)
    for seq, event in h.events[cut:]:
        state.apply(seq, event)
    assert state.seq == h.kernel.seq
    assert state_view(state, marked=False) == state_view(h.kernel.state, marked=False)


def test_snapshot_of_another_format_version_is_refused(busy) -> None:
    import msgspec

    live = busy.kernel.state
    payload = msgspec.msgpack.decode(snapshot.dump(live).payload)
    payload["version"] = snapshot.FORMAT_VERSION + 1
    bad = Snapshot(live.seq, msgspec.msgpack.encode(payload))
    with pytest.raises(ValueError, match="replay the journal"):
        snapshot.load(bad, live.instruments, busy.kernel.config.slippage)


def test_rebuilt_books_keep_working_orders_matching(make_kernel) -> None:
    h = make_kernel(config=KernelConfig(id_base=7))
    h.quote("100.00", "100.02")
    resting = h.buy(10, type="limit", limit_price="99", time_in_force="gtc")
    state = snapshot.load(snapshot.dump(h.kernel.state), h.kernel.instruments,
                          h.kernel.config.slippage)
    snapshot.rebuild_books(state)
    kernel = Kernel(instruments=state.instruments, clock=h.clock, calendar=h.kernel.calendar,
                    journal=lambda seq, ev: None, config=KernelConfig(id_base=7), state=state)
    h.advance(1)
    kernel.on_quote(Quote("AAPL", D("98.90"), D("98.95"), D(100), D(100), None, h.clock.now_ns()))
    order = state.orders[resting.id]
    assert order.status is OrderStatus.FILLED
    assert order.filled_avg_price == D("98.95")
    assert state.accounts["paper"].reserved == 0
