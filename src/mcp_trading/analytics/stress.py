"""Stress tests and concentration of today's positions. Pure: numpy and the standard library.

Scenario kinds (the file format is read by the risk service; see `parse_scenarios`):

- historical, fixed range: each symbol's return from its last close before `start` to its
  last close on or before `end` (adjusted prices) is applied to today's position value.
  A symbol without a close before `start` or in the range is left out of that scenario and
  named.
- historical, worst window: `within` [from, to] and `days`: the `days`-session window in that
  range where today's positions lost most (over the symbols with history through the whole
  range; the others are left out and named); the scenario then reports its dates.
- shock: per-symbol returns on today's marks — `"*"` every position, `"@largest"` the position
  of largest absolute value, or a symbol. Applies to every position (marks only, no history).
- volatility: the daily returns' deviations from their mean multiplied by `factor`, and VaR
  recomputed (the loss reported is the stressed VaR).

Loss = −Σ value_i · r_i (positive: money lost), in account currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from mcp_trading.analytics.risk import METHODS
from mcp_trading.domain.errors import InvalidError

__all__ = [
    "KINDS",
    "Concentration",
    "Scenario",
    "concentration",
    "parse_scenarios",
    "range_return",
    "shock_loss",
    "volatility_scaled",
    "worst_window",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

KINDS = ("historical", "shock", "volatility")
LARGEST = "@largest"
ALL = "*"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    kind: str
    description: str = ""
    start: str | None = None  # historical, fixed range: ISO dates
    end: str | None = None
    within: tuple[str, str] | None = None  # historical, worst window
    days: int = 5
    shocks: Mapping[str, float] = field(default_factory=dict)  # shock: symbol -> return
    factor: float = 1.0  # volatility: the VaR recomputed by `method` at `confidence`
    method: str = "historical"
    confidence: float = 0.99


def _bad(where: str, message: str) -> InvalidError:
    return InvalidError(f"scenarios: {where}: {message}", code="INVALID_SCENARIO", field="scenarios")


def _date(where: str, value: object) -> str:
    text = str(value)
    if not (isinstance(value, str) and len(text) == 10 and text[4] == "-" and text[7] == "-"
            and text.replace("-", "").isdigit()):
        raise _bad(where, f"{text!r} is not a date YYYY-MM-DD")
    return text


def _historical(where: str, name: str, desc: str, raw: Mapping[str, Any]) -> Scenario:
    if "within" in raw:
        within = raw["within"]
        if not (isinstance(within, list) and len(within) == 2):
            raise _bad(where, "within must be [from, to]")
        days = raw.get("days", 5)
        if not (isinstance(days, int) and 1 <= days <= 250):
            raise _bad(where, f"days must be an integer 1..250, got {days!r}")
        lo, hi = _date(where, within[0]), _date(where, within[1])
        if hi < lo:
            raise _bad(where, "within: the end is before the start")
        return Scenario(name, "historical", desc, within=(lo, hi), days=days)
    start, end = _date(where, raw.get("start")), _date(where, raw.get("end"))
    if end < start:
        raise _bad(where, "end is before start")
    return Scenario(name, "historical", desc, start=start, end=end)


def _one(where: str, raw: object) -> Scenario:
    if not isinstance(raw, Mapping):
        raise _bad(where, "must be an object")
    name, kind, desc = raw.get("name"), raw.get("kind"), raw.get("description", "")
    if not (isinstance(name, str) and name and len(name) <= 64):
        raise _bad(where, "name must be a non-empty string of at most 64 characters")
    if kind not in KINDS:
        raise _bad(where, f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    where = f"{where} ({name})"
    if kind == "historical":
        return _historical(where, name, str(desc), raw)
    if kind == "shock":
        shocks = raw.get("shocks")
        if not (isinstance(shocks, Mapping) and shocks):
            raise _bad(where, 'shocks must map "*", "@largest" or symbols to returns')
        for key, value in shocks.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not -1 <= value <= 10:
                raise _bad(where, f"shock {key!r} must be a return in [-1, 10], got {value!r}")
        return Scenario(name, "shock", str(desc), shocks={str(k): float(v) for k, v in shocks.items()})
    factor = raw.get("factor")
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 < factor <= 100:
        raise _bad(where, f"factor must be a number in (0, 100], got {factor!r}")
    method, confidence = raw.get("method", "historical"), raw.get("confidence", 0.99)
    if method not in METHODS:
        raise _bad(where, f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) \
            or not 0.5 <= confidence < 1:
        raise _bad(where, f"confidence must be in [0.5, 1), got {confidence!r}")
    return Scenario(name, "volatility", str(desc), factor=float(factor), method=str(method),
                    confidence=float(confidence))


def parse_scenarios(doc: object) -> list[Scenario]:
    """Scenarios of a document `{"scenarios": [...]}`; names must be unique."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("scenarios"), list):
        raise _bad("the document", 'must be an object {"scenarios": [...]}')
    out = [_one(f"scenario {i + 1}", raw) for i, raw in enumerate(doc["scenarios"])]
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise _bad("the document", f"scenario names repeat: {sorted(names)}")
    return out


def range_return(ts: I64, close: F64, start: int, end: int) -> float | None:
    """Return from the last close before `start` to the last close on or before `end`."""
    before = int(np.searchsorted(ts, start, side="left")) - 1
    last = int(np.searchsorted(ts, end, side="right")) - 1
    if before < 0 or last <= before:
        return None
    return float(close[last] / close[before] - 1.0)


def worst_window(closes: F64, values: F64, days: int) -> tuple[int, int, float] | None:
    """(index of the close before the window, index of its last close, P&L) of the
    `days`-session window with the lowest P&L of holding `values`; None if too short."""
    if closes.shape[0] <= days:
        return None
    growth = closes[days:] / closes[:-days] - 1.0
    pnl = growth @ values
    i = int(np.argmin(pnl))
    return i, i + days, float(pnl[i])


def shock_loss(values: Mapping[str, float], shocks: Mapping[str, float]
               ) -> tuple[float, dict[str, float]]:
    """Loss and per-symbol P&L of returns applied to today's position values."""
    applied: dict[str, float] = {}
    largest = max(values, key=lambda s: (abs(values[s]), s), default=None)
    for symbol, value in values.items():
        r = shocks.get(symbol)
        if r is None and symbol == largest:
            r = shocks.get(LARGEST)
        if r is None:
            r = shocks.get(ALL)
        if r is not None:
            applied[symbol] = value * r
    return -sum(applied.values()), applied


@dataclass(frozen=True, slots=True)
class Concentration:
    largest: list[tuple[str, float, float]]  # (symbol, market value, weight of equity)
    hhi: float  # Σ w² of the gross-exposure shares; 1/n (even) .. 1 (one name)
    effective_names: float  # 1 / hhi


def concentration(values: Mapping[str, float], equity: float, *, top: int = 5) -> Concentration:
    """Largest names by absolute value (weight = value / equity) and the HHI of gross shares."""
    gross = sum(abs(v) for v in values.values())
    ranked = sorted(values.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:top]
    weight = (lambda v: v / equity) if equity > 0 else (lambda v: float("nan"))
    largest = [(s, v, weight(v)) for s, v in ranked]
    if gross == 0:
        return Concentration(largest, 0.0, 0.0)
    hhi = sum((abs(v) / gross) ** 2 for v in values.values())
    return Concentration(largest, hhi, 1.0 / hhi)


def volatility_scaled(returns: F64, factor: float) -> F64:
    """Returns whose deviations from each column's mean are multiplied by `factor`."""
    mean = returns.mean(axis=0)
    out: F64 = mean + (returns - mean) * factor
    return out

