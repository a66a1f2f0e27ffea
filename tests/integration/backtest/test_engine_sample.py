"""On the shipped sample (AAPL, MSFT, IBM daily, 2000-2013): the event-driven engine's trades
equal the vectorised path's trade for trade, and bad input says what is wrong."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.reads import read_bars
from mcp_trading.analytics.report import report_html
from mcp_trading.backtest import BacktestResult, BacktestSpec, run_backtest
from mcp_trading.config import Settings
from mcp_trading.domain.errors import InvalidError, NotFoundError
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.models import CommissionModel, SlippageModel
from mcp_trading.strategy.loader import load_registry
from mcp_trading.strategy.simulate import simulate
from mcp_trading.strategy.vector import decisions

SYMBOLS = ("AAPL", "MSFT", "IBM")
START, END = date(2000, 1, 1), date(2013, 12, 31)
CASH = Decimal(1_000_000)  # covers every buy: the vector path checks no buying power


def _run(history: MemoryHistoryStore, tmp_path: Path, **spec: object) -> BacktestResult:
    args: dict[str, object] = {"strategy": "sma_crossover", "symbols": SYMBOLS, "start": START,
                               "end": END, "cash": CASH, **spec}
    return run_backtest(BacktestSpec(**args),  # type: ignore[arg-type]
                        history=history, registry=load_registry(),
                        settings=Settings(data_dir=tmp_path))


def _key(t: object) -> tuple[object, ...]:
    return (t.symbol, t.side, t.qty, t.entry_time, t.entry_price,  # type: ignore[attr-defined]
            t.exit_time, t.exit_price, t.pnl)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("params", "commission", "slippage"), [
    ({}, None, None),
    ({"fast": 5, "slow": 20, "qty": 37}, CommissionModel(per_share=Decimal("0.005"),
                                                           minimum=Decimal(1)),
     SlippageModel(bps=Decimal("7.5"))),
    ({"fast": 2, "slow": 3}, CommissionModel(bps=Decimal(3)), SlippageModel(bps=Decimal(20))),
])
def test_sma_crossover_trades_equal_the_vector_paths(
        sample_history: MemoryHistoryStore, tmp_path: Path, params: dict[str, object],
        commission: CommissionModel | None, slippage: SlippageModel | None) -> None:
    result = _run(sample_history, tmp_path, params=params, commission=commission,
                  slippage=slippage)
    lo, hi = result.spec.range_ns
    bars = {s: read_bars(sample_history, s, "1Day", start=lo, end=hi, limit=None).columns
            for s in SYMBOLS}
    known = default_instruments()
    instruments = {s: known.get(s, Instrument(symbol=s)) for s in SYMBOLS}
    sim = simulate(decisions("sma_crossover", params, bars, symbols=SYMBOLS), bars, cash=CASH,
                   commission=commission, slippage=slippage, instruments=instruments,
                   symbols=SYMBOLS)
    expected = sorted(map(_key, sim.trades), key=lambda k: (k[5], k[0]))
    got = sorted(map(_key, result.trades), key=lambda k: (k[5], k[0]))
    assert len(got) > 50
    assert got == expected
    assert [(f.symbol, f.side, f.qty, f.price, f.ts, f.commission) for f in result.fills] == [
        (f.symbol, f.side, f.qty, f.price, f.ts, f.commission) for f in sim.fills]
    assert result.status == "completed"
    # decided on the last bar: unfilled on both paths (the engine cancels them at the end)
    assert len([o for o in result.orders if o.status == "canceled"]) == len(sim.unfilled)
    final_cash = float(sim.cash)
    held = sum(float(q) * float(bars[s].close[-1]) for s, q in sim.positions.items())
    assert float(result.equity.equity[-1]) == pytest.approx(final_cash + held, abs=1e-6)


def test_a_result_records_what_it_ran_on(sample_history: MemoryHistoryStore,
                                         tmp_path: Path) -> None:
    result = _run(sample_history, tmp_path, symbols=("IBM",), start=date(2005, 1, 1),
                  end=date(2005, 12, 31))
    (ibm,) = result.data_range
    assert (ibm.symbol, ibm.source, ibm.bars) == ("IBM", "sample", 252)
    assert ibm.as_dict()["first_date"] == "2005-01-03"
    assert len(result.strategy_source_hash) == 64 and result.platform_version
    assert result.spec.commission == CommissionModel() and result.spec.limits == {}
    assert result.spec.params == {"fast": 10, "slow": 30, "qty": "100"}  # defaults recorded
    assert "next bar" in result.fill_rules and len(result.equity) == 252
    assert result.metrics.days == 252
    assert BacktestResult.from_json(result.to_json()).to_json() == result.to_json()
    page = report_html(result.report())
    assert result.id in page and result.strategy_source_hash in page and "<svg" in page


def test_an_unknown_strategy_lists_the_known_ones(sample_history: MemoryHistoryStore,
                                                  tmp_path: Path) -> None:
    with pytest.raises(InvalidError, match=r"unknown strategy 'smacross'; known: .*sma_crossover"):
        _run(sample_history, tmp_path, strategy="smacross")


@pytest.mark.parametrize(("params", "words"), [
    ({"fastest": 3}, "'fastest' is unknown; allowed parameters: fast, slow, qty"),
    ({"fast": 0}, "'fast' is 0, below its minimum 1"),
    ({"fast": 40}, "'fast' is 40; it must be less than slow"),
])
def test_bad_parameters_are_named(sample_history: MemoryHistoryStore, tmp_path: Path,
                                  params: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidError, match=words):
        _run(sample_history, tmp_path, params=params)


def test_a_symbol_without_data_says_what_is_stored(sample_history: MemoryHistoryStore,
                                                   tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no 1Day bars of ZZZZ .* stored: nothing is stored"):
        _run(sample_history, tmp_path, symbols=("AAPL", "ZZZZ"))


def test_a_range_without_data_says_what_range_exists(sample_history: MemoryHistoryStore,
                                                     tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no 1Day bars of AAPL between 2015-01-01 and "
                       r"2016-01-01; stored: sample 1Day 2000-03-01\.\.2013-03-01") as info:
        _run(sample_history, tmp_path, symbols=("AAPL",), start=date(2015, 1, 1),
             end=date(2016, 1, 1))
    assert info.value.field == "symbols"


def test_live_limits_need_the_live_ones(sample_history: MemoryHistoryStore,
                                        tmp_path: Path) -> None:
    with pytest.raises(InvalidError, match="limits='live' needs the live account's limits"):
        _run(sample_history, tmp_path, limits="live")
    result = run_backtest(
        BacktestSpec(strategy="sma_crossover", symbols=("IBM",), start=date(2005, 1, 1),
                     end=date(2006, 12, 31), limits="live"),
        history=sample_history, registry=load_registry(), settings=Settings(data_dir=tmp_path),
        live_limits={"max_order_qty": "10", "price_collar_pct": None})
    assert result.spec.limits == {"max_order_qty": "10"}
    assert {o.reject_code for o in result.orders} == {"RISK_MAX_ORDER_QTY"}


@pytest.mark.parametrize("name", ["rsi_reversion", "bollinger_breakout", "buy_and_hold"])
def test_the_other_signal_strategies_trade_as_their_vector_form(
        sample_history: MemoryHistoryStore, tmp_path: Path, name: str) -> None:
    result = _run(sample_history, tmp_path, strategy=name)
    lo, hi = result.spec.range_ns
    bars = {s: read_bars(sample_history, s, "1Day", start=lo, end=hi, limit=None).columns
            for s in SYMBOLS}
    sim = simulate(decisions(name, {}, bars, symbols=SYMBOLS, cash=CASH), bars, cash=CASH,
                   symbols=SYMBOLS)
    assert [(f.symbol, f.side, f.qty, f.price, f.ts) for f in result.fills] == [
        (f.symbol, f.side, f.qty, f.price, f.ts) for f in sim.fills]
    assert result.fills


def test_momentum_rotation_runs_on_three_symbols(sample_history: MemoryHistoryStore,
                                                 tmp_path: Path) -> None:
    result = _run(sample_history, tmp_path, strategy="momentum_rotation",
                  params={"lookback": 60, "top_n": 1, "rebalance_every": 21})
    assert result.status == "completed" and result.fault is None
    assert {f.symbol for f in result.fills} == set(SYMBOLS)
    held = result.equity.gross_exposure
    assert held is not None and float(held.max()) > 0.5 * float(CASH)
    # a buy sized on the rebalance bar's equity may not fit the next open: the venue refuses
    # it (buying power), the strategy logs it and goes on
    rejected = [o for o in result.orders if o.status == "rejected"]
    assert {o.reject_code for o in rejected} <= {"RISK_BUYING_POWER"}
    assert len([line for line in result.logs if "refused" in line]) == len(rejected)


def test_intraday_trades_equal_the_vector_paths_across_day_boundaries(
        sample_history: MemoryHistoryStore, tmp_path: Path) -> None:
    # AAPL's real daily prices laid out as 1-minute bars, 20 a day from 14:30 UTC on
    # consecutive days: orders decided on a day's last bar must fill at the next day's open
    daily = read_bars(sample_history, "AAPL", "1Day", limit=None).columns
    n = daily.size
    day0 = 1_262_615_400_000_000_000  # 2010-01-04 14:30 UTC
    ts = np.asarray([day0 + (i // 20) * 86_400_000_000_000 + (i % 20) * 60_000_000_000
                     for i in range(n)], dtype=np.int64)
    minute = BarColumns(ts, daily.open, daily.high, daily.low, daily.close, daily.volume,
                        daily.adj_factor)
    store = MemoryHistoryStore()
    with store.writer() as w:
        w.add("AAPL", "layout", "1Min", minute)
    result = run_backtest(
        BacktestSpec(strategy="sma_crossover", symbols=("AAPL",), start=date(2010, 1, 1),
                     end=date(2011, 1, 1), timeframe="1Min", cash=CASH,
                     params={"fast": 3, "slow": 8}, slippage=SlippageModel(bps=Decimal(5))),
        history=store, registry=load_registry(), settings=Settings(data_dir=tmp_path))
    bars = {"AAPL": minute}
    sim = simulate(decisions("sma_crossover", {"fast": 3, "slow": 8}, bars), bars, cash=CASH,
                   slippage=SlippageModel(bps=Decimal(5)),
                   instruments={"AAPL": default_instruments()["AAPL"]})
    assert len(result.trades) > 100
    assert list(map(_key, result.trades)) == list(map(_key, sim.trades))
    day_starts = {int(t) for t in ts[::20]}
    assert any(f.ts in day_starts for f in result.fills)  # some filled at a day's first bar
    assert len(result.equity) == len(day_starts)  # one mark a day
