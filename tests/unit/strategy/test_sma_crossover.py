"""sma_crossover exactly as issue 14 defines it, on hand-made closes where the averages are
easy to follow (fast=1: the close itself; slow=2: the mean of the last two closes)."""

from __future__ import annotations

from decimal import Decimal

from tests.unit.strategy.support import columns, drive

from mcp_trading.strategy.builtin.sma_crossover import SmaCrossover, SmaCrossoverParams
from mcp_trading.strategy.vector import decisions

PARAMS = SmaCrossoverParams.parse({"fast": 1, "slow": 2, "qty": 5})


def _run(closes: list[float]) -> list[tuple[int, str, Decimal]]:
    bars = {"X": columns(closes)}
    decided, _ = drive(SmaCrossover(PARAMS), bars)
    assert decided == decisions("sma_crossover", PARAMS, bars)
    return [(d.bar, d.side, d.qty) for d in decided]


def test_a_cross_above_while_flat_buys_qty_and_a_cross_below_sells_it() -> None:
    # fast - slow: bar1 -0.5 (below), bar2 +0.5 (cross above), bar3 -0.5 (cross below)
    assert _run([10, 9, 10, 9]) == [(2, "buy", Decimal(5)), (3, "sell", Decimal(5))]


def test_the_first_bar_with_both_averages_is_never_a_cross() -> None:
    assert _run([9, 10, 11, 12]) == []  # fast > slow from the first ready bar on


def test_equal_bars_are_skipped_when_looking_back() -> None:
    # bar1 below; bar2 equal (10 == mean(10, 10)); bar3 above: the last differing bar was
    # bar1 (below), so bar3 crosses above
    assert _run([11, 10, 10, 11]) == [(3, "buy", Decimal(5))]


def test_equal_bars_between_two_bars_on_the_same_side_are_no_cross() -> None:
    # bar1 above; bar2 equal; bar3 above again: no cross
    assert _run([9, 10, 10, 11]) == []


def test_an_equal_bar_itself_is_never_a_cross() -> None:
    # bar1 below, bar2 equal: nothing; bar3 below again: nothing
    assert _run([11, 10, 10, 9]) == []


def test_a_cross_below_while_flat_does_nothing_and_is_not_remembered_as_a_trade() -> None:
    # bar1 above, bar2 cross below (flat: no sell), bar3 cross above: buy
    assert _run([9, 10, 9, 10]) == [(3, "buy", Decimal(5))]


def test_the_whole_position_is_sold() -> None:
    bars = {"X": columns([10, 9, 10, 10.5, 9])}
    strategy = SmaCrossover(PARAMS)
    decided, ctx = drive(strategy, bars)
    assert [(d.side, d.qty) for d in decided] == [("buy", Decimal(5)), ("sell", Decimal(5))]
    # the buy (decided on bar 2) filled at bar 3's open, before the sell was decided on
    # bar 4's close, which as the last bar leaves the sell working
    assert ctx.position("X") == 5 and list(ctx.working.values()) == [("X", "sell", Decimal(5))]


def test_symbols_are_independent() -> None:
    bars = {"A": columns([10, 9, 10]), "B": columns([9, 10, 9])}
    decided, _ = drive(SmaCrossover(PARAMS), bars)
    assert [(d.symbol, d.bar, d.side) for d in decided] == [("A", 2, "buy")]
