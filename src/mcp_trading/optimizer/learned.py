"""The learned expected-returns estimator (`ridge_momentum`): a ridge regression on trailing
momentum and volatility features, fitted walk-forward on past data only.

Signature shared with the other expected-returns estimators in `estimators.py`:
    (prices (T+1, N) closes, *, frequency, options, benchmark) -> mu (N,) annualised
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ridge_momentum"]


def ridge_momentum(prices: npt.NDArray[np.float64], *, frequency: int, options: Mapping[str, Any],
                   benchmark: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.float64]:
    raise NotImplementedError("ridge_momentum: being built (issue 15)")
