"""Runs to report on, from real prices: a plain moving-average rule on the sample's closes
(long when the 20-day mean of closes is above the 50-day one, decided at a close and filled
at the next open, 100 shares, commission 1), written here so the report tests do not depend
on the strategy package."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tests.sample_prices import CLOSE_HOUR_UTC, OPEN_HOUR_UTC, Prices, at, sample_prices

from mcp_trading.analytics.equity import build_equity_curve
from mcp_trading.analytics.metrics import compute_metrics
from mcp_trading.analytics.run import RunReport
from mcp_trading.analytics.trades import Fill, round_trips

__all__ = ["crossover_fills", "sample_run"]


def crossover_fills(prices: Prices, fast: int, slow: int, qty: int = 100) -> list[Fill]:
    closes = [float(c) for c in prices.close]
    fills, long = [], False
    for i in range(slow, len(closes) - 1):
        above = sum(closes[i - fast + 1:i + 1]) / fast > sum(closes[i - slow + 1:i + 1]) / slow
        if above != long:
            side = "buy" if above else "sell"
            fills.append(Fill(prices.symbol, side, Decimal(qty), prices.open[i + 1],
                              at(prices.dates[i + 1], OPEN_HOUR_UTC, 30), Decimal(1)))
            long = above
    return fills


def sample_run(symbol: str = "IBM", *, fast: int = 20, slow: int = 50, days: int = 750,
               title: str | None = None, params: Mapping[str, object] | None = None,
               cash: Decimal = Decimal(100_000)) -> RunReport:
    full = sample_prices(symbol)
    prices = Prices(symbol, full.dates[-days:], full.open[-days:], full.close[-days:])
    fills = crossover_fills(prices, fast, slow)
    curve = build_equity_curve(fills, [at(d, CLOSE_HOUR_UTC) for d in prices.dates],
                               {symbol: prices.close}, cash)
    trades = round_trips(fills)
    return RunReport(title=title or f"crossover {symbol} {fast}/{slow}", curve=curve,
                     metrics=compute_metrics(curve, trades), trades=trades,
                     strategy="test_crossover", params=params or {"fast": fast, "slow": slow},
                     symbols=[symbol],
                     data_range=(prices.dates[0].isoformat(), prices.dates[-1].isoformat()),
                     source_hash="0" * 64, platform_version="0.1.0", run_id="bt-test",
                     fill_rules="market orders fill at the next bar's open; commission 1 a fill")
