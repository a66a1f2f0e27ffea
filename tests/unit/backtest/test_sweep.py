"""Sweeps on the real sample: each point is a real backtest, ranked by the chosen metric, the
same on every executor; the workers run at a lower CPU priority."""

from __future__ import annotations

import os

import pytest
from tests.unit.backtest.support import sample_history, sample_sweep_bars

from mcp_trading.backtest.executors import DEFAULT_NICE, LocalExecutor, SerialExecutor, open_executor
from mcp_trading.backtest.points import grid_points, parse_axes
from mcp_trading.backtest.sweep import RANK_METRICS, SweepSpec, load_bars, rank_points, run_sweep
from mcp_trading.backtest.vector_run import vector_run
from mcp_trading.domain.errors import InvalidError, NotFoundError
from mcp_trading.strategy.builtin.sma_crossover import SmaCrossoverParams

SYMBOLS = ("AAPL", "MSFT")


def _grid() -> object:
    return grid_points(SmaCrossoverParams, parse_axes(SmaCrossoverParams,
                                                      ["fast=5:20:5", "slow=20,30,50"]))


def test_a_grid_sweep_ranks_real_backtests_by_sharpe() -> None:
    bars = sample_sweep_bars(*SYMBOLS, start="2004-01-01", end="2013-03-01")
    spec = SweepSpec(strategy="sma_crossover", symbols=SYMBOLS)
    result = run_sweep(spec, _grid(), bars)
    assert len(result.points) == 11 and len(result.skipped) == 1
    sharpes = [p.value("sharpe") for p in result.points]
    assert sharpes == sorted(sharpes, key=lambda v: -(v if v is not None else -1e9))
    assert len(set(sharpes)) > 5  # the parameters matter: not one backtest repeated
    best = result.best
    assert best is not None and best.path == "vector"
    direct = vector_run("sma_crossover", best.params, bars, SYMBOLS, spec.costs)
    assert best.metrics == direct.metrics.as_dict()
    assert best.trades == len(direct.trades) > 0


def test_the_process_pool_gives_the_serial_results() -> None:
    bars = sample_sweep_bars(*SYMBOLS)
    spec = SweepSpec(strategy="sma_crossover", symbols=SYMBOLS, rank="total_return")
    serial = run_sweep(spec, _grid(), bars, executor=SerialExecutor())
    with LocalExecutor(2) as pool:
        seen: list[tuple[int, int]] = []
        local = run_sweep(spec, _grid(), bars, executor=pool,
                          progress=lambda done, total: seen.append((done, total)))
    assert [p.params for p in local.points] == [p.params for p in serial.points]
    assert [p.metrics for p in local.points] == [p.metrics for p in serial.points]
    assert seen[-1] == (11, 11) and local.executor == "local"


def _niceness(shared: object, item: int) -> int:
    return os.nice(0)


def test_local_workers_run_at_a_lower_cpu_priority_than_the_caller() -> None:
    with LocalExecutor(2) as pool:
        levels = pool.map(_niceness, list(range(4)), None)
    assert set(levels) == {min(19, os.nice(0) + DEFAULT_NICE)}


@pytest.mark.parametrize("metric", ["max_drawdown", "annual_volatility"])
def test_ranking_follows_the_metrics_direction(metric: str) -> None:
    bars = sample_sweep_bars("AAPL")
    spec = SweepSpec(strategy="sma_crossover", symbols=("AAPL",), rank=metric)
    values = [p.value(metric) for p in run_sweep(spec, _grid(), bars).points]
    assert None not in values
    assert values == sorted(values, reverse=RANK_METRICS[metric])


def test_points_without_the_metric_rank_last() -> None:
    bars = sample_sweep_bars("AAPL", start="2010-01-01", end="2010-03-01")
    # slow=200 never gets its 200 closes in two months: no trade, flat equity, no Sharpe
    spec = SweepSpec(strategy="sma_crossover", symbols=("AAPL",))
    result = run_sweep(spec, [{"fast": 2, "slow": 200}, {"fast": 2, "slow": 5}], bars)
    assert [p.params["slow"] for p in result.points] == [5, 200]
    assert result.points[-1].value("sharpe") is None
    assert rank_points(result.points[::-1], "sharpe")[0].params["slow"] == 5


def test_an_unknown_rank_metric_and_an_empty_sweep_are_refused() -> None:
    with pytest.raises(InvalidError) as err:
        SweepSpec(strategy="sma_crossover", symbols=("AAPL",), rank="luck")
    assert err.value.field == "rank" and "sharpe" in err.value.message
    with pytest.raises(InvalidError, match="every point was invalid"):
        run_sweep(SweepSpec(strategy="sma_crossover", symbols=("AAPL",)),
                  grid_points(SmaCrossoverParams, parse_axes(SmaCrossoverParams, ["fast=50",
                                                                                  "slow=20"])),
                  sample_sweep_bars("AAPL"))


def test_a_symbol_without_history_says_what_is_stored() -> None:
    with pytest.raises(NotFoundError) as err:
        load_bars(sample_history(), ["AAPL", "NVDA"], "1Day")
    assert "NVDA" in err.value.message and err.value.field == "symbols"
    with pytest.raises(NotFoundError) as err:
        load_bars(sample_history(), ["AAPL"], "1Day", start="2020-01-01", end="2020-12-31")
    assert "sample 1Day 2000-03-01 to 2013-03-01" in err.value.message


def test_start_after_end_and_bad_executors_are_refused() -> None:
    with pytest.raises(InvalidError) as err:
        load_bars(sample_history(), ["AAPL"], "1Day", start="2012-01-01", end="2011-01-01")
    assert err.value.field == "start"
    for text in ("gpu", "local:two", "dask://"):
        with pytest.raises(InvalidError) as err:
            open_executor(text)
        assert err.value.field == "executor"
