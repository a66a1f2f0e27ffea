"""The shipped sample's adjusted closes read straight from the gz with pandas (not through the
platform's importer), for checking the risk figures independently."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import pandas as pd

from mcp_trading.adapters.history.sample import SAMPLE_RENAMES, sample_path

__all__ = ["adjusted_closes", "hand_pnl", "ns_of"]


@functools.cache
def _frame() -> pd.DataFrame:
    raw = pd.read_csv(sample_path(), compression="gzip", parse_dates=["Date"])
    raw["Ticker"] = raw["Ticker"].replace(SAMPLE_RENAMES)
    return raw.pivot(index="Date", columns="Ticker", values="Adj Close").sort_index()


def adjusted_closes(symbols: list[str]) -> pd.DataFrame:
    """Adjusted closes of `symbols` on the dates all of them have one, oldest first."""
    return _frame()[symbols].dropna()


def hand_pnl(values: dict[str, float], window: int) -> pd.Series:
    """Daily P&L of holding `values` through the last `window` common days (pct_change)."""
    closes = adjusted_closes(sorted(values)).iloc[-(window + 1):]
    returns = closes.pct_change().dropna()
    return (returns * pd.Series(values)).sum(axis=1)


def ns_of(frame: pd.DataFrame | pd.Series) -> npt.NDArray[np.int64]:
    """The frame's dates as ns since the epoch (UTC midnight; only their order matters here)."""
    out: npt.NDArray[np.int64] = frame.index.to_numpy().astype("datetime64[ns]").astype(np.int64)
    return out
