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


Rule = tuple[Mask, Callable[[int], str]]


def _price_rules(name: str, col: F64) -> list[Rule]:
    def empty(i: int) -> str:
        return f"{name} is empty"

    def infinite(i: int) -> str:
        return f"{name} is not a finite number"

    def not_positive(i: int) -> str:
        return f"{name} {_fmt(col[i])} is not above zero"

    return [(np.isnan(col), empty), (np.isinf(col), infinite), (col <= 0, not_positive)]


def _order_rule(low_name: str, low: F64, high_name: str, high: F64, *, word: str,
                subject: str) -> Rule:
    """A fault where `high` < `low`; the message names `subject` first."""
    def reason(i: int) -> str:
        if subject == high_name:
            return f"{high_name} {_fmt(high[i])} is {word} {low_name} {_fmt(low[i])}"
        return f"{low_name} {_fmt(low[i])} is {word} {high_name} {_fmt(high[i])}"

    return high < low, reason


def _rules(p: Prices) -> list[Rule]:
    rules: list[Rule] = []
    for name in ("open", "high", "low", "close"):
        rules += _price_rules(name, getattr(p, name))
    for name in ("open", "close", "low"):
        rules.append(_order_rule(name, getattr(p, name), "high", p.high, word="below",
                                  subject="high"))
    for name in ("open", "close"):
        rules.append(_order_rule("low", p.low, name, getattr(p, name), word="above",
                                  subject="low"))

    def negative(i: int) -> str:
        return f"volume {_fmt(p.volume[i])} is negative"

    def volume_infinite(i: int) -> str:
        return "volume is not a finite number"

    def adj_not_positive(i: int) -> str:
        return f"adjusted close {_fmt(p.adj_close[i])} is not above zero"

    rules += [(p.volume < 0, negative), (np.isinf(p.volume), volume_infinite),
              (~np.isnan(p.adj_close) & ~(p.adj_close > 0), adj_not_positive)]
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
