"""Real adjusted closes for the optimizer tests: the shipped sample (Quandl WIKI prices,
public domain; src/mcp_trading/data/sample/stocks.csv.gz), `Adj Close` (split- and
dividend-adjusted), on the dates every chosen symbol traded."""

from __future__ import annotations

import csv
import functools
import gzip
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from tests.conftest import in_ci

__all__ = ["FOUR", "adjusted_closes"]

SAMPLE = Path(__file__).resolve().parents[3] / "src/mcp_trading/data/sample/stocks.csv.gz"
FOUR = ("AAPL", "GOOG", "IBM", "MSFT")   # the file's names; GOOG from 2004-08-19


@functools.cache
def _columns() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    with gzip.open(SAMPLE, "rt", newline="") as text:
        for row in csv.DictReader(text):
            out.setdefault(row["Ticker"], {})[row["Date"]] = float(row["Adj Close"])
    return out


def adjusted_closes(symbols: tuple[str, ...] = FOUR, start: str = "2000-01-01",
                    end: str = "2099-01-01") -> tuple[list[str], npt.NDArray[np.float64]]:
    """(dates, closes (T+1, N)) oldest first, on the dates all `symbols` have a close."""
    if not SAMPLE.exists():
        message = f"the price sample is missing ({SAMPLE})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    columns = _columns()
    dates = sorted(set.intersection(*(set(columns[s]) for s in symbols)))
    dates = [d for d in dates if start <= d <= end]
    return dates, np.array([[columns[s][d] for s in symbols] for d in dates])
