"""Real adjusted daily closes for the allocation and evaluation tests: the shipped sample's
`Adj Close` (tests/unit/optimizer/sample.py reads it) of AAPL, IBM, MSFT and GOOG on the days
all four traded (2004-08-19..2013-03-01), oldest first, with each day's close as ns."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from tests.sample_prices import at
from tests.unit.optimizer.sample import adjusted_closes as _closes

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
    dates, prices = _closes(SYMBOLS)
    return AdjustedCloses(SYMBOLS, tuple(date.fromisoformat(d) for d in dates), prices)
