"""The constraints checked and resolved for a problem of N assets: per-asset bounds, groups,
turnover and the cash buffer, or an error naming the field and the fix.

Shared by the methods that take constraints (meanvar.py, and allocation.py where it needs
bounds). INFEASIBLE_BOUNDS (an UnsolvableError) when the bounds cannot meet the budget.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mcp_trading.domain.errors import InvalidError
from mcp_trading.optimizer.problem import Constraints, UnsolvableError

__all__ = ["resolved_bounds"]

Array = npt.NDArray[np.float64]
_TOLERANCE = 1e-9


def _vector(value: Array | None, default: float, n: int, name: str) -> Array:
    if value is None:
        return np.full(n, default)
    out = np.asarray(value, dtype=np.float64)
    if out.shape != (n,) or not np.isfinite(out).all():
        raise InvalidError(f"constraints.{name} needs one finite number per symbol ({n}); got "
                           f"shape {out.shape}", field=f"constraints.{name}")
    return out


def _check_groups(c: Constraints, n: int) -> None:
    for name, members, gmin, gmax in c.groups:
        field = f"constraints.groups.{name}"
        if not members or any(not 0 <= i < n for i in members):
            raise InvalidError(f"group {name!r} must list one or more of the problem's assets",
                               field=field)
        if gmin is not None and gmax is not None and gmin > gmax:
            raise InvalidError(f"group {name!r}: min {gmin:g} is above max {gmax:g}", field=field)


def _check_turnover(c: Constraints, n: int) -> None:
    if c.max_turnover is None:
        return
    if not np.isfinite(c.max_turnover) or c.max_turnover < 0:
        raise InvalidError(f"constraints.max_turnover is sum |w − current|, >= 0; got "
                           f"{c.max_turnover!r}", field="constraints.max_turnover")
    if c.current is None:
        raise InvalidError("a turnover limit needs the current weights (constraints.current)",
                           field="constraints.current")
    _vector(c.current, 0.0, n, "current")


def resolved_bounds(c: Constraints, symbols: tuple[str, ...]) -> tuple[Array, Array]:
    """(lower, upper), each (N,), after checking every constraint of `c`."""
    n = len(symbols)
    if not 0.0 <= c.cash_buffer < 1.0:
        raise InvalidError(f"constraints.cash_buffer is the share held as cash, from 0 up to "
                           f"(not including) 1; got {c.cash_buffer!r}",
                           field="constraints.cash_buffer")
    lower = _vector(c.lower, 0.0 if c.long_only else -1.0, n, "lower")
    upper = _vector(c.upper, 1.0, n, "upper")
    if c.long_only and (lower < 0).any():
        i = int(np.argmax(lower < 0))
        raise InvalidError(f"the lower bound of {symbols[i]} is {lower[i]:g}, but long_only "
                           "forbids short weights: raise it to 0 or set long_only false",
                           field="constraints.lower", extra={"symbol": symbols[i]})
    if (lower > upper).any():
        i = int(np.argmax(lower > upper))
        raise InvalidError(f"the lower bound of {symbols[i]} ({lower[i]:g}) is above its upper "
                           f"bound ({upper[i]:g})", field="constraints.lower",
                           extra={"symbol": symbols[i]})
    _check_groups(c, n)
    _check_turnover(c, n)
    low_sum, high_sum, budget = float(lower.sum()), float(upper.sum()), c.budget
    if low_sum > budget + _TOLERANCE or high_sum < budget - _TOLERANCE:
        side = (f"the lower bounds sum to {low_sum:.4g}, above" if low_sum > budget + _TOLERANCE
                else f"the upper bounds sum to {high_sum:.4g}, below")
        raise UnsolvableError(
            f"{side} the budget {budget:g} (1 − cash buffer {c.cash_buffer:g}): no weights fit; "
            "loosen the bounds or change the cash buffer", code="INFEASIBLE_BOUNDS",
            field="constraints", extra={"lower_sum": low_sum, "upper_sum": high_sum,
                                        "budget": budget})
    return lower, upper
