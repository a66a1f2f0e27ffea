"""Netting positions: average entry, realised and unrealised P&L, market value; account marks."""

from __future__ import annotations

from decimal import Decimal

from mcp_trading.domain.accounts import Account
from mcp_trading.domain.positions import Position

D = Decimal


def position(*fills: tuple[int | str, str], mark: str | None = None) -> Position:
    pos = Position("AAPL")
    for qty, price in fills:
        pos.apply_fill(D(qty), D(price))
    pos.mark = None if mark is None else D(mark)
    return pos


def test_new_position_is_flat() -> None:
    pos = Position("AAPL")
    assert (pos.qty, pos.avg_entry_price, pos.realized_pnl) == (0, 0, 0)
    assert pos.side == "flat"
    assert pos.unrealized_pnl == 0
    assert pos.market_value == 0


def test_adding_to_a_long_averages_the_entry_price() -> None:
    pos = position((100, "10"), (300, "12"))
    assert pos.qty == 400
    assert pos.avg_entry_price == D("11.5")
    assert pos.realized_pnl == 0
    assert pos.side == "long"


def test_partial_close_realises_pnl_and_keeps_the_entry_price() -> None:
    pos = Position("AAPL")
    pos.apply_fill(D(100), D(10))
    realized = pos.apply_fill(D(-40), D("12.5"))
    assert realized == D(100)  # 40 x 2.50
    assert pos.realized_pnl == D(100)
    assert pos.qty == 60
    assert pos.avg_entry_price == D(10)


def test_full_close_resets_the_entry_price() -> None:
    pos = position((100, "10"), (-100, "9"))
    assert pos.qty == 0
    assert pos.avg_entry_price == 0
    assert pos.realized_pnl == D(-100)
    assert pos.side == "flat"


def test_crossing_through_zero_realises_the_closed_part_and_opens_at_the_fill_price() -> None:
    pos = Position("AAPL")
    pos.apply_fill(D(10), D(100))
    realized = pos.apply_fill(D(-15), D(110))
    assert realized == D(100)
    assert pos.qty == -5
    assert pos.avg_entry_price == D(110)
    assert pos.side == "short"


def test_short_gains_when_the_price_falls() -> None:
    pos = position((-10, "100"), (-5, "90"))
    assert pos.qty == -15
    assert pos.avg_entry_price == (D(1000) + D(450)) / 15
    realized = pos.apply_fill(D(5), D(80))
    assert realized == 5 * ((D(1450) / 15) - 80)
    assert pos.qty == -10


def test_unrealised_pnl_and_market_value_use_the_mark() -> None:
    long = position((100, "10"), mark="11")
    assert long.unrealized_pnl == D(100)
    assert long.market_value == D(1100)
    short = position((-100, "10"), mark="11")
    assert short.unrealized_pnl == D(-100)
    assert short.market_value == D(-1100)


def test_without_a_mark_the_position_is_valued_at_cost() -> None:
    pos = position((50, "20"))
    assert pos.market_value == pos.cost_basis == D(1000)
    assert pos.unrealized_pnl == 0


def test_account_remark_keeps_position_and_gross_value_exact() -> None:
    account = Account("a", D(10_000))
    long, short = position((10, "100"), mark="100"), position((-5, "50"), mark="50")
    account.positions = {"L": long, "S": short}
    account.position_value = D(1000) - D(250)
    account.gross_value = D(1000) + D(250)
    account.remark(long, D(110))
    account.remark(short, D(40))
    assert account.position_value == long.market_value + short.market_value == D(1100) - D(200)
    assert account.gross_value == abs(long.market_value) + abs(short.market_value) == D(1300)
    assert account.unrealized_pnl == D(100) + D(50)
    assert account.equity == D(10_000) + D(900)


def test_account_remark_of_a_position_carried_at_cost_replaces_cost_with_market_value() -> None:
    account = Account("a", D(0))
    pos = position((-4, "25"))
    account.positions = {"S": pos}
    account.position_value = pos.cost_basis  # -100, carried at cost
    account.gross_value = abs(pos.cost_basis)
    account.remark(pos, D(30))
    assert account.position_value == D(-120)
    assert account.gross_value == D(120)


def test_buying_power_is_cash_less_reservations_and_short_value() -> None:
    account = Account("a", D(10_000), allow_short=True)
    account.reserved = D(1_000)
    assert account.buying_power == D(9_000)
    account.position_value, account.gross_value = D(-2_000), D(2_000)  # a short worth 2,000
    assert account.buying_power == D(10_000) - D(4_000) - D(1_000)
