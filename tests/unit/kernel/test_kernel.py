"""The kernel: commands in, journaled events out; orders, trading state, cash and risk actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_trading.domain.errors import (
    DuplicateClientOrderIdError,
    InvalidOrderError,
    OrderNotFoundError,
    OrderStateError,
    UnknownAccountError,
    UnknownSymbolError,
)
from mcp_trading.domain.events import OrderCanceled, OrderExpired, TradingStateChanged
from mcp_trading.domain.models import CommissionModel
from mcp_trading.domain.orders import OrderRequest, OrderStatus, TimeInForce
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel.commands import OrderRefusedError
from mcp_trading.kernel.kernel import KernelConfig

D = Decimal
S = OrderStatus
NS = 1_000_000_000
DAY_NS = 86_400 * NS


# ---- submit --------------------------------------------------------------------------------
def test_submit_journals_each_event_with_a_contiguous_sequence(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(10, client_order_id="mine-1")
    assert order.status is S.FILLED
    assert order.client_order_id == "mine-1"
    assert [seq for seq, _ in h.events] == list(range(1, len(h.events) + 1))
    assert h.kernel.seq == len(h.events)
    assert h.event_names() == ["AccountOpened", "TradingDayStarted", "OrderAccepted", "OrderFilled"]
    assert h.kernel.get_order(order.id) is order
    assert h.kernel.order_by_client_id("paper", "mine-1") is order


def test_submit_to_an_unknown_account_or_symbol_raises_and_journals_nothing(h) -> None:
    seq = h.kernel.seq
    with pytest.raises(UnknownAccountError):
        h.buy(1, account="nobody")
    with pytest.raises(UnknownSymbolError):
        h.buy(1, symbol="NOPE")
    with pytest.raises(InvalidOrderError, match="tick size"):
        h.buy(1, type="limit", limit_price="100.001")
    assert h.kernel.seq == seq


def test_refused_order_is_journaled_as_rejected(h) -> None:
    order = h.buy(1)  # no quote yet
    assert order.status is S.REJECTED
    assert h.event_names()[-1] == "OrderRejected"
    assert h.account.open_orders == {}


def test_same_client_order_id_and_parameters_returns_the_existing_order(h) -> None:
    h.quote("100.00", "100.02")
    first = h.buy(10, type="limit", limit_price="99", client_order_id="abc")
    seq = h.kernel.seq
    again = h.buy("10.0", type="limit", limit_price="99.00", client_order_id="abc")
    assert again is first
    assert h.kernel.seq == seq


def test_check_decides_as_submit_does_and_journals_nothing(h) -> None:
    h.quote("100.00", "100.02")
    request = OrderRequest.parse(symbol="AAPL", qty=10, side="buy", type="limit",
                                 limit_price="99", client_order_id="abc")
    seq = h.kernel.seq
    verdict = h.kernel.check("paper", request)
    assert h.kernel.seq == seq and not h.kernel.state.orders
    assert verdict.result is not None and verdict.result.refusal is None
    assert verdict.result.reserve == D(990)
    placed = h.kernel.submit("paper", request)
    retry = h.kernel.check("paper", request)  # the same id and parameters: that order
    assert (retry.result, retry.existing, retry.closed_id) == (None, placed, None)
    with pytest.raises(DuplicateClientOrderIdError):
        h.kernel.check("paper", request._replace(qty=D(11)))
    for bad, error in ((request._replace(symbol="NOPE"), UnknownSymbolError),
                       (request._replace(limit_price=D("99.001")), InvalidOrderError)):
        with pytest.raises(error):
            h.kernel.check("paper", bad)
    with pytest.raises(UnknownAccountError):
        h.kernel.check("nobody", request)


def test_check_at_an_unrolled_close_takes_the_next_session_and_journals_nothing(
        make_kernel, exchange_hours) -> None:
    h = make_kernel(calendar=exchange_hours)
    h.clock.set(exchange_hours.session_at(h.clock.now_ns()).open_ns + NS)
    h.quote("100.00", "100.02")
    session = h.kernel.state.session
    assert session is not None
    h.clock.set(session.close_ns + 1)  # after the close, before any quote or tick rolls it
    request = OrderRequest.parse(symbol="AAPL", qty=1, side="buy")
    seq = h.kernel.seq
    verdict = h.kernel.check("paper", request)
    assert h.kernel.seq == seq and h.kernel.state.session is session
    assert verdict.result is not None
    assert verdict.result.refusal is not None
    assert verdict.result.refusal.code == "MARKET_CLOSED"
    order = h.kernel.submit("paper", request)  # rolls the session, then decides the same
    assert order.reject_code == "MARKET_CLOSED"
    assert h.kernel.state.session is not session


def test_same_client_order_id_with_different_parameters_is_refused(h) -> None:
    h.quote("100.00", "100.02")
    first = h.buy(10, type="limit", limit_price="99", client_order_id="abc")
    seq = h.kernel.seq
    with pytest.raises(DuplicateClientOrderIdError) as err:
        h.buy(11, type="limit", limit_price="99", client_order_id="abc")
    assert err.value.code == "DUPLICATE_CLIENT_ORDER_ID"
    assert err.value.existing_order_id == first.id
    assert "'abc'" in str(err.value)
    assert h.kernel.seq == seq


def test_client_order_ids_are_unique_per_account_only(h) -> None:
    h.kernel.open_account("second", D(1_000))
    h.quote("100.00", "100.02")
    a = h.buy(1, type="limit", limit_price="99", client_order_id="same")
    b = h.buy(1, account="second", type="limit", limit_price="99", client_order_id="same")
    assert a.id != b.id
    assert b.account_id == "second"


# ---- cancel --------------------------------------------------------------------------------
def test_cancel_releases_the_reservation(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(100, type="limit", limit_price="99")
    assert h.account.reserved == D(9_900)
    assert h.account.buying_power == D(90_100)
    h.kernel.cancel(order.id)
    assert order.status is S.CANCELED
    assert order.canceled_at == h.clock.now_ns()
    assert h.account.reserved == 0
    assert h.account.buying_power == D(100_000)
    assert h.account.open_qty("AAPL", buy=True) == 0


def test_cancel_after_a_partial_fill_releases_only_the_unfilled_reservation(h) -> None:
    h.quote("100.00", "100.02", ask_size=100)
    order = h.buy(300, type="limit", limit_price="100.05")
    assert order.filled_qty == 100
    assert h.account.reserved == 200 * D("100.05")
    h.kernel.cancel(order.id)
    assert h.account.reserved == 0
    assert h.account.cash == D(100_000) - 100 * D("100.02")
    assert h.account.buying_power == h.account.cash


def test_cancel_when_filled_is_rejected(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(1)
    with pytest.raises(OrderStateError, match="filled"):
        h.kernel.cancel(order.id)


def test_cancel_of_another_accounts_order_is_not_found(h) -> None:
    h.kernel.open_account("second", D(1_000))
    h.quote("100.00", "100.02")
    order = h.buy(1, type="limit", limit_price="99")
    with pytest.raises(OrderNotFoundError):
        h.kernel.cancel(order.id, account_id="second")
    assert order.status is S.NEW


# ---- replace -------------------------------------------------------------------------------
def test_replace_links_the_new_order_to_the_old(h) -> None:
    h.quote("100.00", "100.02")
    old = h.buy(10, type="limit", limit_price="99", client_order_id="v1")
    new = h.kernel.replace(old.id, qty=D(20), limit_price=D("98.50"), client_order_id="v2")
    assert old.status is S.REPLACED
    assert old.replaced_by == new.id
    assert old.replaced_at == h.clock.now_ns()
    assert new.replaces == old.id
    assert (new.status, new.qty, new.limit_price, new.client_order_id) == (S.NEW, 20, D("98.50"), "v2")
    assert h.account.reserved == 20 * D("98.50")
    assert h.account.open_qty("AAPL", buy=True) == 20
    assert list(h.account.open_orders) == [new.id]


def test_replace_checks_buying_power_as_if_the_old_order_were_gone(h) -> None:
    h.quote("100.00", "100.02")
    old = h.buy(900, type="limit", limit_price="100")
    new = h.kernel.replace(old.id, qty=D(990))  # 99,000 fits only once the old 90,000 is released
    assert new.status is S.NEW
    assert h.account.reserved == D(99_000)


def test_replace_that_fails_risk_changes_nothing(h) -> None:
    h.quote("100.00", "100.02")
    old = h.buy(10, type="limit", limit_price="99")
    seq, reserved = h.kernel.seq, h.account.reserved
    with pytest.raises(OrderRefusedError) as err:
        h.kernel.replace(old.id, qty=D(2_000))
    assert err.value.code == "RISK_BUYING_POWER"
    assert (h.kernel.seq, h.account.reserved, old.status) == (seq, reserved, S.NEW)
    assert h.account.open_qty("AAPL", buy=True) == 10


def test_replace_of_a_filled_order_is_rejected(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(1)
    with pytest.raises(OrderStateError, match="only working orders can be replaced"):
        h.kernel.replace(order.id, qty=D(2))


def test_replace_without_a_change_is_invalid(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(1, type="limit", limit_price="99")
    with pytest.raises(InvalidOrderError):
        h.kernel.replace(order.id)


def test_replace_with_a_used_client_order_id_is_a_duplicate(h) -> None:
    h.quote("100.00", "100.02")
    h.buy(1, type="limit", limit_price="98", client_order_id="taken")
    order = h.buy(1, type="limit", limit_price="99")
    with pytest.raises(DuplicateClientOrderIdError):
        h.kernel.replace(order.id, qty=D(2), client_order_id="taken")


# ---- halt, resume, close all ---------------------------------------------------------------
def test_halt_cancels_every_working_order_in_the_same_step(h) -> None:
    h.kernel.open_account("second", D(100_000))
    h.quote("100.00", "100.02")
    a = h.buy(10, type="limit", limit_price="99")
    b = h.buy(10, account="second", type="limit", limit_price="98", time_in_force="gtc")
    seq = h.kernel.seq
    canceled = h.kernel.halt(reason="exchange outage", actor="ops")
    assert {o.id for o in canceled} == {a.id, b.id}
    assert a.status is S.CANCELED and b.status is S.CANCELED
    assert h.event_names(seq) == ["TradingStateChanged", "OrderCanceled", "OrderCanceled"]
    assert h.kernel.trading_state() is TradingState.HALTED
    assert h.account.reserved == 0


def test_halted_new_orders_keeps_working_orders_and_allows_cancels_not_replaces(h) -> None:
    h.quote("100.00", "100.02")
    order = h.buy(10, type="limit", limit_price="99")
    other = h.buy(10, type="limit", limit_price="98")
    assert h.kernel.halt(level=TradingState.HALTED_NEW_ORDERS, reason="review", actor="ops") == []
    assert order.status is S.NEW
    with pytest.raises(OrderRefusedError) as err:
        h.kernel.replace(order.id, qty=D(5))
    assert err.value.code == "TRADING_HALTED"
    assert order.status is S.NEW
    h.kernel.cancel(other.id)
    assert other.status is S.CANCELED
    h.advance(1)
    h.quote("98.90", "98.95")
    assert order.status is S.FILLED  # working orders keep working


def test_account_halt_leaves_other_accounts_trading(h) -> None:
    h.kernel.open_account("second", D(100_000))
    h.quote("100.00", "100.02")
    h.kernel.halt(account_id="paper", reason="limit breach", actor="ops")
    assert h.kernel.trading_state("paper") is TradingState.HALTED
    assert h.kernel.trading_state() is TradingState.ACTIVE
    assert h.buy(1).status is S.REJECTED
    assert h.buy(1, account="second").status is S.FILLED


def test_resume_reactivates_trading(h) -> None:
    h.quote("100.00", "100.02")
    h.kernel.halt(reason="drill", actor="ops")
    h.kernel.resume(reason="drill over", actor="ops")
    assert h.kernel.trading_state() is TradingState.ACTIVE
    assert h.buy(1).status is S.FILLED


def test_halt_to_active_is_not_a_halt_level(h) -> None:
    with pytest.raises(InvalidOrderError):
        h.kernel.halt(level=TradingState.ACTIVE, reason="x", actor="ops")


def test_close_all_positions_flattens_while_halted(h) -> None:
    h.kernel.open_account("shorts", D(100_000), allow_short=True)
    h.quote("100.00", "100.02")
    h.quote("50.00", "50.02", symbol="MSFT")
    h.buy(30)
    h.buy(10, symbol="MSFT")
    h.sell(20, account="shorts")
    working = h.sell(5, type="limit", limit_price="110")
    h.kernel.halt(level=TradingState.HALTED_NEW_ORDERS, reason="end of test", actor="ops")
    results = h.kernel.close_all_positions(reason="flatten", actor="ops")
    assert working.status is S.CANCELED
    assert {(r.account_id, r.symbol) for r in results} == {("paper", "AAPL"), ("paper", "MSFT"),
                                                           ("shorts", "AAPL")}
    for r in results:
        assert r.refusal is None and r.order is not None
        assert r.order.status is S.FILLED
    assert {(r.account_id, r.symbol): r.order.side.value for r in results if r.order} == {
        ("paper", "AAPL"): "sell", ("paper", "MSFT"): "sell", ("shorts", "AAPL"): "buy"}
    for account in h.kernel.state.accounts.values():
        assert all(p.qty == 0 for p in account.positions.values())
    assert h.buy(1).status is S.REJECTED  # still halted


def test_close_all_positions_outside_the_session_reports_market_closed(make_kernel,
                                                                       exchange_hours) -> None:
    h = make_kernel(calendar=exchange_hours)
    session = exchange_hours.session_at(h.clock.now_ns())
    h.clock.set(session.open_ns)
    h.quote("100.00", "100.02")
    h.buy(10, time_in_force="gtc")
    h.clock.set(session.close_ns + NS)
    [result] = h.kernel.close_all_positions(account_id="paper", reason="eod", actor="ops")
    assert result.order is None
    assert result.refusal is not None and result.refusal.code == "MARKET_CLOSED"
    assert h.account.positions["AAPL"].qty == 10


# ---- sessions ------------------------------------------------------------------------------
def test_day_orders_expire_at_the_session_roll_and_gtc_orders_stay(h) -> None:
    h.quote("100.00", "100.02")
    day = h.buy(10, type="limit", limit_price="99")
    gtc = h.buy(10, type="limit", limit_price="99", time_in_force="gtc")
    close = h.kernel.state.session.close_ns
    h.clock.set(close + 5 * NS)
    h.quote("99.90", "100.00")  # the first quote of the new day rolls the session
    assert day.status is S.EXPIRED
    assert day.expired_at == close
    assert gtc.status is S.NEW
    assert h.account.reserved == 10 * D(99)
    names = h.event_names()
    assert names.index("OrderExpired") < len(names) - 1
    assert names[-1] == "TradingDayStarted"
    assert h.kernel.state.session.day == "2026-01-02"


def test_day_order_expiry_needs_no_quote(h) -> None:
    h.quote("100.00", "100.02")
    day = h.buy(10, type="limit", limit_price="99")
    h.clock.set(h.kernel.state.session.close_ns)
    h.kernel.tick()
    assert day.status is S.EXPIRED
    expired = [e for _, e in h.events if isinstance(e, OrderExpired)]
    assert [(e.order_id, e.ts) for e in expired] == [(day.id, h.kernel.state.session.open_ns)]


def test_day_order_placed_after_the_close_works_the_next_session(make_kernel, exchange_hours) -> None:
    h = make_kernel(calendar=exchange_hours)
    today = exchange_hours.session_at(h.clock.now_ns())
    h.clock.set(today.close_ns + 60 * NS)
    h.quote("100.00", "100.02")
    order = h.buy(10, type="limit", limit_price="99")
    assert order.status is S.NEW
    h.clock.set(today.close_ns + DAY_NS - 1)
    h.kernel.tick()
    assert order.status is S.NEW
    h.clock.set(today.close_ns + DAY_NS)
    h.kernel.tick()
    assert order.status is S.EXPIRED


# ---- loss limits ---------------------------------------------------------------------------
def test_daily_loss_limit_moves_the_account_to_reducing(h) -> None:
    h.quote("99.99", "100.00", last="100.00")
    h.kernel.set_limits("paper", {"daily_loss_limit": 1_000}, actor="test")
    h.buy(500, type="limit", limit_price="100.00")
    h.advance(1)
    h.quote("98.01", "98.03", last="98.02")  # -990.00
    assert h.kernel.trading_state("paper") is TradingState.ACTIVE
    h.advance(1)
    h.quote("97.99", "98.01", last="98.00")  # -1,000.00: the limit itself
    assert h.kernel.trading_state("paper") is TradingState.REDUCING
    change = next(e for _, e in reversed(h.events) if isinstance(e, TradingStateChanged))
    assert change.reason == ("RISK_DAILY_LOSS: daily P&L -1,000.00 USD; limit is -1,000.00 USD")
    assert change.actor == "risk"
    assert h.buy(1).reject_code == "TRADING_REDUCING"
    assert h.sell(100).status is S.FILLED


def test_drawdown_from_the_days_peak_halts_the_account_and_cancels_its_orders(h) -> None:
    h.quote("99.99", "100.00", last="100.00")
    h.kernel.set_limits("paper", {"max_drawdown_pct": 5}, actor="test")
    h.buy(500, type="limit", limit_price="100.00")
    working = h.buy(10, type="limit", limit_price="50", time_in_force="gtc")
    h.advance(1)
    h.quote("109.99", "110.01", last="110")  # peak equity 50,000 + 55,000
    h.advance(1)
    h.quote("99.50", "99.52", last="99.51")  # 99,755: 4.99% below the peak
    assert h.kernel.trading_state("paper") is TradingState.ACTIVE
    h.advance(1)
    h.quote("99.49", "99.51", last="99.50")  # 99,750: exactly 5% below the peak
    assert h.kernel.trading_state("paper") is TradingState.HALTED
    assert h.account.state_reason == (
        "RISK_MAX_DRAWDOWN: drawdown 5.00% from the day's peak 105,000.00 USD; limit is 5%")
    assert working.status is S.CANCELED
    assert h.buy(1).reject_code == "TRADING_HALTED"


def test_new_day_resets_the_equity_the_loss_limits_start_from(h) -> None:
    h.quote("99.99", "100.01", last="100")
    h.buy(100, type="limit", limit_price="100.01")
    h.advance(1)
    h.quote("89.99", "90.01", last="90")
    assert h.account.equity == D(100_000) - 100 * D("100.01") + 100 * D(90)
    assert h.account.day_start_equity == D(100_000)
    h.clock.set(h.kernel.state.session.close_ns)
    h.kernel.tick()
    assert h.account.day_start_equity == h.account.day_peak_equity == D("98999.00")


# ---- cash, commissions ---------------------------------------------------------------------
def test_fills_move_cash_positions_and_realised_pnl(h) -> None:
    h.quote("100.00", "100.02", last="100.01")
    h.buy(100)
    account = h.account
    assert account.cash == D(100_000) - D(10_002)
    assert account.positions["AAPL"].qty == 100
    assert account.positions["AAPL"].avg_entry_price == D("100.02")
    assert account.buying_power == account.cash
    assert account.equity == account.cash + 100 * D("100.01")
    h.advance(1)
    h.quote("101.00", "101.02", last="101.01")
    h.sell(40)
    assert account.realized_pnl == 40 * (D(101) - D("100.02"))
    assert account.cash == D(100_000) - D(10_002) + 40 * D(101)
    assert account.positions["AAPL"].unrealized_pnl == 60 * (D("101.01") - D("100.02"))


def test_commission_is_zero_by_default(h) -> None:
    h.quote("100.00", "100.02")
    h.buy(100)
    assert h.account.commissions == 0
    assert h.account.cash == D(100_000) - D(10_002)


def test_commission_model_charges_every_fill(make_kernel) -> None:
    model = CommissionModel(per_share=D("0.005"), minimum=D(1))
    h = make_kernel(config=KernelConfig(id_base=1, commission=model))
    h.quote("100.00", "100.02", ask_size=100)
    h.buy(150)  # 100 now (0.50, so the 1.00 minimum), 50 on the next quote (1.00 again)
    h.advance(1)
    h.quote("100.00", "100.02")
    h.buy(400)  # 2.00
    assert h.account.commissions == D(4)
    assert h.account.cash == D(100_000) - 550 * D("100.02") - D(4)


def test_commission_model_combines_per_share_and_bps() -> None:
    model = CommissionModel(per_share=D("0.01"), bps=D(1))
    assert model.commission(D(100), D(50)) == D("1.50")  # 1.00 + 0.50
    assert CommissionModel().commission(D(100), D(50)) == 0


def test_market_buy_reserves_at_the_ask_until_filled(make_kernel) -> None:
    h = make_kernel()
    h.quote("100.00", "100.02", ask_size=100)
    order = h.buy(300)
    assert order.filled_qty == 100
    assert h.account.reserved == 200 * D("100.02")
    assert h.account.buying_power == h.account.cash - 200 * D("100.02")


def test_open_account_validates_its_arguments(h) -> None:
    with pytest.raises(InvalidOrderError):
        h.kernel.open_account("bad id!", D(1))
    with pytest.raises(InvalidOrderError):
        h.kernel.open_account("neg", D(-1))
    with pytest.raises(OrderRefusedError) as err:
        h.kernel.open_account("paper", D(1))
    assert err.value.code == "ACCOUNT_EXISTS"


def test_cancel_all_is_scoped_by_account_and_symbol(h) -> None:
    h.quote("100.00", "100.02")
    h.quote("50.00", "50.02", symbol="MSFT")
    aapl = h.buy(1, type="limit", limit_price="99")
    msft = h.buy(1, symbol="MSFT", type="limit", limit_price="49")
    canceled = h.kernel.cancel_all(account_id="paper", symbol="MSFT")
    assert canceled == [msft]
    assert aapl.status is S.NEW
    assert [e.order_id for _, e in h.events if isinstance(e, OrderCanceled)] == [msft.id]


def test_kernel_keeps_the_request_as_submitted(h) -> None:
    h.quote("100.00", "100.02")
    req = OrderRequest.parse(symbol="AAPL", qty=1, side="buy", type="limit", limit_price="99",
                             time_in_force="gtc")
    order = h.kernel.submit("paper", req)
    assert order.time_in_force is TimeInForce.GTC
    assert order.request == req


def test_partial_fills_of_a_part_short_sale_release_its_reservation_exactly(h) -> None:
    account = h.kernel.open_account("shorts", D(100_000), allow_short=True)
    h.quote("1.00", "1.01", symbol="MSFT")
    h.quote("100.00", "100.02", bid_size=1)
    h.buy(1, account="shorts")
    other = h.buy(100, account="shorts", symbol="MSFT", type="limit", limit_price="0.50")
    sell = h.sell(3, account="shorts", type="limit", limit_price="100.00")
    assert sell.filled_qty == 1  # only 2 of the 3 go short: 200.00 was reserved
    h.advance(1)
    h.quote("100.00", "100.02", bid_size=1)
    assert sell.filled_qty == 2
    assert account.reserved == other.reserved + sell.reserved
    h.kernel.cancel(sell.id)
    h.kernel.cancel(other.id)
    assert account.reserved == 0


def test_maintenance_refuses_new_orders_until_it_completes(make_kernel) -> None:
    h = make_kernel()
    h.quote("100.00", "100.02")
    assert h.kernel.set_maintenance(True, reason="db upgrade", actor="ops")
    refused = h.buy(1)
    assert refused.status == "rejected" and refused.reject_code == "MAINTENANCE"
    assert "db upgrade" in (refused.reject_reason or "")
    assert not h.kernel.set_maintenance(True, reason="again", actor="ops")  # no change
    assert h.kernel.set_maintenance(False, reason="done", actor="ops")
    assert h.kernel.state.maintenance is None
    assert h.buy(1, type="market").status == "filled"


def test_the_internal_selftest_account_trades_through_a_platform_halt_but_not_its_own(
        make_kernel) -> None:
    h = make_kernel()
    h.quote("100.00", "100.02")
    h.kernel.open_account("_selftest", Decimal(1_000_000), internal=True)
    h.kernel.halt(reason="drill", actor="ops")
    assert h.buy(1).reject_code == "TRADING_HALTED"
    assert h.buy(1, account="_selftest").status == "filled"
    # the platform's totals are the customers' books: the self-test account is not in them
    assert h.kernel.state.equity == h.account.equity
    h.kernel.halt(account_id="_selftest", reason="own halt", actor="ops")
    assert h.buy(1, account="_selftest").reject_code == "TRADING_HALTED"
