"""The paper venue's matching rules, driven through the kernel (and once through a recording sink)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_trading.domain.events import OrderFilled
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.models import LatencyModel, SlippageModel
from mcp_trading.domain.orders import Order, OrderRequest, OrderStatus, Trigger
from mcp_trading.domain.venue import Venue
from mcp_trading.kernel.kernel import KernelConfig

D = Decimal
S = OrderStatus


def fills(h, order: Order) -> list[tuple[Decimal, Decimal]]:
    return [(e.qty, e.price) for _, e in h.events if isinstance(e, OrderFilled) and e.order_id == order.id]


# ---- market orders -------------------------------------------------------------------------
def test_market_buy_fills_at_the_ask(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(10)
    assert order.status is S.FILLED
    assert fills(h, order) == [(D(10), D("100.02"))]
    assert order.filled_avg_price == D("100.02")


def test_market_sell_fills_at_the_bid(h) -> None:
    h.quote("100.00", "100.02")
    h.buy(10)
    order = h.sell(10)
    assert order.status is S.FILLED
    assert fills(h, order) == [(D(10), D("100.00"))]


def test_market_order_larger_than_the_quote_fills_the_size_and_works_the_rest(h) -> None:
    h.quote("100.00", "100.02", ask_size=200)
    order = h.buy(250)
    assert order.status is S.PARTIALLY_FILLED
    assert order.filled_qty == 200
    h.advance(1)
    h.quote("100.10", "100.12", ask_size=200)
    assert order.status is S.FILLED
    assert fills(h, order) == [(D(200), D("100.02")), (D(50), D("100.12"))]
    assert order.filled_avg_price == (200 * D("100.02") + 50 * D("100.12")) / 250


def test_ioc_market_order_cancels_what_the_quote_cannot_fill(h) -> None:
    h.quote("100.00", "100.02", ask_size=200)
    order = h.buy(250, time_in_force="ioc")
    assert order.status is S.CANCELED
    assert order.filled_qty == 200
    assert h.account.open_orders == {}


def test_fok_order_without_enough_size_fills_nothing(h) -> None:
    h.quote("100.00", "100.02", ask_size=200)
    order = h.buy(250, time_in_force="fok")
    assert order.status is S.CANCELED
    assert order.filled_qty == 0
    assert fills(h, order) == []
    assert h.account.cash == D(100_000)


def test_fok_order_with_enough_size_fills_completely(h) -> None:
    h.quote("100.00", "100.02", ask_size=250)
    order = h.buy(250, time_in_force="fok")
    assert order.status is S.FILLED
    assert fills(h, order) == [(D(250), D("100.02"))]


def test_quote_size_is_shared_between_orders_on_the_same_quote(h) -> None:
    h.quote("100.00", "100.02", ask_size=300)
    first = h.buy(200)
    second = h.buy(200)
    assert first.filled_qty == 200
    assert second.filled_qty == 100
    assert second.status is S.PARTIALLY_FILLED


# ---- limit orders --------------------------------------------------------------------------
def test_marketable_buy_limit_fills_at_the_better_ask(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(10, type="limit", limit_price="100.50")
    assert fills(h, order) == [(D(10), D("100.02"))]


def test_buy_limit_below_the_ask_rests_then_fills_when_a_quote_crosses(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(10, type="limit", limit_price="99.50", time_in_force="gtc")
    assert order.status is S.NEW
    h.advance(1)
    h.quote("99.40", "99.60")
    assert order.status is S.NEW
    h.advance(1)
    h.quote("99.30", "99.45")
    assert order.status is S.FILLED
    assert fills(h, order) == [(D(10), D("99.45"))]


def test_sell_limit_rests_then_fills_at_a_bid_at_or_above_the_limit(h) -> None:
    h.quote("100.00", "100.02")
    h.buy(10)
    order = h.sell(10, type="limit", limit_price="101")
    assert order.status is S.NEW
    h.advance(1)
    h.quote("100.99", "101.01")
    assert order.status is S.NEW
    h.advance(1)
    h.quote("101.00", "101.02", bid_size=4)
    assert fills(h, order) == [(D(4), D("101.00"))]
    assert order.status is S.PARTIALLY_FILLED


def test_resting_limits_fill_best_price_first_then_in_arrival_order(h) -> None:
    h.quote("100.00", "100.02")
    early = h.buy(100, type="limit", limit_price="99.00")
    late = h.buy(100, type="limit", limit_price="99.00")
    better = h.buy(100, type="limit", limit_price="99.10")
    h.advance(1)
    h.quote("98.90", "98.95", ask_size=150)
    assert better.filled_qty == 100
    assert early.filled_qty == 50
    assert late.filled_qty == 0
    h.advance(1)
    h.quote("98.90", "98.95", ask_size=150)
    assert early.status is S.FILLED
    assert late.status is S.FILLED


def test_ioc_limit_that_is_not_marketable_is_canceled(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(10, type="limit", limit_price="99", time_in_force="ioc")
    assert order.status is S.CANCELED
    assert order.filled_qty == 0


# ---- stops ---------------------------------------------------------------------------------
def test_buy_stop_triggers_when_the_last_trade_reaches_the_stop(h) -> None:
    h.quote("100.00", "100.02", last="100.01")
    order = h.buy(10, type="stop", stop_price="101", time_in_force="gtc")
    h.advance(1)
    h.quote("100.97", "101.03", last="100.99")
    assert order.status is S.NEW
    assert not order.triggered
    h.advance(1)
    h.quote("101.00", "101.04", last="101.00")
    assert order.triggered
    assert fills(h, order) == [(D(10), D("101.04"))]


def test_sell_stop_without_a_last_trade_triggers_on_the_bid(h) -> None:
    h.quote("100.00", "100.02")
    h.buy(10)
    order = h.sell(10, type="stop", stop_price="99", time_in_force="gtc")
    h.advance(1)
    h.quote("99.01", "99.03")
    assert order.status is S.NEW
    h.advance(1)
    h.quote("98.99", "99.01")
    assert fills(h, order) == [(D(10), D("98.99"))]


def test_stop_limit_triggers_then_rests_until_the_limit_is_marketable(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(10, type="stop_limit", stop_price="101", limit_price="101.50", time_in_force="gtc")
    h.advance(1)
    h.quote("101.80", "102.00", last="101.90")
    assert order.triggered
    assert order.status is S.NEW
    h.advance(1)
    h.quote("101.30", "101.40", last="101.35")
    assert fills(h, order) == [(D(10), D("101.40"))]


def test_sell_trailing_stop_follows_the_high_and_triggers_on_the_pullback(h) -> None:
    h.quote("100.00", "100.02", last="100.00")
    h.buy(10)
    order = h.sell(10, type="trailing_stop", trail_price="1.00", time_in_force="gtc")
    assert order.stop_price == D("99.00")
    for last, stop in (("103", "102.00"), ("105", "104.00"), ("104.50", "104.00")):
        h.advance(1)
        h.quote(D(last) - D("0.02"), D(last) + D("0.02"), last=last)
        assert order.stop_price == D(stop)
        assert order.status is S.NEW
    h.advance(1)
    h.quote("103.90", "103.94", last="103.92")
    assert order.status is S.FILLED
    assert fills(h, order) == [(D(10), D("103.90"))]
    assert order.watermark == D(105)


def test_buy_trailing_stop_by_percent_follows_the_low(h) -> None:
    h.quote("100.00", "100.02", last="100.00")
    order = h.buy(10, type="trailing_stop", trail_percent="2", time_in_force="gtc")
    assert order.stop_price == D("102.00")
    h.advance(1)
    h.quote("89.98", "90.02", last="90.00")
    assert order.stop_price == D("91.80")
    h.advance(1)
    h.quote("91.00", "91.04", last="91.02")
    assert order.status is S.NEW
    h.advance(1)
    h.quote("91.78", "91.82", last="91.80")
    assert fills(h, order) == [(D(10), D("91.82"))]


# ---- sessions ------------------------------------------------------------------------------
def test_outside_the_session_market_orders_are_refused_and_limits_wait_for_the_open(
        make_kernel, exchange_hours) -> None:
    h = make_kernel(calendar=exchange_hours)  # the clock starts at 00:00 UTC, before the open
    session = exchange_hours.session_at(h.clock.now_ns())
    assert h.clock.now_ns() < session.open_ns
    h.quote("100.00", "100.02")
    market = h.buy(10)
    assert market.status is S.REJECTED
    assert market.reject_code == "MARKET_CLOSED"
    limit = h.buy(10, type="limit", limit_price="100.10")
    assert limit.status is S.NEW  # marketable, but the venue does not match while closed
    h.advance(60)
    h.quote("100.00", "100.02")
    assert limit.filled_qty == 0
    h.clock.set(session.open_ns)
    h.quote("100.00", "100.05")
    assert fills(h, limit) == [(D(10), D("100.05"))]
    assert h.buy(1).status is S.FILLED


def test_day_order_expires_at_the_calendars_close(make_kernel, exchange_hours) -> None:
    h = make_kernel(calendar=exchange_hours)
    session = exchange_hours.session_at(h.clock.now_ns())
    h.clock.set(session.open_ns + 60 * 1_000_000_000)
    h.quote("100.00", "100.02")
    day = h.buy(10, type="limit", limit_price="99")
    gtc = h.buy(10, type="limit", limit_price="99", time_in_force="gtc")
    close = session.close_ns
    h.clock.set(close - 1)
    h.kernel.tick()
    assert day.status is S.NEW
    h.clock.set(close)
    h.kernel.tick()
    assert day.status is S.EXPIRED
    assert day.expired_at == close
    assert gtc.status is S.NEW


# ---- slippage and latency ------------------------------------------------------------------
def test_slippage_moves_fills_adversely_by_bps_rounded_to_the_tick(make_kernel) -> None:
    h = make_kernel(config=KernelConfig(id_base=1, slippage=SlippageModel(bps=D(10))))
    h.quote("100.00", "100.02")
    buy = h.buy(10)
    sell = h.sell(10)
    assert fills(h, buy) == [(D(10), D("100.13"))]  # 100.02 + 0.10002 -> up to the tick
    assert fills(h, sell) == [(D(10), D("99.90"))]


def test_slippage_never_fills_past_the_limit(make_kernel) -> None:
    h = make_kernel(config=KernelConfig(id_base=1, slippage=SlippageModel(bps=D(50))))
    h.quote("100.00", "100.02")
    buy = h.buy(10, type="limit", limit_price="100.10")
    sell = h.sell(10, type="limit", limit_price="99.95")
    assert fills(h, buy) == [(D(10), D("100.10"))]
    assert fills(h, sell) == [(D(10), D("99.95"))]


def test_order_is_not_matched_before_its_latency_has_passed(make_kernel) -> None:
    latency = 5_000_000  # 5 ms
    h = make_kernel(config=KernelConfig(id_base=1, latency=LatencyModel(order_ns=latency)))
    h.quote("100.00", "100.02")
    order = h.buy(10)
    assert order.status is S.ACCEPTED
    assert order.active_at == h.clock.now_ns() + latency
    h.clock.advance(latency - 1)
    h.quote("100.00", "100.03")
    assert order.status is S.ACCEPTED
    assert order.filled_qty == 0
    h.clock.advance(1)
    h.quote("100.00", "100.04")
    assert order.status is S.FILLED
    assert fills(h, order) == [(D(10), D("100.04"))]
    names = h.event_names()
    assert names.index("OrderRouted") < names.index("OrderFilled")


# ---- determinism ---------------------------------------------------------------------------
def _session(h) -> None:
    quotes = [("100.00", "100.02", 300), ("100.05", "100.07", 50), ("99.50", "99.60", 500),
              ("101.00", "101.10", 100), ("98.00", "98.10", 1000)]
    h.quote("100.00", "100.02", ask_size=120)
    h.buy(200)
    h.buy(50, type="limit", limit_price="99.55", time_in_force="gtc")
    h.sell(100, type="stop", stop_price="98.50", time_in_force="gtc")
    h.sell(30, type="trailing_stop", trail_percent="1", time_in_force="gtc")
    for bid, ask, size in quotes:
        h.advance(0.25)
        h.quote(bid, ask, bid_size=size, ask_size=size)


def test_same_quote_sequence_gives_the_same_fills(make_kernel) -> None:
    first, second = make_kernel(), make_kernel()
    _session(first)
    _session(second)
    assert any(isinstance(e, OrderFilled) for _, e in first.events)
    assert first.events == second.events


# ---- the venue on its own ------------------------------------------------------------------
class RecordingSink:
    """Records the venue's decisions and applies only what matching needs to stay consistent."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple[object, ...]]] = []

    def route(self, order: Order) -> None:
        self.calls.append(("route", order.id, ()))
        order.transition(Trigger.ROUTE)

    def fill(self, order: Order, qty: Decimal, price: Decimal) -> None:
        self.calls.append(("fill", order.id, (qty, price)))

    def trigger(self, order: Order) -> None:
        self.calls.append(("trigger", order.id, ()))

    def trail(self, order: Order, watermark: Decimal, stop_price: Decimal) -> None:
        self.calls.append(("trail", order.id, (watermark, stop_price)))

    def cancel(self, order: Order, reason: str) -> None:
        self.calls.append(("cancel", order.id, (reason,)))


def _accepted(order_id: str, **fields: object) -> Order:
    order = Order(order_id, "paper", OrderRequest.parse(symbol="AAPL", **fields), ts=0)
    order.transition(Trigger.ACCEPT)
    return order


def test_venue_reports_decisions_to_the_sink_and_does_not_mutate_the_order() -> None:
    venue = Venue({"AAPL": Instrument(symbol="AAPL")}, SlippageModel())
    sink = RecordingSink()
    venue.on_quote(Quote("AAPL", D(100), D("100.02"), D(50), D(30), None, 0), sink, session_open=True)
    order = _accepted("o-1", qty=40, side="buy", type="market", time_in_force="ioc")
    venue.on_new_order(order, sink, session_open=True)
    assert sink.calls == [
        ("route", "o-1", ()),
        ("fill", "o-1", (D(30), D("100.02"))),
        ("cancel", "o-1", ("ioc: unfilled quantity canceled",)),
    ]
    assert order.filled_qty == 0  # the sink, not the venue, records fills


def test_venue_without_a_quote_cancels_ioc_and_rests_day_orders() -> None:
    venue = Venue({"AAPL": Instrument(symbol="AAPL")}, SlippageModel())
    sink = RecordingSink()
    ioc = _accepted("o-1", qty=1, side="buy", type="limit", limit_price="100", time_in_force="ioc")
    day = _accepted("o-2", qty=1, side="buy", type="limit", limit_price="100")
    venue.on_new_order(ioc, sink, session_open=True)
    venue.on_new_order(day, sink, session_open=True)
    assert [c[0] for c in sink.calls] == ["cancel"]
    assert venue.book("AAPL").working_count() == 1


@pytest.mark.parametrize("session_open", [True, False])
def test_venue_matches_resting_limits_only_while_the_session_is_open(session_open: bool) -> None:
    venue = Venue({"AAPL": Instrument(symbol="AAPL")}, SlippageModel())
    sink = RecordingSink()
    order = _accepted("o-1", qty=5, side="sell", type="limit", limit_price="101")
    order.transition(Trigger.ROUTE)
    venue.book("AAPL").rest(order)
    venue.on_quote(Quote("AAPL", D("101.05"), D("101.07"), D(10), D(10), None, 0), sink,
                   session_open=session_open)
    expected = [("fill", "o-1", (D(5), D("101.05")))] if session_open else []
    assert sink.calls == expected


def test_waiting_market_orders_fill_in_time_priority_as_liquidity_arrives(h) -> None:
    h.quote("100.00", "100.02", ask_size=100)
    first = h.buy(100, type="market")  # takes the whole ask
    waiting = [h.buy(30, type="market") for _ in range(5)]  # 150 shares wait for liquidity
    assert first.status == "filled"
    assert all(o.status == "new" and o.filled_qty == 0 for o in waiting)
    h.advance(1)
    h.quote("100.00", "100.03", ask_size=70)  # 70 shares: two orders and a third partly
    assert [o.filled_qty for o in waiting] == [30, 30, 10, 0, 0]
    assert [o.status for o in waiting[:3]] == ["filled", "filled", "partially_filled"]
    h.advance(1)
    h.kernel.cancel(waiting[3].id)  # a canceled order in the queue is skipped, not filled
    h.quote("100.00", "100.04", ask_size=1_000)
    assert [o.filled_qty for o in waiting] == [30, 30, 30, 0, 30]
    assert waiting[3].status == "canceled" and waiting[4].status == "filled"
