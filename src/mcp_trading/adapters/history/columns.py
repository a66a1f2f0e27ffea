"""Operations on BarColumns every backend shares: checks, range slicing, diff and merge.

The diff is what makes upsert counts exact on every backend: the stored bars whose ts fall in
the new bars' span are read, matched by ts (both sides are ascending), and compared value by
value, NaN equal to NaN. Only inserted and updated rows are then written, so re-importing a
file writes nothing and reports every bar unchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from mcp_trading.adapters.history.contract import HISTORY_TIMEFRAMES, BarColumns
from mcp_trading.domain.errors import InvalidError

__all__ = [
    "BarDiff",
    "check_bars",
    "check_key",
    "check_limit",
    "diff_bars",
    "empty_bars",
    "merge_bars",
    "select_bars",
    "take_bars",
]

_VALUES = ("open", "high", "low", "close", "volume", "adj_factor")


def empty_bars() -> BarColumns:
    """A BarColumns of no bars."""
    f = np.empty(0, dtype=np.float64)
    return BarColumns(np.empty(0, dtype=np.int64), f, f.copy(), f.copy(), f.copy(), f.copy(),
                      f.copy())


def check_key(symbol: str, source: str, timeframe: str) -> None:
    """Raise InvalidError unless symbol and source are non-empty and the timeframe is known."""
    if not symbol or not symbol.strip():
        raise InvalidError("symbol is empty; give the instrument's symbol, e.g. AAPL",
                           field="symbol")
    if not source or not source.strip():
        raise InvalidError("source is empty; name where the bars came from, e.g. "
                           "import:aapl or alphavantage", field="source")
    if timeframe not in HISTORY_TIMEFRAMES:
        raise InvalidError(f"timeframe {timeframe!r} is not one of "
                           f"{', '.join(HISTORY_TIMEFRAMES)}", field="timeframe",
                           extra={"allowed": list(HISTORY_TIMEFRAMES)})


def check_bars(bars: BarColumns) -> BarColumns:
    """The bars as contiguous int64/float64 arrays; InvalidError unless ts strictly ascends
    and every price is finite (volume and adj_factor: finite or NaN)."""
    ts = np.ascontiguousarray(bars.ts, dtype=np.int64)
    values = [np.ascontiguousarray(getattr(bars, name), dtype=np.float64) for name in _VALUES]
    if any(v.shape != ts.shape for v in values) or ts.ndim != 1:
        raise InvalidError("bar columns differ in length; every column needs one value per bar",
                           field="bars")
    if ts.size > 1 and not bool(np.all(ts[1:] > ts[:-1])):
        at = int(np.argmax(ts[1:] <= ts[:-1])) + 1
        raise InvalidError(f"bar timestamps must strictly ascend; bar {at} (ts {int(ts[at])}) "
                           f"is not after the one before it", field="ts")
    for name, column in zip(_VALUES, values, strict=True):
        bad = np.isinf(column) if name in ("volume", "adj_factor") else ~np.isfinite(column)
        if bool(bad.any()):
            at = int(np.argmax(bad))
            raise InvalidError(f"bar {at} (ts {int(ts[at])}) has {name} {column[at]}; prices "
                               "must be finite numbers (volume and adj_factor may be NaN: "
                               "not reported)", field=name)
    return BarColumns(ts, *values)


def check_limit(limit: int | None) -> None:
    """Raise InvalidError for a negative limit."""
    if limit is not None and limit < 0:
        raise InvalidError(f"limit was {limit}; must be >= 0 (or none: every bar)",
                           field="limit")


def take_bars(bars: BarColumns, index: npt.NDArray[np.intp] | slice) -> BarColumns:
    """The bars at `index` (copies, so callers never alias a store's arrays)."""
    return BarColumns(np.array(bars.ts[index]), *(np.array(getattr(bars, name)[index])
                                                  for name in _VALUES))


def select_bars(bars: BarColumns, *, start: int | None, end: int | None, limit: int | None,
                latest: bool) -> BarColumns:
    """Bars in [start, end] (ascending input), the first or the latest `limit` of them."""
    lo = 0 if start is None else int(np.searchsorted(bars.ts, start, side="left"))
    hi = bars.size if end is None else int(np.searchsorted(bars.ts, end, side="right"))
    hi = max(hi, lo)
    check_limit(limit)
    if limit is not None:
        if latest:
            lo = max(lo, hi - limit)
        else:
            hi = min(hi, lo + limit)
    return take_bars(bars, slice(lo, hi))


def _same(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    same: npt.NDArray[np.bool_] = (a == b) | (np.isnan(a) & np.isnan(b))
    return same


class BarDiff(NamedTuple):
    """How new bars relate to the stored ones of their series."""

    inserted: npt.NDArray[np.bool_]  # per new bar: its ts is not stored
    updated: npt.NDArray[np.bool_]  # per new bar: stored with different values

    @property
    def changed(self) -> npt.NDArray[np.bool_]:
        return self.inserted | self.updated


def diff_bars(stored: BarColumns, new: BarColumns) -> BarDiff:
    """Match `new` against `stored` by ts (both ascending, unique ts)."""
    if stored.size == 0:
        return BarDiff(np.ones(new.size, dtype=np.bool_), np.zeros(new.size, dtype=np.bool_))
    pos = np.searchsorted(stored.ts, new.ts)
    clipped = np.minimum(pos, stored.size - 1)
    found = stored.ts[clipped] == new.ts
    same = found.copy()
    for name in _VALUES:
        same &= _same(getattr(stored, name)[clipped], getattr(new, name))
    return BarDiff(~found, found & ~same)


def merge_bars(stored: BarColumns, new: BarColumns) -> BarColumns:
    """The union of both, `new` winning on equal ts; ascending."""
    if stored.size == 0:
        return new
    keep = ~np.isin(stored.ts, new.ts, assume_unique=True)
    ts = np.concatenate((stored.ts[keep], new.ts))
    order = np.argsort(ts, kind="stable")
    return BarColumns(ts[order], *(np.concatenate((getattr(stored, name)[keep],
                                                   getattr(new, name)))[order]
                                   for name in _VALUES))
