"""A sweep's parameter points: axes from `name=spec` text, a grid over them or random draws.

Axis text (the CLI's `--grid fast=5:20:5 slow=20,30,50`, the REST body's strings alike):

    name=a,b,c          these values (each parsed as the parameter's type)
    name=lo:hi:step     lo, lo + step, ... up to and including hi (int or float parameters)
    name=lo:hi          a range without a step: random sweeps draw from [lo, hi]
                        (integers uniformly among lo..hi, floats uniformly); a grid refuses it

A grid is the cartesian product of the axes, in the axes' order (the last varies fastest); a
random sweep draws `count` points with `random.Random(seed)`, so one seed gives one sweep.
Parameters not named keep their defaults. Every point is validated by the strategy's own
`Params.parse` (types, bounds, rules between fields such as fast < slow); a grid point that
fails is *skipped* and reported with the reason (fast=20 with slow=20 in the example), a
random draw that fails is drawn again (at most 50 × count attempts). Duplicate draws are
kept out, so a small integer space gives fewer points than asked rather than repeats.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from mcp_trading.domain.errors import InvalidError
from mcp_trading.strategy.params import StrategyParams

__all__ = ["MAX_POINTS", "Axis", "PointSet", "grid_points", "parse_axes", "random_points"]

#: the most points one sweep evaluates (a 100 × 100 grid); more is refused, naming the count
MAX_POINTS = 10_000
_DRAWS_PER_POINT = 50


@dataclass(frozen=True, slots=True)
class Axis:
    """One swept parameter: explicit `values`, or a `[low, high]` range (random sweeps)."""

    name: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False


class PointSet(NamedTuple):
    points: list[dict[str, Any]]  # each a full, validated parameter dict (as_dict form)
    skipped: list[tuple[dict[str, Any], str]]  # (raw point, why Params.parse refused it)


def _number(name: str, text: str, integer: bool) -> float:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidError(f"axis {name!r}: {text!r} is not a number", field=f"params.{name}") from None
    if not value.is_finite():
        raise InvalidError(f"axis {name!r}: {text!r} must be finite", field=f"params.{name}")
    if integer and value != value.to_integral_value():
        raise InvalidError(f"axis {name!r}: {text!r} must be a whole number (the parameter is an "
                           "integer)", field=f"params.{name}")
    return float(value)


def _range(name: str, parts: list[str], kind: type) -> Axis:
    if kind not in (int, float):
        raise InvalidError(f"axis {name!r}: a range lo:hi[:step] needs a numeric parameter; "
                           "list the values instead (a,b,c)", field=f"params.{name}")
    integer = kind is int
    low, high = (_number(name, p, integer) for p in parts[:2])
    if high < low:
        raise InvalidError(f"axis {name!r}: the range {low:g}:{high:g} is empty; write lo:hi with "
                           "lo <= hi", field=f"params.{name}")
    if len(parts) == 2:
        return Axis(name, (), low, high, integer)
    step = _number(name, parts[2], integer)
    if step <= 0:
        raise InvalidError(f"axis {name!r}: the step {parts[2]!r} must be > 0", field=f"params.{name}")
    count = int((high - low) / step + 1e-9) + 1
    if count > MAX_POINTS:
        raise InvalidError(f"axis {name!r} has {count} values; at most {MAX_POINTS}",
                           field=f"params.{name}")
    values = [low + i * step for i in range(count)]
    if integer:
        return Axis(name, tuple(round(v) for v in values), low, high, True)
    return Axis(name, tuple(round(v, 12) for v in values), low, high, False)


def parse_axes(params: type[StrategyParams], specs: Sequence[str]) -> list[Axis]:
    """Axes from `name=...` texts (module docstring), checked against the strategy's parameters."""
    axes: list[Axis] = []
    for spec in specs:
        name, sep, body = spec.partition("=")
        name = name.strip()
        if not sep or not name or not body.strip():
            raise InvalidError(f"axis {spec!r} is not name=values; write e.g. fast=5:20:5 or "
                               "slow=20,30,50", field="grid")
        kinds = params.__types__
        if name not in kinds:
            raise InvalidError(f"axis {name!r} is not a parameter of this strategy; its parameters: "
                               + ", ".join(kinds), field=f"params.{name}",
                               extra={"allowed": list(kinds)})
        if any(a.name == name for a in axes):
            raise InvalidError(f"axis {name!r} is given twice; give each parameter once",
                               field=f"params.{name}")
        parts = body.split(":")
        if len(parts) in (2, 3) and "," not in body:
            axes.append(_range(name, parts, kinds[name]))
        else:
            axes.append(Axis(name, tuple(v.strip() for v in body.split(",") if v.strip())))
    return axes


def _checked(params: type[StrategyParams], raw: Mapping[str, Any]) -> dict[str, Any] | str:
    try:
        return params.parse(raw).as_dict()
    except InvalidError as exc:
        return exc.message


def grid_points(params: type[StrategyParams], axes: Sequence[Axis]) -> PointSet:
    """Every combination of the axes' values (module docstring); invalid ones skipped."""
    for axis in axes:
        if not axis.values:
            raise InvalidError(f"axis {axis.name!r} is a range without a step; a grid needs "
                               f"lo:hi:step or a list (or use a random sweep)",
                               field=f"params.{axis.name}")
    total = 1
    for axis in axes:
        total *= len(axis.values)
    if total > MAX_POINTS:
        raise InvalidError(f"the grid has {total} points; at most {MAX_POINTS} — use fewer "
                           "values or a random sweep", field="grid")
    points, skipped = [], []
    for combo in itertools.product(*(a.values for a in axes)):
        raw = dict(zip((a.name for a in axes), combo, strict=True))
        checked = _checked(params, raw)
        if isinstance(checked, str):
            skipped.append((raw, checked))
        else:
            points.append(checked)
    return PointSet(points, skipped)


def _draw(axis: Axis, rng: random.Random) -> Any:
    if axis.values:
        return rng.choice(axis.values)
    assert axis.low is not None and axis.high is not None
    if axis.integer:
        return rng.randint(int(axis.low), int(axis.high))
    return round(rng.uniform(axis.low, axis.high), 12)


def random_points(params: type[StrategyParams], axes: Sequence[Axis], count: int,
                  seed: int) -> PointSet:
    """`count` distinct valid points drawn with `random.Random(seed)` (module docstring)."""
    if not 1 <= count <= MAX_POINTS:
        raise InvalidError(f"random is {count}; draw between 1 and {MAX_POINTS} points",
                           field="random")
    if not axes:
        raise InvalidError("a random sweep needs at least one axis (e.g. fast=5:50)", field="grid")
    rng = random.Random(seed)
    points: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    skipped: list[tuple[dict[str, Any], str]] = []
    for _ in range(count * _DRAWS_PER_POINT):
        if len(points) == count:
            break
        raw = {a.name: _draw(a, rng) for a in axes}
        checked = _checked(params, raw)
        if isinstance(checked, str):
            if len(skipped) < 10:  # a sample of why draws fail, not every one
                skipped.append((raw, checked))
            continue
        key = tuple(sorted((k, str(v)) for k, v in checked.items()))
        if key not in seen:
            seen.add(key)
            points.append(checked)
    return PointSet(points, skipped)
