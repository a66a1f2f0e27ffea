"""One backtest on the vectorised path: decisions, next-open fills, the daily curve, metrics.

`vector_run` is what a sweep point costs when the strategy has a vectorised form
(`strategy.vector.VECTORISED`): `vector.decisions` → `simulate.simulate` (the fill rules both
paths share, stated in `strategy/simulate.py`) → a daily `EquityCurve` → `compute_metrics`.

The daily curve: the simulation's equity at each bar (after that bar's fills, marked at each
symbol's latest close), the last bar of each UTC day taken as that day's close — for daily
bars one row per bar. The strategies with a vector form are long-only, so the gross exposure
is equity − cash; `traded` is the notional filled that day. Trades are the simulated fills'
round trips by `analytics.trades.round_trips`, the function the engine's results use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from mcp_trading.analytics.equity import EquityCurve
from mcp_trading.analytics.metrics import Metrics, compute_metrics
from mcp_trading.analytics.trades import Fill, RoundTrip, round_trips
from mcp_trading.domain.models import CommissionModel, SlippageModel
from mcp_trading.strategy.simulate import SimFill, SimResult, simulate
from mcp_trading.strategy.vector import Columns, decisions

__all__ = ["DAY_NS", "RunCosts", "VectorRun", "daily_curve", "round_trip_fills", "vector_run"]

DAY_NS = 86_400_000_000_000


@dataclass(frozen=True, kw_only=True)
class RunCosts:
    """What every run of a sweep shares: starting cash, the cost models, the risk-free rate."""

    cash: Decimal = Decimal(100_000)
    commission: CommissionModel = field(default_factory=CommissionModel)
    slippage: SlippageModel = field(default_factory=SlippageModel)
    risk_free_rate: float = 0.0


class VectorRun(NamedTuple):
    trades: list[RoundTrip]
    curve: EquityCurve
    metrics: Metrics
    fills: list[SimFill]


def round_trip_fills(fills: Sequence[SimFill]) -> list[RoundTrip]:
    """The simulation's fills as round trips by the analytics' FIFO rules (the engine's too)."""
    return round_trips(Fill(symbol=f.symbol, side=f.side, qty=f.qty, price=f.price, ts=f.ts,
                            commission=f.commission) for f in fills)


def _cash_path(fills: Sequence[SimFill], stamps: npt.NDArray[np.int64], cash: Decimal) -> \
        tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(cash after each stamp's fills, notional traded at each stamp); linear in bars + fills."""
    at_fill = np.searchsorted(stamps, np.array([f.ts for f in fills], dtype=np.int64))
    running, after, notionals = cash, [float(cash)], []
    for f in fills:
        notional = f.qty * f.price
        running += -(notional + f.commission) if f.side == "buy" else notional - f.commission
        after.append(float(running))
        notionals.append(float(notional))
    traded = np.zeros(stamps.shape[0])
    np.add.at(traded, at_fill, notionals)
    done = np.searchsorted(at_fill, np.arange(stamps.shape[0]), side="right")
    return np.asarray(after)[done], traded


def daily_curve(result: SimResult, cash: Decimal) -> EquityCurve:
    """The simulation's per-bar equity as a daily curve (module docstring)."""
    stamps, equity = result.equity_ts, result.equity
    cash_path, traded = _cash_path(result.fills, stamps, cash)
    day = stamps // DAY_NS
    last = np.flatnonzero(np.concatenate((day[1:] != day[:-1], [True]))) if day.size else \
        np.empty(0, dtype=np.int64)
    # a day's traded notional is the sum over its bars; cumsum differences keep it vectorised
    per_day = np.diff(np.concatenate(([0.0], np.cumsum(traded)[last])))
    gross = np.maximum(equity[last] - cash_path[last], 0.0)
    return EquityCurve.of(stamps[last], equity[last], initial=float(cash), cash=cash_path[last],
                          gross_exposure=gross, net_exposure=gross, traded=per_day)


def vector_run(strategy: str, params: Mapping[str, Any] | None, bars: Mapping[str, Columns],
               symbols: Sequence[str], costs: RunCosts) -> VectorRun:
    """Backtest `strategy` with `params` on `bars` by the vectorised path (module docstring)."""
    plan = decisions(strategy, params, bars, symbols=symbols, cash=costs.cash)
    result = simulate(plan, bars, cash=costs.cash, commission=costs.commission,
                      slippage=costs.slippage, symbols=symbols)
    trades = round_trip_fills(result.fills)
    curve = daily_curve(result, costs.cash)
    return VectorRun(trades, curve, compute_metrics(curve, trades,
                                                    risk_free_rate=costs.risk_free_rate),
                     result.fills)
