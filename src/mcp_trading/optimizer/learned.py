"""The learned expected-returns estimator (`ridge_momentum`): a ridge regression on trailing
momentum and volatility features, fitted walk-forward on past data only.

Signature shared with the other expected-returns estimators in `estimators.py`:
    (prices (T+1, N) closes, *, frequency, options, benchmark) -> mu (N,) annualised

At a day t (a row of `prices`) an asset's features are its momenta p_t/p_{t−L} − 1 for each
L in `lookbacks` (default 21, 63, 126 periods) and the standard deviation of its simple
returns over each L in `vol_lookbacks` (default 21, 63); the target is the next block's return
p_{t+h}/p_t − 1, h = `horizon` (default 21). Training days step back from T − h by h (blocks
that do not overlap), so every target is a return that had happened by the last row given:
nothing after it is used, and fitted inside a walk-forward evaluation the model sees only its
window. One pooled model for all assets (features standardised, then scikit-learn's Ridge with
`alpha`, default 1.0); the prediction at T is annualised arithmetically, × frequency / h, like
mean_historical's mean × frequency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.problem import UnsolvableError

__all__ = ["OPTIONS", "features", "ridge_momentum", "training_days"]

Array = npt.NDArray[np.float64]
_MIN_TRAINING_DAYS = 3

OPTIONS: dict[str, str] = {
    "lookbacks": "momentum lookbacks in periods, default [21, 63, 126]",
    "vol_lookbacks": "volatility lookbacks in periods, default [21, 63]",
    "horizon": "periods of the block whose return is predicted, default 21",
    "alpha": "ridge penalty (on standardised features), default 1.0",
}


def _lengths(options: Mapping[str, Any], name: str, default: Sequence[int]) -> tuple[int, ...]:
    raw = options.get(name, default)
    if isinstance(raw, int):
        raw = [raw]
    try:
        values = tuple(int(v) for v in raw)
    except (TypeError, ValueError) as exc:
        raise InvalidError(f"{name} must be a list of whole numbers of periods",
                           field=f"options.{name}") from exc
    if not values or any(v < 2 for v in values):
        raise InvalidError(f"{name} must be non-empty, each at least 2 periods",
                           field=f"options.{name}")
    return values


def features(prices: Array, day: int, lookbacks: Sequence[int],
             vol_lookbacks: Sequence[int]) -> Array:
    """(N, F) features of each asset at row `day` (uses rows ≤ day only)."""
    columns = [prices[day] / prices[day - lag] - 1.0 for lag in lookbacks]
    for lag in vol_lookbacks:
        window = prices[day - lag: day + 1]
        columns.append(np.std(window[1:] / window[:-1] - 1.0, axis=0, ddof=1))
    return np.column_stack(columns)


def training_days(last: int, first: int, horizon: int) -> list[int]:
    """Rows t with a complete target (t + horizon ≤ last), stepping back by `horizon`."""
    return list(range(last - horizon, first - 1, -horizon))[::-1]


def ridge_momentum(prices: npt.NDArray[np.float64], *, frequency: int, options: Mapping[str, Any],
                   benchmark: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.float64]:
    """Annualised expected returns (N,) predicted by the ridge model (module doc)."""
    del benchmark  # the features are the assets' own
    lookbacks = _lengths(options, "lookbacks", (21, 63, 126))
    vol_lookbacks = _lengths(options, "vol_lookbacks", (21, 63))
    horizon = _lengths(options, "horizon", (21,))[0]
    try:
        alpha = float(options.get("alpha", 1.0))
    except (TypeError, ValueError) as exc:
        raise InvalidError("alpha must be a positive number", field="options.alpha") from exc
    if not alpha > 0:
        raise InvalidError(f"alpha is {alpha:g}; it must be positive", field="options.alpha")
    p = np.asarray(prices, dtype=np.float64)
    last, reach = p.shape[0] - 1, max(*lookbacks, *vol_lookbacks)
    days = training_days(last, reach, horizon)
    if len(days) < _MIN_TRAINING_DAYS:
        need = reach + _MIN_TRAINING_DAYS * horizon + 1
        raise UnsolvableError(
            f"ridge_momentum needs at least {need} prices ({reach} periods of features and "
            f"{_MIN_TRAINING_DAYS} blocks of {horizon} to learn from); there are {last + 1}",
            code="TOO_FEW_OBSERVATIONS", field="prices",
            extra={"needed": need, "given": last + 1})
    x = np.vstack([features(p, t, lookbacks, vol_lookbacks) for t in days])
    y = np.concatenate([p[t + horizon] / p[t] - 1.0 for t in days])
    model = make_pipeline(StandardScaler(), Ridge(alpha=alpha))
    model.fit(x, y)
    predicted = model.predict(features(p, last, lookbacks, vol_lookbacks))
    return np.asarray(predicted, dtype=np.float64) * frequency / horizon
