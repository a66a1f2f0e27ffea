"""Sweep points from the CLI's axis text: grids, random draws, refusals that name the axis."""

from __future__ import annotations

import pytest

from mcp_trading.backtest.points import Axis, grid_points, parse_axes, random_points
from mcp_trading.domain.errors import InvalidError
from mcp_trading.strategy.builtin.bollinger_breakout import BollingerBreakoutParams
from mcp_trading.strategy.builtin.sma_crossover import SmaCrossoverParams

SMA = SmaCrossoverParams


def test_the_issue_grid_has_every_valid_combination_and_skips_fast_not_below_slow() -> None:
    points = grid_points(SMA, parse_axes(SMA, ["fast=5:20:5", "slow=20,30,50"]))
    pairs = [(p["fast"], p["slow"]) for p in points.points]
    assert pairs == [(5, 20), (5, 30), (5, 50), (10, 20), (10, 30), (10, 50), (15, 20), (15, 30),
                     (15, 50), (20, 30), (20, 50)]
    assert all(p["qty"] == "100" for p in points.points)  # the default, not swept
    ((raw, why),) = points.skipped
    assert raw["fast"] == 20 and "less than slow" in why


def test_float_ranges_step_without_drift() -> None:
    (axis,) = parse_axes(BollingerBreakoutParams, ["k=1.5:2.5:0.25"])
    assert axis.values == (1.5, 1.75, 2.0, 2.25, 2.5)


@pytest.mark.parametrize(("spec", "field", "words"), [
    ("speed=1,2", "params.speed", "not a parameter"),
    ("fast", "grid", "name=values"),
    ("fast=9:3:1", "params.fast", "empty"),
    ("fast=1:9:0", "params.fast", "> 0"),
    ("fast=1.5:3:1", "params.fast", "whole number"),
    ("fast=a:b:1", "params.fast", "not a number"),
])
def test_a_bad_axis_is_refused_naming_it(spec: str, field: str, words: str) -> None:
    with pytest.raises(InvalidError) as err:
        parse_axes(SMA, [spec])
    assert err.value.field == field and words in err.value.message


def test_a_grid_refuses_a_range_without_a_step() -> None:
    with pytest.raises(InvalidError, match="without a step"):
        grid_points(SMA, parse_axes(SMA, ["fast=2:9"]))


def test_random_points_are_reproducible_distinct_valid_and_inside_the_ranges() -> None:
    axes = parse_axes(SMA, ["fast=2:50", "slow=10:200"])
    first = random_points(SMA, axes, 100, seed=7)
    again = random_points(SMA, axes, 100, seed=7)
    other = random_points(SMA, axes, 100, seed=8)
    assert first.points == again.points and first.points != other.points
    pairs = {(p["fast"], p["slow"]) for p in first.points}
    assert len(pairs) == 100
    assert all(2 <= f <= 50 and 10 <= s <= 200 and f < s for f, s in pairs)


def test_a_small_space_gives_fewer_random_points_rather_than_repeats() -> None:
    points = random_points(SMA, [Axis("fast", (2, 3)), Axis("slow", (10,))], 10, seed=1)
    assert sorted(p["fast"] for p in points.points) == [2, 3]
