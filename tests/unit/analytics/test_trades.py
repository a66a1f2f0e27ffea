"""Round trips from fills: FIFO per symbol, long and short, partial closes, reversals,
commissions allocated pro rata (Decimal throughout)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_trading.analytics.equity import build_equity_curve
from mcp_trading.analytics.trades import Fill, RoundTrip, open_lots, round_trips
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.orders import OrderSide

D = Decimal  # short for the many literals below


def _fill(side: str, qty: str, price: str, ts: int, commission: str = "0",
          symbol: str = "AAPL") -> Fill:
    return Fill(symbol, side, D(qty), D(price), ts, D(commission))


def test_a_long_round_trip_nets_its_commissions() -> None:
    [trade] = round_trips([_fill("buy", "100", "10", 1, "1"), _fill("sell", "100", "12", 2, "1")])
    assert trade == RoundTrip("AAPL", "long", D(100), 1, D(10), 2, D(12), D(198), D(2),
                              D("0.198"))
    assert trade.as_dict()["return"] == "0.198"


def test_a_short_round_trip_gains_when_the_price_falls() -> None:
    [trade] = round_trips([_fill("sell", "50", "20", 1), _fill("buy", "50", "18", 2)])
    assert (trade.side, trade.pnl, trade.return_) == ("short", D(100), D("0.1"))


def test_entries_are_matched_oldest_first_with_a_qty_weighted_price() -> None:
    trades = round_trips([_fill("buy", "100", "10", 1), _fill("buy", "100", "13", 2),
                          _fill("sell", "150", "14", 3), _fill("sell", "50", "9", 4)])
    first, second = trades
    # 100 @ 10 and 50 @ 13 closed at 14: entry (1000 + 650) / 150 = 11
    assert (first.qty, first.entry_price, first.entry_time, first.pnl) == (D(150), D(11), 1,
                                                                           D(450))
    # the rest of the second lot: 50 @ 13, entered at ts 2, closed at 9
    assert (second.qty, second.entry_price, second.entry_time, second.pnl) == (D(50), D(13), 2,
                                                                               D(-200))


def test_a_partial_close_splits_the_trade_and_its_commission() -> None:
    fills = [_fill("buy", "3", "10", 1, "1"), _fill("sell", "1", "11", 2, "0.5"),
             _fill("sell", "2", "12", 3, "0.5")]
    first, second = round_trips(fills)
    assert first.commission == D("0.833333333")  # 1/3 of the entry's 1, and the exit's 0.5
    assert second.commission == D("1.166666667")  # the rest of the entry's, and the exit's 0.5
    assert first.commission + second.commission == D(2)  # nothing lost to rounding
    assert first.pnl == D(1) - first.commission
    assert second.pnl == D(4) - second.commission


def test_a_reversal_closes_then_opens_the_other_side() -> None:
    fills = [_fill("buy", "10", "100", 1, "1"), _fill("sell", "30", "110", 2, "3"),
             _fill("buy", "20", "105", 3, "2")]
    long_trade, short_trade = round_trips(fills)
    assert (long_trade.side, long_trade.qty, long_trade.commission) == ("long", D(10), D(2))
    assert long_trade.pnl == D(100) - D(2)
    # the short of 20 @ 110 carries 2 of the reversing fill's 3 commission
    assert (short_trade.side, short_trade.qty, short_trade.entry_price) == ("short", D(20), D(110))
    assert short_trade.commission == D(4) and short_trade.pnl == D(100) - D(4)
    assert open_lots(fills) == []


def test_symbols_are_matched_apart_and_open_lots_stay_open() -> None:
    fills = [_fill("buy", "10", "100", 1, symbol="AAPL"), _fill("sell", "5", "50", 2, symbol="MSFT"),
             _fill("sell", "4", "101", 3, symbol="AAPL")]
    [trade] = round_trips(fills)
    assert (trade.symbol, trade.qty) == ("AAPL", D(4))
    lots = open_lots(fills)
    assert [(lot.symbol, lot.side, lot.qty) for lot in lots] == [("AAPL", "long", D(6)),
                                                                 ("MSFT", "short", D(5))]


def test_fills_are_taken_in_time_order_and_order_side_is_accepted() -> None:
    fills = [Fill("AAPL", OrderSide.SELL, D(1), D(12), 2), Fill("AAPL", OrderSide.BUY, D(1), D(10), 1)]
    [trade] = round_trips(fills)
    assert (trade.side, trade.pnl) == ("long", D(2))


@pytest.mark.parametrize(("fill", "field"), [
    (Fill("AAPL", "hold", D(1), D(1), 1), "side"),
    (Fill("AAPL", "buy", D(0), D(1), 1), "qty"),
    (Fill("AAPL", "buy", D(1), D(-1), 1), "price"),
    (Fill("AAPL", "buy", D(1), D(1), 1, D(-1)), "commission"),
])
def test_a_bad_fill_is_refused_naming_the_field(fill: Fill, field: str) -> None:
    with pytest.raises(InvalidError) as raised:
        round_trips([fill])
    assert raised.value.field == field
    assert field in raised.value.message


@st.composite
def _flat_fills(draw: st.DrawFn) -> list[Fill]:
    """Random buys and sells of two symbols (reversals included), closed flat at the end."""
    fills, position = [], {"AAPL": D(0), "MSFT": D(0)}
    for ts in range(draw(st.integers(1, 25))):
        symbol = draw(st.sampled_from(sorted(position)))
        qty = D(draw(st.integers(1, 500))) / 10
        side = draw(st.sampled_from(["buy", "sell"]))
        price = D(draw(st.integers(100, 20_000))) / 100
        commission = D(draw(st.integers(0, 300))) / 100
        fills.append(Fill(symbol, side, qty, price, ts, commission))
        position[symbol] += qty if side == "buy" else -qty
    for ts, (symbol, qty) in enumerate(sorted(position.items()), start=100):
        if qty:
            fills.append(Fill(symbol, "sell" if qty > 0 else "buy", abs(qty), D("50.5"), ts, D(1)))
    return fills


@settings(max_examples=200, deadline=None)
@given(_flat_fills())
def test_closed_flat_the_trades_account_for_every_cent(fills: list[Fill]) -> None:
    trades = round_trips(fills)
    cash_change = sum(((f.qty * f.price if f.side == "sell" else -f.qty * f.price) - f.commission
                       for f in fills), D(0))
    assert sum((t.pnl for t in trades), D(0)) == cash_change
    assert sum((t.commission for t in trades), D(0)) == sum((f.commission for f in fills), D(0))
    assert open_lots(fills) == []
    # every unit bought either opened a long or closed a short, and the same for sells
    closed = sum((t.qty for t in trades), D(0))
    assert closed == sum((f.qty for f in fills if f.side == "buy"), D(0))
    assert closed == sum((f.qty for f in fills if f.side == "sell"), D(0))
    # the equity curve, built independently from the same fills, ends at cash + Σ pnl
    curve = build_equity_curve(fills, [10_000], {}, D(1_000_000))
    assert curve.equity[-1] == pytest.approx(float(D(1_000_000) + cash_change), abs=1e-6)
