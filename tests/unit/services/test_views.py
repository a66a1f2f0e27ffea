"""JSON views write every decimal in bounded text, even one journaled before input bounds."""

from __future__ import annotations

import time
from decimal import Decimal

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.orders import Order, OrderRequest, OrderSide, OrderType, TimeInForce
from mcp_trading.domain.positions import Position
from mcp_trading.services.views import account_view, money, order_view, position_view

D = Decimal
ABSURD = [D("1e-999999999"), D("1E+999999999999999999"), D("0E-999999999"), D("9" * 5000)]


def _strings(view: dict[str, object]) -> list[str]:
    return [v for v in view.values() if isinstance(v, str)]


def test_an_order_journaled_with_an_absurd_price_renders_in_a_few_bytes() -> None:
    """The issue's frozen platform: a limit of 1e-999999999 was a 1 GB string on every read."""
    for value in ABSURD:
        request = OrderRequest("AAPL", value, OrderSide.BUY, OrderType.STOP_LIMIT, TimeInForce.GTC,
                               limit_price=value, stop_price=value)
        order = Order("o-1", "paper", request, ts=time.time_ns())
        order.filled_qty = value
        order.filled_avg_price = value
        order.watermark = value
        started = time.perf_counter()
        view = order_view(order)
        assert time.perf_counter() - started < 0.05
        assert max(len(s) for s in _strings(view)) <= 48, view


def test_fixed_point_text_for_ordinary_values() -> None:
    request = OrderRequest("AAPL", D(10), OrderSide.BUY, OrderType.LIMIT, TimeInForce.DAY,
                           limit_price=D("90.00"))
    order = Order("o-2", "paper", request, ts=1)
    order.filled_avg_price = D("90.004999")
    view = order_view(order)
    assert (view["qty"], view["limit_price"], view["filled_avg_price"]) == ("10", "90.00",
                                                                            "90.0050")
    assert money(D("1E+5")) == "100000.00"
    assert money(D("-0.004")) == "0.00"


def test_account_and_position_views_stay_short_for_absurd_books() -> None:
    account = Account("paper", D("1E+99999"))
    position = Position("AAPL")
    position.qty = D("1e-999999")
    position.avg_entry_price = D("1E+99999")
    account.positions["AAPL"] = position
    for view in (account_view(account), position_view(account, position)):
        assert max(len(s) for s in _strings(view)) <= 48, view
