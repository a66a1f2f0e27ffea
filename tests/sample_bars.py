"""Real daily bars for tests: AAPL 2010-01-04..08 as the shipped sample has them.

The rows are copied verbatim from bokeh-sampledata's `_data/stocks.csv.gz` (the Quandl WIKI
prices, public domain; raw, not split-adjusted), columns Ticker, Date, Open, High, Low, Close,
Volume. A daily bar's ts is midnight of its day in New York.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from mcp_trading.adapters.feeds.replay import day_start_ns
from mcp_trading.adapters.history.contract import BarColumns

__all__ = ["AAPL_2010_ROWS", "bars_of", "day_ns"]

AAPL_2010_ROWS = """\
AAPL,2010-01-04,213.43,214.5,212.38,214.01,17633200
AAPL,2010-01-05,214.6,215.59,213.25,214.38,21496600
AAPL,2010-01-06,214.38,215.23,210.75,210.97,19720000
AAPL,2010-01-07,211.75,212.0,209.05,210.58,17040400
AAPL,2010-01-08,210.3,212.0,209.06,211.98,15986100
"""


def day_ns(iso: str) -> int:
    return day_start_ns(date.fromisoformat(iso))


def bars_of(rows: str) -> BarColumns:
    """BarColumns of CSV rows (ticker, date, open, high, low, close, volume[, empty])."""
    parsed = [line.split(",") for line in rows.strip().splitlines()]
    f = [np.array([float(r[i]) if r[i] else np.nan for r in parsed]) for i in range(2, 7)]
    ts = np.array([day_ns(r[1]) for r in parsed], dtype=np.int64)
    return BarColumns(ts, f[0], f[1], f[2], f[3], f[4], np.full(len(parsed), np.nan))
