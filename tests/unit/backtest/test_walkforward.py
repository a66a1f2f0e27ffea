"""Walk-forward on the real sample: rolling windows, the train window's best parameters,
out-of-sample runs chained by equity, the stitched curve's metrics."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest
from tests.unit.backtest.support import sample_sweep_bars

from mcp_trading.analytics.metrics import compute_metrics
from mcp_trading.backtest.executors import LocalExecutor
from mcp_trading.backtest.points import grid_points, parse_axes
from mcp_trading.backtest.sweep import SweepSpec, run_sweep
from mcp_trading.backtest.walkforward import add_duration, parse_duration, walk_forward, windows
from mcp_trading.domain.errors import InvalidError
from mcp_trading.strategy.builtin.sma_crossover import SmaCrossoverParams

SYMBOLS = ("AAPL", "MSFT")
SPEC = SweepSpec(strategy="sma_crossover", symbols=SYMBOLS)


def _points() -> list[dict[str, object]]:
    return grid_points(SmaCrossoverParams, parse_axes(SmaCrossoverParams,
                                                      ["fast=5:20:5", "slow=20,30,50"])).points


def test_windows_roll_by_the_step_and_the_last_one_is_cut_at_the_data() -> None:
    bars = sample_sweep_bars("AAPL")
    plan = windows(int(bars["AAPL"].ts[0]), int(bars["AAPL"].ts[-1]), "3y", "1y", "1y")
    assert plan[0][:3] == (date(2000, 3, 1), date(2003, 3, 1), date(2004, 3, 1))
    assert [w.train_start.year for w in plan] == list(range(2000, 2011))
    assert [w.partial for w in plan] == [False] * 10 + [True]


def test_durations_and_their_refusals() -> None:
    assert add_duration(date(2012, 2, 29), parse_duration("1y", "test")) == date(2013, 2, 28)
    assert add_duration(date(2012, 1, 31), parse_duration("1m", "test")) == date(2012, 2, 29)
    for text in ("0y", "3 years", "", "y"):
        with pytest.raises(InvalidError) as err:
            parse_duration(text, "train")
        assert err.value.field == "train"
    with pytest.raises(InvalidError) as err:
        windows(0, 10**18, "3y", "1y", "6m")
    assert err.value.field == "step" and "overlap" in err.value.message


def test_each_window_tests_the_train_windows_best_and_chains_the_equity() -> None:
    bars = sample_sweep_bars(*SYMBOLS)
    with LocalExecutor(2) as pool:
        result = walk_forward(SPEC, _points(), bars, train="3y", test="2y", step="2y",
                              executor=pool)
    assert len(result.windows) == 6  # the last: 2013-03-01, the sample's last day, alone
    assert result.windows[-1].window.partial and not result.windows[-2].window.partial
    first = result.windows[0]
    train = sample_sweep_bars(*SYMBOLS, start="2000-03-01", end="2003-02-28")
    best = run_sweep(SPEC, _points(), train).best
    assert best is not None and first.params == best.params
    assert first.train_metric == best.value("sharpe")
    for before, after in zip(result.windows, result.windows[1:], strict=False):
        assert after.start_equity == before.end_equity
    assert result.windows[0].start_equity == float(SPEC.costs.cash)
    curve = result.curve
    assert bool(np.all(np.diff(curve.ts) > 0)) and curve.initial == float(SPEC.costs.cash)
    assert float(curve.equity[-1]) == result.windows[-1].end_equity
    assert result.metrics == compute_metrics(curve, result.trades)
    assert result.metrics.start == "2003-03-03"
    assert len(result.trades) == sum(len(w.trades) for w in result.windows) > 0
    assert all(t.entry_time >= int(curve.ts[0]) for t in result.trades)


def test_a_window_tests_nothing_of_the_train_window() -> None:
    bars = sample_sweep_bars("AAPL")
    result = walk_forward(dataclasses.replace(SPEC, symbols=("AAPL",)), _points()[:3], bars,
                          train="2y", test="1y", step="1y")
    for w in result.windows:
        lo = int(np.datetime64(w.window.test_start.isoformat(), "ns").astype(np.int64))
        assert all(t.entry_time >= lo for t in w.trades)


def test_data_shorter_than_one_train_window_is_refused() -> None:
    bars = sample_sweep_bars("AAPL", start="2010-01-01", end="2011-06-30")
    with pytest.raises(InvalidError) as err:
        walk_forward(SPEC, _points(), bars, train="3y", test="1y", step="1y")
    assert err.value.field == "train"
