"""Constraints for the rule-based allocation methods (equal weight, inverse volatility, risk
parity, HRP): fit a rule's weights to the budget inside the bounds (`bounds.resolved_bounds`,
which refuses infeasible ones with the figures) while keeping its proportions.

A rule's weights `v` (positive) are fitted as `w_i = clip(t·v_i, lower_i, upper_i)` with the one
scale `t ≥ 0` that makes Σw = budget (1 − cash buffer): unbound assets keep the rule's ratios,
bound ones sit on their bound. Group caps and the turnover limit are not applied by a rule;
`ignored` says so in the notes (the optimisers — min_cvar and the mean-variance family — honour
them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mcp_trading.optimizer.bounds import resolved_bounds
from mcp_trading.optimizer.problem import Constraints, Vector

__all__ = ["fit_to_budget", "ignored"]

_TOLERANCE = 1e-12


def fit_to_budget(raw: Vector, constraints: Constraints, symbols: Sequence[str],
                  method: str) -> tuple[Vector, tuple[str, ...]]:
    """The rule's positive weights `raw` scaled to the budget inside the bounds, and a note
    naming the assets a bound moved (none: no note)."""
    lower, upper = resolved_bounds(constraints, tuple(symbols))
    budget = constraints.budget
    v = np.asarray(raw, dtype=np.float64)
    w = v / v.sum() * budget
    if np.all(w >= lower - _TOLERANCE) and np.all(w <= upper + _TOLERANCE):
        return w, ()
    # Σ clip(t·v, lower, upper) is continuous and non-decreasing in t: bisect for the budget.
    lo, hi = 0.0, 1.0
    while float(np.clip(hi * v, lower, upper).sum()) < budget and hi < 1e12:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(np.clip(mid * v, lower, upper).sum()) < budget:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    w = np.clip(hi * v, lower, upper)
    w += (budget - w.sum()) * (w > lower) * (w < upper) / max(
        int(np.count_nonzero((w > lower) & (w < upper))), 1)
    bound = [symbols[int(i)] for i in np.flatnonzero((np.isclose(w, lower) | np.isclose(w, upper))
                                                & ~np.isclose(hi * v, w))]
    note = (f"{method}: the bounds moved {', '.join(bound[:10])}"
            f"{' and others' if len(bound) > 10 else ''} onto a bound; the other weights keep "
            "the rule's proportions")
    return w, (note,)


def ignored(constraints: Constraints, method: str) -> tuple[str, ...]:
    """Notes for the constraints the rule `method` does not apply."""
    notes = []
    if constraints.groups:
        notes.append(f"{method} does not apply group caps (a rule, not an optimiser); use "
                     "min_cvar or a mean-variance method for them")
    if constraints.max_turnover is not None:
        notes.append(f"{method} does not apply the turnover limit; use min_cvar or a "
                     "mean-variance method for it")
    if not constraints.long_only:
        notes.append(f"{method} gives long weights only; long_only=false changes nothing")
    return tuple(notes)
