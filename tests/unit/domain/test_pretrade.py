"""Pre-trade risk: one test per rule per scope, with the figures each refusal message carries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.orders import OrderRequest, OrderStatus
from mcp_trading.domain.pretrade import reduces_exposure, reference_price
from mcp_trading.domain.risk import InvalidLimitError, Reason, RiskLimits
from mcp_trading.domain.trading_state import TradingState

D = Decimal
S = OrderStatus
SCOPES = ["account", "global"]


def set_limits(h, scope: str, **limits: object) -> None:
    h.kernel.set_limits("paper" if scope == "account" else None, limits, actor="test")


def refused(order, code: str) -> str:
    assert order.status is S.REJECTED, f"expected {code}, got {order.status}"
    assert order.reject_code == code
    assert order.reject_reason
    return order.reject_reason


# ---- size ----------------------------------------------------------------------------------
@pytest.mark.parametrize("scope", SCOPES)
def test_order_above_max_qty_is_refused(h, scope: str) -> None:
    h.quote("100.00", "100.02")
    set_limits(h, scope, max_order_qty=100)
    assert h.buy(100).status is S.FILLED
    message = refused(h.buy(101), "RISK_MAX_ORDER_QTY")
    assert message == f"order quantity was 101; {scope} limit is 100"


@pytest.mark.parametrize("scope", SCOPES)
def test_order_above_max_notional_is_refused_with_both_figures(h, scope: str) -> None:
    h.quote("100.00", "100.02")
    set_limits(h, scope, max_order_notional=100_000)
    message = refused(h.buy(2500, type="limit", limit_price="100"), "RISK_MAX_NOTIONAL")
    assert message == f"order notional was 250,000.00 USD; {scope} limit is 100,000.00 USD"
    assert h.buy(1000, type="limit", limit_price="99").status is S.NEW


@pytest.mark.parametrize("scope", SCOPES)
def test_order_that_would_exceed_max_position_is_refused(h, scope: str) -> None:
    h.quote("100.00", "100.02")
    set_limits(h, scope, max_position_qty=100)
    h.buy(80)
    message = refused(h.buy(30), "RISK_MAX_POSITION")
    assert message == f"position in AAPL would be 110; {scope} limit is 100"
    assert h.buy(20).status is S.FILLED
    assert h.sell(50).status is S.FILLED  # reducing is always within the limit


def test_account_max_position_counts_working_orders_on_the_same_side(h) -> None:
    h.quote("100.00", "100.02")
    set_limits(h, "account", max_position_qty=100)
    h.buy(60, type="limit", limit_price="99")
    message = refused(h.buy(50, type="limit", limit_price="99"), "RISK_MAX_POSITION")
    assert "would be 110" in message


def test_global_max_position_adds_up_every_account(h) -> None:
    h.kernel.open_account("second", D(100_000))
    h.quote("100.00", "100.02")
    set_limits(h, "global", max_position_qty=100)
    h.buy(70)
    message = refused(h.buy(40, account="second"), "RISK_MAX_POSITION")
    assert message == "position in AAPL would be 110; global limit is 100"


@pytest.mark.parametrize("scope", SCOPES)
def test_order_that_would_exceed_max_gross_exposure_is_refused(h, scope: str) -> None:
    h.quote("99.99", "100.01")  # mark 100.00
    set_limits(h, scope, max_gross_exposure=10_000)
    h.buy(50)
    message = refused(h.buy(60), "RISK_MAX_GROSS_EXPOSURE")
    assert message == f"gross exposure would be 11,000.00 USD; {scope} limit is 10,000.00 USD"
    assert h.buy(49).status is S.FILLED


def test_global_gross_exposure_adds_up_every_account(h) -> None:
    h.kernel.open_account("second", D(100_000))
    h.quote("99.99", "100.01")
    set_limits(h, "global", max_gross_exposure=10_000)
    h.buy(60)
    assert "11,000.00 USD" in refused(h.buy(50, account="second"), "RISK_MAX_GROSS_EXPOSURE")


# ---- prices and quotes ---------------------------------------------------------------------
@pytest.mark.parametrize("scope", SCOPES)
def test_limit_price_outside_the_collar_is_refused(h, scope: str) -> None:
    h.quote("99.99", "100.01")  # reference (mid) 100.00
    set_limits(h, scope, price_collar_pct=5)
    message = refused(h.buy(1, type="limit", limit_price="106"), "RISK_PRICE_COLLAR")
    assert message == f"limit price 106 is 6.00% from the reference price 100.00; {scope} collar is 5%"
    assert refused(h.buy(1, type="limit", limit_price="94.99"), "RISK_PRICE_COLLAR")
    assert h.buy(1, type="limit", limit_price="95").status is S.NEW


@pytest.mark.parametrize("scope", SCOPES)
def test_market_order_on_a_stale_quote_is_refused(h, scope: str) -> None:
    h.quote("100.00", "100.02")
    set_limits(h, scope, max_quote_age_s=5)
    h.advance(5)
    assert h.buy(1).status is S.FILLED
    h.advance(1.5)
    message = refused(h.buy(1), "RISK_STALE_QUOTE")
    assert message == (f"the latest AAPL quote is 6.500 s old; market orders need one at most 5 s "
                       f"old ({scope})")
    assert h.buy(1, type="limit", limit_price="100").status is not S.REJECTED


@pytest.mark.parametrize("scope", SCOPES)
def test_orders_above_the_rate_limit_are_refused_until_a_second_has_passed(h, scope: str) -> None:
    h.quote("100.00", "100.02")
    set_limits(h, scope, max_orders_per_second=2)
    h.buy(1)
    h.buy(1)
    message = refused(h.buy(1), "RISK_RATE_LIMIT")
    assert message == f"2 orders in the last second; {scope} limit is 2 per second"
    h.advance(1)
    assert h.buy(1).status is S.FILLED


def test_global_rate_limit_counts_every_account(h) -> None:
    h.kernel.open_account("second", D(100_000))
    h.quote("100.00", "100.02")
    set_limits(h, "global", max_orders_per_second=2)
    h.buy(1)
    h.buy(1, account="second")
    refused(h.buy(1, account="second"), "RISK_RATE_LIMIT")


def test_market_order_without_any_quote_is_refused(h) -> None:
    message = refused(h.buy(1), "RISK_NO_QUOTE")
    assert "AAPL" in message


# ---- cash, shorts, instrument, session -----------------------------------------------------
def test_buy_beyond_buying_power_is_refused_with_both_figures(h) -> None:
    h.quote("100.00", "100.02")
    message = refused(h.buy(1001, type="limit", limit_price="100"), "RISK_BUYING_POWER")
    assert message == "order needs 100,100.00 USD of buying power; 100,000.00 USD available"
    assert h.buy(1000, type="limit", limit_price="100").status is S.NEW


def test_buying_power_counts_what_working_orders_reserve(h) -> None:
    h.quote("100.00", "100.02")
    h.buy(600, type="limit", limit_price="99")
    message = refused(h.buy(420, type="limit", limit_price="99"), "RISK_BUYING_POWER")
    assert "40,600.00 USD available" in message


def test_short_sale_is_refused_unless_the_account_allows_it(h) -> None:
    h.quote("100.00", "100.02")
    h.buy(10)
    h.sell(4, type="limit", limit_price="105")
    message = refused(h.sell(10), "RISK_SHORT_SALE")
    assert message == ("selling 10 AAPL would go short by 4 (position 10, already offered 4); "
                       "account paper may not sell short")
    assert h.sell(6).status is S.FILLED


def test_short_sale_is_accepted_and_reserved_where_allowed(h) -> None:
    h.kernel.open_account("shorts", D(10_000), allow_short=True)
    h.quote("100.00", "100.02")
    order = h.sell(50, account="shorts", type="limit", limit_price="101")
    assert order.status is S.NEW
    assert order.reserved == D(5050)
    assert "buying power" in refused(h.sell(50, account="shorts", type="limit", limit_price="101"),
                                     "RISK_BUYING_POWER")


def test_untradable_instrument_is_refused(h) -> None:
    h.quote("10.00", "10.02", symbol="HALT")
    refused(h.buy(1, symbol="HALT"), "INSTRUMENT_NOT_TRADABLE")


def test_market_order_outside_the_session_is_refused(make_kernel, exchange_hours) -> None:
    h = make_kernel(calendar=exchange_hours)
    h.quote("100.00", "100.02")
    message = refused(h.buy(1), "MARKET_CLOSED")
    assert "closed" in message


# ---- trading state -------------------------------------------------------------------------
@pytest.mark.parametrize("level", [TradingState.HALTED, TradingState.HALTED_NEW_ORDERS])
@pytest.mark.parametrize("account_id", [None, "paper"])
def test_halted_scope_refuses_new_orders(h, level: TradingState, account_id: str | None) -> None:
    h.quote("100.00", "100.02")
    h.kernel.halt(level=level, account_id=account_id, reason="fat finger", actor="ops")
    message = refused(h.buy(1), "TRADING_HALTED")
    scope = "platform" if account_id is None else "account paper"
    assert message == f"{scope} trading is {level.value} (fat finger): new orders are refused"


@pytest.mark.parametrize("account_id", [None, "paper"])
def test_reducing_scope_admits_only_orders_that_shrink_the_position(h, account_id: str | None) -> None:
    h.quote("100.00", "100.02")
    h.buy(10)
    h.kernel.halt(level=TradingState.REDUCING, account_id=account_id, reason="risk", actor="ops")
    assert "reducing mode" in refused(h.buy(1), "TRADING_REDUCING")
    refused(h.sell(11), "TRADING_REDUCING")  # would flip to short
    assert h.sell(4, type="limit", limit_price="101").status is S.NEW
    refused(h.sell(7), "TRADING_REDUCING")  # 4 already offered + 7 > 10
    assert h.sell(6).status is S.FILLED


def test_reduces_exposure_needs_an_opposite_position() -> None:
    account = Account("a", D(0))
    req = OrderRequest.parse(symbol="AAPL", qty=1, side="sell")
    assert not reduces_exposure(req, account)


def test_reference_price_is_limit_then_stop_then_touch() -> None:
    from mcp_trading.domain.market import Quote

    quote = Quote("AAPL", D(100), D("100.02"), D(1), D(1), None, 0)
    limit = OrderRequest.parse(symbol="AAPL", qty=1, side="buy", type="stop_limit", stop_price=101,
                               limit_price=102)
    stop = OrderRequest.parse(symbol="AAPL", qty=1, side="buy", type="stop", stop_price=101)
    buy = OrderRequest.parse(symbol="AAPL", qty=1, side="buy")
    sell = OrderRequest.parse(symbol="AAPL", qty=1, side="sell")
    assert [reference_price(r, quote) for r in (limit, stop, buy, sell)] == [D(102), D(101),
                                                                             D("100.02"), D(100)]
    assert reference_price(buy, None) is None


# ---- limits configuration ------------------------------------------------------------------
def test_every_reason_code_is_stable() -> None:
    assert {r.name: r.value for r in Reason} == {
        "MAX_ORDER_QTY": "RISK_MAX_ORDER_QTY", "MAX_NOTIONAL": "RISK_MAX_NOTIONAL",
        "MAX_POSITION": "RISK_MAX_POSITION", "MAX_GROSS_EXPOSURE": "RISK_MAX_GROSS_EXPOSURE",
        "PRICE_COLLAR": "RISK_PRICE_COLLAR", "STALE_QUOTE": "RISK_STALE_QUOTE",
        "NO_QUOTE": "RISK_NO_QUOTE", "RATE_LIMIT": "RISK_RATE_LIMIT",
        "DUPLICATE_CLIENT_ORDER_ID": "DUPLICATE_CLIENT_ORDER_ID",
        "BUYING_POWER": "RISK_BUYING_POWER", "SHORT_SALE": "RISK_SHORT_SALE",
        "DAILY_LOSS": "RISK_DAILY_LOSS", "MAX_DRAWDOWN": "RISK_MAX_DRAWDOWN",
        "TRADING_HALTED": "TRADING_HALTED", "TRADING_REDUCING": "TRADING_REDUCING",
        "MARKET_CLOSED": "MARKET_CLOSED", "NOT_TRADABLE": "INSTRUMENT_NOT_TRADABLE",
        "MAINTENANCE": "MAINTENANCE",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_order_qty": 0}, "max_order_qty"),
        ({"max_order_notional": -1}, "max_order_notional"),
        ({"max_order_qty": "lots"}, "max_order_qty"),
        ({"max_order_qty": True}, "max_order_qty"),
        ({"max_order_qty": "Infinity"}, "max_order_qty"),
        ({"price_collar_pct": 101}, "price_collar_pct"),
        ({"max_drawdown_pct": 150}, "max_drawdown_pct"),
        ({"max_orders_per_second": "2.5"}, "max_orders_per_second"),
        ({"max_order_size": 10}, "max_order_size"),
        ({"max_order_qty": 10, "price_collar_pct": 200}, "price_collar_pct"),
    ],
)
@pytest.mark.parametrize("scope", SCOPES)
def test_invalid_limit_raises_and_changes_nothing(h, scope: str, changes: dict[str, object],
                                                  field: str) -> None:
    account_id = "paper" if scope == "account" else None
    h.kernel.set_limits(account_id, {"max_order_qty": 500}, actor="test")
    seq = h.kernel.seq
    with pytest.raises(InvalidLimitError) as err:
        h.kernel.set_limits(account_id, changes, actor="test")
    assert err.value.field == field
    assert err.value.code == "INVALID_LIMIT"
    assert h.kernel.seq == seq
    limits = h.account.limits if account_id else h.kernel.state.global_limits
    assert limits == RiskLimits(max_order_qty=D(500))


def test_set_limits_merges_changes_and_none_clears_one(h) -> None:
    h.kernel.set_limits("paper", {"max_order_qty": 10, "price_collar_pct": "2.5"}, actor="test")
    updated = h.kernel.set_limits("paper", {"max_order_qty": None, "max_orders_per_second": 3},
                                  actor="test")
    assert updated == RiskLimits(price_collar_pct=D("2.5"), max_orders_per_second=3)
    assert h.account.limits == updated
    assert h.kernel.state.global_limits == RiskLimits()
    assert h.event_names()[-1] == "LimitsSet"


def test_limits_survive_the_wire_format() -> None:
    limits = RiskLimits(max_order_qty=D(5), price_collar_pct=D("1.5"), max_orders_per_second=7)
    assert RiskLimits.from_wire(limits.to_wire()) == limits
