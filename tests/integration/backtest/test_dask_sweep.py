"""A sweep on a real Dask cluster: `distributed.LocalCluster` with two worker processes on
this machine. The bars are scattered to the workers once; the results equal the serial ones.

Needs the `cluster` extra (dask[distributed], in `dev`); under CI=true its absence fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import in_ci
from tests.unit.backtest.support import sample_sweep_bars

from mcp_trading.backtest.executors import DaskExecutor, open_executor
from mcp_trading.backtest.points import grid_points, parse_axes
from mcp_trading.backtest.sweep import SweepSpec, run_sweep
from mcp_trading.backtest.walkforward import walk_forward
from mcp_trading.domain.errors import UnavailableError
from mcp_trading.strategy.builtin.sma_crossover import SmaCrossoverParams

pytestmark = pytest.mark.slow

SYMBOLS = ("AAPL", "IBM")
SPEC = SweepSpec(strategy="sma_crossover", symbols=SYMBOLS)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    try:
        from dask.distributed import LocalCluster
    except ImportError:
        if in_ci():
            pytest.fail("dask[distributed] is missing: pip install -e '.[dev]'", pytrace=False)
        pytest.skip("dask[distributed] is not installed (the cluster extra)")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as local:
        yield local


def _grid() -> Any:
    return grid_points(SmaCrossoverParams, parse_axes(SmaCrossoverParams,
                                                      ["fast=5:20:5", "slow=20,30,50"]))


def test_a_sweep_on_a_local_dask_cluster_equals_the_serial_sweep(cluster: Any) -> None:
    bars = sample_sweep_bars(*SYMBOLS)
    serial = run_sweep(SPEC, _grid(), bars)
    address = cluster.scheduler_address.removeprefix("tcp://")
    with open_executor(f"dask://{address}") as pool:
        assert isinstance(pool, DaskExecutor)
        seen: list[int] = []
        remote = run_sweep(SPEC, _grid(), bars, executor=pool,
                           progress=lambda done, total: seen.append(done))
        # the cluster's two worker processes are up and answered the run
        workers = pool.client.run(lambda: 1)
    assert len(workers) == 2
    assert remote.executor == "dask" and seen[-1] == 11
    assert [(p.params, p.metrics) for p in remote.points] == \
        [(p.params, p.metrics) for p in serial.points]


def test_walk_forward_runs_on_the_cluster_too(cluster: Any) -> None:
    bars = sample_sweep_bars(*SYMBOLS)
    points = _grid().points
    serial = walk_forward(SPEC, points, bars, train="4y", test="2y", step="2y")
    with DaskExecutor(cluster.scheduler_address) as pool:
        remote = walk_forward(SPEC, points, bars, train="4y", test="2y", step="2y", executor=pool)
    assert [w.params for w in remote.windows] == [w.params for w in serial.windows]
    assert remote.metrics == serial.metrics


def test_no_scheduler_at_the_address_is_unavailable_not_a_hang() -> None:
    pytest.importorskip("dask.distributed")
    with pytest.raises(UnavailableError) as err:
        DaskExecutor("tcp://127.0.0.1:9")  # the discard port: nothing listens
    assert "127.0.0.1:9" in err.value.message
