"""The other built-ins' rules on hand-made bars and on the real sample."""

from __future__ import annotations

from decimal import Decimal

from tests.unit.strategy.support import columns, drive, sample_bars

from mcp_trading.strategy.builtin import BollingerBreakout, BuyAndHold, MomentumRotation, RsiReversion
from mcp_trading.strategy.builtin.momentum_rotation import MomentumRotationParams


def test_rsi_reversion_buys_below_lower_and_sells_above_upper() -> None:
    params = RsiReversion.Params.parse({"period": 2, "lower": 30, "upper": 70, "qty": 3})
    closes = [10, 9, 8, 7, 8, 9, 10]  # RSI 0 on bars 2-3, then rising to 100
    decided, _ = drive(RsiReversion(params), {"X": columns(closes)})
    assert [(d.bar, d.side, d.qty) for d in decided] == [(2, "buy", Decimal(3)),
                                                         (5, "sell", Decimal(3))]


def test_bollinger_breakout_buys_above_the_upper_band_and_exits_below_the_middle() -> None:
    params = BollingerBreakout.Params.parse({"period": 3, "k": 1.0, "qty": 2})
    closes = [10, 10.1, 9.9, 12, 12.5, 9]
    decided, _ = drive(BollingerBreakout(params), {"X": columns(closes)})
    assert [(d.bar, d.side) for d in decided] == [(3, "buy"), (5, "sell")]


def test_buy_and_hold_splits_the_starting_cash_equally_in_whole_shares() -> None:
    bars = {"A": columns([10, 11]), "B": columns([30, 31])}
    decided, _ = drive(BuyAndHold(), bars, cash=Decimal(10_000))
    # 10,000 × 0.95 / 2 = 4,750: 475 A at 10, 158 B at 30 (floor)
    assert [(d.symbol, d.bar, d.side, d.qty) for d in decided] == [
        ("A", 0, "buy", Decimal(475)), ("B", 0, "buy", Decimal(158))]


def test_momentum_rotation_holds_the_top_n_and_rotates_sells_first() -> None:
    params = MomentumRotationParams.parse({"lookback": 1, "top_n": 1, "rebalance_every": 2,
                                           "fraction": 1.0})
    bars = {"A": columns([10, 11, 11, 11, 11]), "B": columns([10, 10, 10, 12, 12])}
    decided, ctx = drive(MomentumRotation(params), bars, cash=Decimal(1_100))
    # bar 1: A +10 % leads -> sells nothing, buys on bar 2: floor(1100 / 11) = 100 A
    # bar 3: B +20 % leads -> sell 100 A on bar 3, buy B on bar 4 with the then cash
    assert [(d.bar, d.symbol, d.side, d.qty) for d in decided] == [
        (2, "A", "buy", Decimal(100)), (3, "A", "sell", Decimal(100)),
        (4, "B", "buy", Decimal(91))]
    assert ctx.position("A") == 0


def test_momentum_rotation_runs_on_the_sample_without_errors() -> None:
    bars = sample_bars()
    symbols = ["AAPL", "GOOG", "IBM", "MSFT"]
    decided, ctx = drive(MomentumRotation(), {s: bars[s] for s in symbols}, symbols)
    assert len(decided) > 20
    assert all(q >= 0 for q in ctx.held.values())  # long-only
    assert ctx.lines == []
