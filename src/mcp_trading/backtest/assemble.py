"""A run's result from what its kernel journaled: orders, fills, trades, curve, metrics.

At the end of the data, orders still working (a market order decided on the last bar, a
resting limit) are canceled, "backtest ended"; then orders come from the kernel's state and
fills from the journal's `OrderFilled` events (the kernel's own record). Round trips are
`analytics.round_trips`; the equity curve marks at each data day's close (its last decision
time, sessions.py) with each symbol's last close that day (`analytics.build_equity_curve`);
metrics are `analytics.compute_metrics` (risk-free rate 0, 252 days).
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import time
from collections.abc import Mapping

import numpy as np

from mcp_trading.analytics.equity import build_equity_curve
from mcp_trading.analytics.metrics import compute_metrics
from mcp_trading.analytics.trades import Fill, round_trips
from mcp_trading.backtest.context import BacktestContext
from mcp_trading.backtest.data import RunData
from mcp_trading.backtest.kernel_setup import RunKernel
from mcp_trading.backtest.result import BacktestResult, OrderRecord
from mcp_trading.backtest.sessions import DAY_NS
from mcp_trading.backtest.spec import BacktestSpec
from mcp_trading.domain.orders import Order
from mcp_trading.strategy.api import Strategy

__all__ = ["assemble", "day_closes", "source_hash"]


def source_hash(strategy: type[Strategy]) -> str:
    """sha256 of the source of the module defining the strategy class ("" if unreadable)."""
    module = sys.modules.get(strategy.__module__)
    try:
        text = inspect.getsource(module) if module is not None else inspect.getsource(strategy)
    except (OSError, TypeError):
        return ""
    return hashlib.sha256(text.encode()).hexdigest()


def _closed_at(o: Order) -> int | None:
    for value in (o.filled_at, o.canceled_at, o.expired_at, o.replaced_at):
        if value is not None:
            return value
    return o.updated_at if o.status is not None and o.status.value == "rejected" else None


def _record(o: Order) -> OrderRecord:
    return OrderRecord(id=o.id, symbol=o.symbol, side=o.side.value, type=o.type.value,
                       qty=o.qty, time_in_force=o.time_in_force.value,
                       limit_price=o.limit_price, stop_price=o.stop_price,
                       status=o.status.value if o.status is not None else "",
                       submitted_at=o.created_at, filled_qty=o.filled_qty,
                       filled_avg_price=o.filled_avg_price, closed_at=_closed_at(o),
                       reject_code=o.reject_code, reject_reason=o.reject_reason)


def day_closes(data: RunData) -> tuple[list[int], dict[str, list[float | None]]]:
    """Each data day's close time and each symbol's last close that day (None: no bar)."""
    days = data.stamps // DAY_NS
    last = np.flatnonzero(np.append(days[1:] != days[:-1], True))
    closes_at = data.decisions[last]
    out: dict[str, list[float | None]] = {}
    for symbol, cols in data.bars.items():
        sym_days = cols.ts // DAY_NS
        # the symbol's last bar at or before each day's end
        at = np.searchsorted(sym_days, days[last], side="right") - 1
        has = (at >= 0) & (sym_days[np.maximum(at, 0)] == days[last])
        values = cols.close[np.maximum(at, 0)].tolist()
        out[symbol] = [v if ok else None for v, ok in zip(values, has.tolist(), strict=True)]
    return closes_at.tolist(), out


def _fills(run: RunKernel) -> list[Fill]:
    orders = run.kernel.state.orders
    fills = []
    for event in run.fills():
        order = orders[event.order_id]
        fills.append(Fill(order.symbol, order.side.value, event.qty, event.price, event.ts,
                          event.commission, order.id))
    return fills


def _end_orders(run: RunKernel) -> None:
    if run.account.open_orders:
        run.kernel.cancel_all(account_id=run.account.id, reason="backtest ended")


def _warnings(ctx: BacktestContext, orders: list[OrderRecord], status: str) -> list[str]:
    out = []
    rejected = [o for o in orders if o.status == "rejected"]
    if rejected:
        first = rejected[0]
        out.append(f"{len(rejected)} order(s) rejected; the first, {first.id}: "
                   f"{first.reject_reason}")
    ended = [o for o in orders if o.status == "canceled" and o.closed_at is not None
             and o.filled_qty == 0]
    if ended:
        out.append(f"{len(ended)} order(s) canceled unfilled (at the end or by the strategy)")
    if ctx.dropped_logs:
        out.append(f"{ctx.dropped_logs} log line(s) dropped after the first 1,000")
    if status == "canceled":
        out.append("the run was canceled before the end of the data; results so far")
    return out


def assemble(*, spec: BacktestSpec, run: RunKernel, data: RunData, run_id: str, status: str,
             fault: Mapping[str, str] | None, ctx: BacktestContext, delivered: int,
             strategy: Strategy, version: str, elapsed_s: float,
             fill_rules: str) -> BacktestResult:
    """The result of a finished (or stopped) run (module docstring)."""
    _end_orders(run)
    orders = [_record(o) for o in run.kernel.state.orders.values()
              if o.account_id == run.account.id]
    fills = _fills(run)
    days, closes = day_closes(data)
    curve = build_equity_curve(fills, days, closes, spec.cash)
    trades = round_trips(fills)
    metrics = compute_metrics(curve, trades)
    warnings = _warnings(ctx, orders, status)
    if fault is not None:
        warnings.insert(0, f"the strategy was stopped in {fault.get('callback')}: "
                           f"{fault.get('error_type')} {fault.get('message')}".strip())
    return BacktestResult(
        id=run_id, spec=spec, created_ns=time.time_ns(), platform_version=version,
        strategy_source_hash=source_hash(type(strategy)), data_range=data.ranges,
        orders=tuple(orders), fills=tuple(fills), trades=tuple(trades), equity=curve,
        metrics=metrics, warnings=tuple(warnings), fault=fault, fill_rules=fill_rules,
        logs=tuple(ctx.logs), bars=delivered, elapsed_s=elapsed_s, status=status)
