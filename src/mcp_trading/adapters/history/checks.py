"""The checks an import applies to every bar, vectorised over a batch (numpy, no per-row Python).

A bar is refused when a price is empty, not finite or not above zero; the high is below the
open, close or low; the low is above the open or close; the volume is negative or not finite;
the adjusted close is not above zero. Zero prices are refused too (they stand for a missing
value in some exports, and an adjusted close cannot be related to them). An empty volume is
allowed (not reported), an empty adjusted close too (no adjustment known).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["Prices", "first_fault"]

F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


class Prices(NamedTuple):
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64  # NaN: not reported
    adj_close: F64  # NaN: none given


def _fmt(x: float) -> str:
    return repr(float(x))


def _rules(p: Prices) -> list[tuple[Mask, Callable[[int], str]]]:
    rules: list[tuple[Mask, Callable[[int], str]]] = []
    for name in ("open", "high", "low", "close"):
        col: F64 = getattr(p, name)
        rules.append((np.isnan(col), lambda i, n=name: f"{n} is empty"))
        rules.append((np.isinf(col), lambda i, n=name: f"{n} is not a finite number"))
        rules.append((col <= 0, lambda i, n=name, c=col: f"{n} {_fmt(c[i])} is not above zero"))
    for name in ("open", "close", "low"):
        other: F64 = getattr(p, name)
        rules.append((p.high < other, lambda i, n=name, o=other:
                      f"high {_fmt(p.high[i])} is below {n} {_fmt(o[i])}"))
    for name in ("open", "close"):
        other = getattr(p, name)
        rules.append((p.low > other, lambda i, n=name, o=other:
                      f"low {_fmt(p.low[i])} is above {n} {_fmt(o[i])}"))
    rules.append((p.volume < 0, lambda i: f"volume {_fmt(p.volume[i])} is negative"))
    rules.append((np.isinf(p.volume), lambda i: "volume is not a finite number"))
    rules.append((~np.isnan(p.adj_close) & ~(p.adj_close > 0),
                  lambda i: f"adjusted close {_fmt(p.adj_close[i])} is not above zero"))
    return rules


def first_fault(p: Prices) -> tuple[int, str] | None:
    """The first bar of the batch that breaks a rule, and why; None when all pass."""
    with np.errstate(invalid="ignore"):  # comparisons with NaN are False, as wanted
        rules = _rules(p)
        bad = np.zeros(p.open.shape[0], dtype=np.bool_)
        for mask, _ in rules:
            bad |= mask
        if not bad.any():
            return None
        i = int(np.argmax(bad))
        for mask, reason in rules:
            if mask[i]:
                return i, reason(i)
    return None  # pragma: no cover - bad.any() means some rule holds at i
