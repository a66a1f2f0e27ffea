"""The vectorised path decides exactly what the event-driven strategy decides on real
closes, and its next-open fill simulation follows the stated rules."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from tests.unit.strategy.support import columns, drive, sample_bars

from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.models import CommissionModel, SlippageModel
from mcp_trading.strategy.builtin import BUILTINS
from mcp_trading.strategy.simulate import fill_price, simulate
from mcp_trading.strategy.vector import VECTORISED, Decision, decisions, entry_exit_orders

CASH = Decimal(1_000_000)
PARAM_SETS = {
    "sma_crossover": [{}, {"fast": 5, "slow": 20}, {"fast": 2, "slow": 3}],
    "rsi_reversion": [{}, {"period": 2, "lower": 10, "upper": 90}, {"period": 30}],
    "bollinger_breakout": [{}, {"period": 10, "k": 1.0}, {"period": 50, "k": 2.5}],
    "buy_and_hold": [{}, {"qty": 7}],
}


@pytest.mark.parametrize("name", VECTORISED)
def test_vector_decisions_equal_the_event_driven_ones_on_real_closes(name: str) -> None:
    bars = sample_bars()
    cls = BUILTINS[name]
    for raw in PARAM_SETS[name]:
        params = cls.Params.parse(raw)
        for symbol in bars:
            one = {symbol: bars[symbol]}
            expected, _ = drive(cls(params), one, cash=CASH)
            assert decisions(name, params, one, cash=CASH) == expected, (name, raw, symbol)
        assert expected, f"{name} {raw}: no decision at all tests nothing"


@pytest.mark.parametrize("name", VECTORISED)
def test_vector_decisions_over_several_symbols_keep_the_delivery_order(name: str) -> None:
    bars = sample_bars()
    symbols = ["MSFT", "AAPL", "IBM", "FB"]  # FB starts in 2012: unequal lengths
    expected, _ = drive(BUILTINS[name](), bars, symbols, cash=CASH)
    got = decisions(name, None, bars, symbols=symbols, cash=CASH)
    assert got == expected
    assert len({d.symbol for d in got}) == 4


def test_the_flat_long_machine_ignores_exits_while_flat_and_entries_while_long() -> None:
    entry = np.array([0, 1, 1, 0, 0, 1, 0], dtype=bool)
    exit_ = np.array([1, 0, 0, 1, 1, 0, 0], dtype=bool)
    buys, sells = entry_exit_orders(entry, exit_)
    assert buys.tolist() == [1, 5] and sells.tolist() == [3]


def test_a_strategy_without_a_vector_form_is_refused_by_name() -> None:
    with pytest.raises(InvalidError) as err:
        decisions("momentum_rotation", None, {})
    assert err.value.field == "strategy"
    assert "sma_crossover" in err.value.message


def test_fills_happen_at_the_next_open_with_slippage_and_commission() -> None:
    bars = {"X": columns([10, 11, 12, 13], open_=[10, 10.5, 11.55, 12.5])}
    plan = [Decision(0, int(bars["X"].ts[0]), "X", "buy", Decimal(100)),
            Decision(2, int(bars["X"].ts[2]), "X", "sell", Decimal(100)),
            Decision(3, int(bars["X"].ts[3]), "X", "buy", Decimal(1))]  # last bar: never fills
    result = simulate(plan, bars, cash=Decimal(10_000),
                      commission=CommissionModel(per_share=Decimal("0.01"), minimum=Decimal(2)),
                      slippage=SlippageModel(bps=Decimal(10)))
    # buy at open[1] 10.5 + 10 bps = 10.5105 -> up to the tick 10.52; sell at 12.5 - 0.0125
    # = 12.4875 -> down to 12.48; commission max(100 × 0.01, 2) = 2 per fill
    assert [(f.bar, f.side, f.price, f.commission) for f in result.fills] == [
        (1, "buy", Decimal("10.52"), Decimal("2.00")), (3, "sell", Decimal("12.48"),
                                                        Decimal("2.00"))]
    assert [d.bar for d in result.unfilled] == [3]
    (trade,) = result.trades
    assert trade.pnl == Decimal("192.00")  # (12.48 - 10.52) × 100 - 2 - 2
    assert trade.ret == pytest.approx(192 / 1052)
    assert result.cash == Decimal(10_192)
    # equity at each close: cash, then cash + 100 × close after the buy, then cash after the sell
    assert result.equity.tolist() == pytest.approx([10_000, 10_000 - 1054 + 1100,
                                                    10_000 - 1054 + 1200, 10_192])


def test_without_slippage_the_open_is_used_as_imported() -> None:
    price = fill_price(187.12999999999999, "buy", SlippageModel(), Instrument(symbol="X"))
    assert price == Decimal("187.13")


def test_a_sell_closes_the_oldest_lots_first_with_commissions_pro_rata() -> None:
    bars = {"X": columns([10, 10, 10, 10], open_=[10, 10, 12, 14])}
    ts = bars["X"].ts.tolist()
    plan = [Decision(0, ts[0], "X", "buy", Decimal(10)), Decision(1, ts[1], "X", "buy", Decimal(10)),
            Decision(2, ts[2], "X", "sell", Decimal(15))]
    result = simulate(plan, bars, cash=Decimal(1000),
                      commission=CommissionModel(minimum=Decimal(3)))
    assert [(t.qty, t.entry_price, t.exit_price, t.pnl) for t in result.trades] == [
        (Decimal(10), Decimal(10), Decimal(14), Decimal(40) - 3 - 2),
        (Decimal(5), Decimal(12), Decimal(14), Decimal(10) - Decimal("1.5") - 1)]
    assert result.positions == {"X": Decimal(5)}


def test_a_sample_backtest_of_the_reference_strategy_accounts_exactly() -> None:
    bars = {"AAPL": sample_bars()["AAPL"]}
    plan = decisions("sma_crossover", None, bars)
    result = simulate(plan, bars, cash=CASH, commission=CommissionModel(per_share=Decimal("0.005")))
    assert len(result.trades) == len([d for d in plan if d.side == "sell"])
    flows = sum((t.pnl for t in result.trades), Decimal(0))
    open_lot = sum((f.qty * f.price + f.commission for f in result.fills[len(result.trades) * 2:]),
                   Decimal(0))
    assert result.cash == CASH + flows - open_lot
