"""Incremental indicators, O(1) per update, and their series twins for the vector path.

Each indicator has `update(...)`, `.ready` (enough input for a value) and `.value` (NaN until
ready). Each has a series function computing the same float64 numbers bit for bit over a whole
array, so the vectorised fast path decides exactly what the event-driven strategy decides:

- `SMA(n)`: mean of the last n values. A running window sum updated with (new - oldest) and
  recomputed exactly (`math.fsum` of the window) every `RECOMPUTE_EVERY` updates, so rounding
  error never accumulates past that many steps; `sma()` reproduces the same blocks with one
  row-wise `np.cumsum` (a sequential sum, like the incremental one).
- `Bollinger(n, k)`: middle = SMA, bands = middle ± k × POPULATION standard deviation of the
  window (ddof = 0, like `numpy.std`). Sums of (x - c) and (x - c)², recomputed exactly every
  n updates (O(n) every n: O(1) amortised) with c the oldest value of the window then, so c
  stays within the window's range and no large squares cancel; the variance is clamped at 0.
- `EMA(n)`: alpha = 2 / (n + 1), seeded with the mean of the first n values (ready at n).
- `RSI(n)` (Wilder): average gain and loss of the close-to-close changes, seeded with the
  plain mean of the first n changes, then avg = (avg × (n - 1) + new) / n; RSI = 100 -
  100 / (1 + avg_gain / avg_loss), 100 when there is no loss, 50 when nothing moved. Ready
  after n + 1 closes.
- `ATR(n)` (Wilder): true range = max(high - low, |high - prev close|, |low - prev close|),
  defined from the second bar; seeded with the mean of the first n true ranges, then Wilder's
  smoothing. Ready after n + 1 bars.

EMA, RSI and ATR are recursive filters: their series twins loop over the values with the
same class (there is no exact vector form of a recursion in float64).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["ATR", "EMA", "RECOMPUTE_EVERY", "RSI", "SMA", "Bollinger", "atr", "bollinger", "ema",
           "rsi", "sma"]

F64 = npt.NDArray[np.float64]
NAN = math.nan
#: window sums are recomputed exactly after this many updates (bounds rounding drift)
RECOMPUTE_EVERY = 256


def _period(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"an indicator period must be a whole number >= 1, got {n!r}")
    return n


class SMA:
    """Simple moving average of the last n values (see the module docstring)."""

    __slots__ = ("_buf", "_count", "_n", "_sum")

    def __init__(self, n: int) -> None:
        self._n = _period(n)
        self._buf = [0.0] * n
        self._count = 0
        self._sum = 0.0

    @property
    def ready(self) -> bool:
        return self._count >= self._n

    @property
    def value(self) -> float:
        return self._sum / self._n if self._count >= self._n else NAN

    def update(self, x: float) -> float:
        n, i = self._n, self._count
        slot = i % n
        old = self._buf[slot]
        self._buf[slot] = x
        self._count = i + 1
        j = i - n + 1
        if j >= 0:
            if j % RECOMPUTE_EVERY == 0:
                self._sum = math.fsum(self._buf)
            else:
                self._sum += x - old
        return self.value


class Bollinger:
    """Bollinger bands: SMA ± k × population stdev (ddof 0) of the last n values."""

    __slots__ = ("_buf", "_c", "_count", "_k", "_n", "_s", "_s2", "lower", "middle", "upper")

    def __init__(self, n: int, k: float = 2.0) -> None:
        self._n = _period(n)
        self._k = float(k)
        self._buf = [0.0] * n
        self._count = 0
        self._c = self._s = self._s2 = 0.0
        self.middle = self.upper = self.lower = NAN

    @property
    def ready(self) -> bool:
        return self._count >= self._n

    @property
    def value(self) -> float:
        """The middle band."""
        return self.middle

    def update(self, x: float) -> tuple[float, float, float]:
        """Add a value; returns (middle, upper, lower)."""
        n, i = self._n, self._count
        slot = i % n
        old = self._buf[slot]
        self._buf[slot] = x
        self._count = i + 1
        j = i - n + 1
        if j < 0:
            return self.middle, self.upper, self.lower
        if j % n == 0:
            c = self._c = self._buf[(slot + 1) % n]  # the oldest value of the window
            devs = [w - c for w in self._buf]
            self._s = math.fsum(devs)
            self._s2 = math.fsum([d * d for d in devs])
        else:
            a, b = x - self._c, old - self._c
            self._s += a - b
            self._s2 += a * a - b * b
        m = self._s / n
        std = math.sqrt(max(self._s2 / n - m * m, 0.0))
        self.middle = self._c + m
        self.upper = self.middle + self._k * std
        self.lower = self.middle - self._k * std
        return self.middle, self.upper, self.lower


class EMA:
    """Exponential moving average, alpha = 2 / (n + 1), seeded with the first n values' mean."""

    __slots__ = ("_alpha", "_count", "_n", "_seed", "value")

    def __init__(self, n: int) -> None:
        self._n = _period(n)
        self._alpha = 2.0 / (n + 1)
        self._seed: list[float] = []
        self._count = 0
        self.value = NAN

    @property
    def ready(self) -> bool:
        return self._count >= self._n

    def update(self, x: float) -> float:
        self._count += 1
        if self._count < self._n:
            self._seed.append(x)
        elif self._count == self._n:
            self._seed.append(x)
            self.value = math.fsum(self._seed) / self._n
            self._seed = []
        else:
            self.value += self._alpha * (x - self.value)
        return self.value


class _Wilder:
    """Wilder's smoothing of a stream: the mean of the first n, then (avg·(n-1) + x) / n."""

    __slots__ = ("_count", "_n", "_seed", "avg")

    def __init__(self, n: int) -> None:
        self._n = n
        self._seed: list[float] = []
        self._count = 0
        self.avg = NAN

    def update(self, x: float) -> None:
        self._count += 1
        if self._count <= self._n:
            self._seed.append(x)
            if self._count == self._n:
                self.avg = math.fsum(self._seed) / self._n
                self._seed = []
        else:
            self.avg = (self.avg * (self._n - 1) + x) / self._n


class RSI:
    """Wilder's relative strength index of closes (see the module docstring)."""

    __slots__ = ("_gain", "_loss", "_n", "_prev", "value")

    def __init__(self, n: int = 14) -> None:
        self._n = _period(n)
        self._gain, self._loss = _Wilder(n), _Wilder(n)
        self._prev = NAN
        self.value = NAN

    @property
    def ready(self) -> bool:
        return not math.isnan(self.value)

    def update(self, close: float) -> float:
        prev, self._prev = self._prev, close
        if math.isnan(prev):
            return self.value
        change = close - prev
        self._gain.update(change if change > 0 else 0.0)
        self._loss.update(-change if change < 0 else 0.0)
        gain, loss = self._gain.avg, self._loss.avg
        if math.isnan(gain):
            return self.value
        if loss == 0.0:
            self.value = 100.0 if gain > 0.0 else 50.0
        else:
            self.value = 100.0 - 100.0 / (1.0 + gain / loss)
        return self.value


class ATR:
    """Wilder's average true range (see the module docstring)."""

    __slots__ = ("_prev", "_tr", "value")

    def __init__(self, n: int = 14) -> None:
        self._tr = _Wilder(_period(n))
        self._prev = NAN
        self.value = NAN

    @property
    def ready(self) -> bool:
        return not math.isnan(self.value)

    def update(self, high: float, low: float, close: float) -> float:
        prev, self._prev = self._prev, close
        if math.isnan(prev):
            return self.value
        self._tr.update(max(high - low, abs(high - prev), abs(low - prev)))
        self.value = self._tr.avg
        return self.value


# ---- series twins --------------------------------------------------------------------------
def _block_cumsum(first: F64, deltas: F64, every: int) -> F64:
    """Per block of `every` values: start at `first[block]`, then add each delta in order."""
    m = deltas.shape[0]
    blocks = -(-m // every)
    grid = np.zeros(blocks * every)
    grid[:m] = deltas
    grid[::every] = first
    rows = grid.reshape(blocks, every)
    np.cumsum(rows, axis=1, out=rows)  # add.accumulate: sequential within a row
    return grid[:m]


def sma(x: F64, n: int) -> F64:
    """`SMA(n)` over an array: NaN before the n-th value, then exactly `SMA.update`'s values."""
    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape[0], NAN)
    m = x.shape[0] - _period(n) + 1
    if m <= 0:
        return out
    deltas = np.empty(m)
    deltas[1:] = x[n:] - x[:-n]
    starts = range(0, m, RECOMPUTE_EVERY)
    first = np.array([math.fsum(x[s:s + n].tolist()) for s in starts])
    out[n - 1:] = _block_cumsum(first, deltas, RECOMPUTE_EVERY) / n
    return out


def bollinger(x: F64, n: int, k: float = 2.0) -> tuple[F64, F64, F64]:
    """`Bollinger(n, k)` over an array: (middle, upper, lower), NaN before the n-th value."""
    x = np.asarray(x, dtype=np.float64)
    size = x.shape[0]
    middle, upper, lower = (np.full(size, NAN) for _ in range(3))
    m = size - _period(n) + 1
    if m <= 0:
        return middle, upper, lower
    starts = np.arange(0, m, n)
    shift = np.repeat(x[starts], n)[:m]  # c of each window's block
    a = x[n - 1:] - shift
    b = np.empty(m)
    b[1:] = x[:-n] - shift[1:]
    b[0] = 0.0
    first_s, first_s2 = [], []
    for s in starts.tolist():
        devs = (x[s:s + n] - x[s]).tolist()
        first_s.append(math.fsum(devs))
        first_s2.append(math.fsum([d * d for d in devs]))
    s1 = _block_cumsum(np.array(first_s), a - b, n)
    s2 = _block_cumsum(np.array(first_s2), a * a - b * b, n)
    mean = s1 / n
    std = np.sqrt(np.maximum(s2 / n - mean * mean, 0.0))
    middle[n - 1:] = shift + mean
    upper[n - 1:] = middle[n - 1:] + float(k) * std
    lower[n - 1:] = middle[n - 1:] - float(k) * std
    return middle, upper, lower


def ema(x: F64, n: int) -> F64:
    """`EMA(n)` over an array (NaN before ready)."""
    indicator = EMA(n)
    return np.array([indicator.update(v) for v in np.asarray(x, dtype=np.float64).tolist()])


def rsi(close: F64, n: int = 14) -> F64:
    """`RSI(n)` over an array of closes (NaN before ready)."""
    indicator = RSI(n)
    return np.array([indicator.update(v) for v in np.asarray(close, dtype=np.float64).tolist()])


def atr(high: F64, low: F64, close: F64, n: int = 14) -> F64:
    """`ATR(n)` over arrays of one length (NaN before ready)."""
    indicator = ATR(n)
    rows = zip(np.asarray(high, dtype=np.float64).tolist(),
               np.asarray(low, dtype=np.float64).tolist(),
               np.asarray(close, dtype=np.float64).tolist(), strict=True)
    return np.array([indicator.update(h, lo, c) for h, lo, c in rows])
