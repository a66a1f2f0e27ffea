"""One sweep point on the event-driven engine (`backtest.engine.run_backtest`), on shipped bars.

The worker has the bars in memory (shipped once per worker); they are put into an in-memory
history store, which the engine reads like any other, so the engine runs unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_trading.adapters.history.contract import BarColumns
from mcp_trading.analytics.equity import EquityCurve
from mcp_trading.analytics.metrics import Metrics
from mcp_trading.analytics.trades import RoundTrip
from mcp_trading.backtest.vector_run import RunCosts
from mcp_trading.domain.errors import UnavailableError

__all__ = ["event_run"]


def event_run(strategy: str, params: Mapping[str, Any] | None, bars: Mapping[str, BarColumns],
              symbols: Sequence[str], costs: RunCosts, *, timeframe: str,
              strategy_dir: str | None = None) -> tuple[list[RoundTrip], EquityCurve, Metrics]:
    """(trades, daily curve, metrics) of one event-driven backtest on `bars`."""
    raise UnavailableError("the event-driven engine (backtest.engine) is not in this build yet; "
                           "use a strategy with a vectorised form or --path vector")
