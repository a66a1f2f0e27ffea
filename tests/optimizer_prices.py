"""Real adjusted daily closes for the optimizer tests: the shipped sample's `Adj Close`
(split- and dividend-adjusted, Quandl WIKI, public domain) of AAPL, IBM, MSFT and GOOG on the
days all four traded (2004-08-19..2013-03-01, 2,150 days), oldest first.
"""

from __future__ import annotations

import csv
import functools
import gzip
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pytest
from tests.conftest import in_ci
from tests.sample_prices import ROOT, PACKAGED, at

__all__ = ["AdjustedCloses", "adjusted_closes"]

SYMBOLS = ("AAPL", "IBM", "MSFT", "GOOG")


@dataclass(frozen=True)
class AdjustedCloses:
    symbols: tuple[str, ...]
    dates: tuple[date, ...]
    prices: npt.NDArray[np.float64]   # (days, symbols)

    @property
    def returns(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.prices[1:] / self.prices[:-1] - 1.0)

    def ts(self) -> npt.NDArray[np.int64]:
        """ns of each day's close (21:00 UTC)."""
        return np.array([at(d, 21) for d in self.dates], dtype=np.int64)


@functools.cache
def adjusted_closes() -> AdjustedCloses:
    """The four symbols' adjusted closes on their common days (skip, or fail under CI, when
    the sample is absent)."""
    path = ROOT / PACKAGED
    if not path.exists():
        if in_ci():
            pytest.fail(f"the price sample is missing ({PACKAGED})", pytrace=False)
        pytest.skip(f"the price sample is missing ({PACKAGED})")
    closes: dict[str, dict[date, float]] = {s: {} for s in SYMBOLS}
    with gzip.open(path, "rt", newline="") as text:
        for row in csv.DictReader(text):
            if row["Ticker"] in closes:
                closes[row["Ticker"]][date.fromisoformat(row["Date"])] = float(row["Adj Close"])
    days = sorted(set.intersection(*(set(c) for c in closes.values())))
    prices = np.array([[closes[s][d] for s in SYMBOLS] for d in days])
    return AdjustedCloses(SYMBOLS, tuple(days), prices)
