"""The registry: built-ins, a directory of user files, entry points; failures reported."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from mcp_trading.domain.errors import InvalidError
from mcp_trading.strategy.loader import ENTRY_POINT_GROUP, load_registry

GOOD = '''
from mcp_trading.strategy.api import Strategy
from mcp_trading.strategy.params import StrategyParams, param


class Params(StrategyParams):
    days: int = param(3, min=1, description="days")


class MyStrategy(Strategy):
    """Buys nothing, for a test."""

    name = "my_strategy"
    Params = Params
'''


def test_the_builtins_are_listed_with_schema_and_docstring() -> None:
    registry = load_registry(entry_points=[])
    assert registry.names() == ["bollinger_breakout", "buy_and_hold", "momentum_rotation",
                                "rsi_reversion", "sma_crossover"]
    assert registry.problems == []
    (sma,) = [d for d in registry.describe() if d["name"] == "sma_crossover"]
    assert sma["origin"] == "builtin"
    assert "last earlier bar where they differed" in str(sma["doc"])


def test_user_files_load_and_broken_ones_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "broken.py").write_text("import no_such_module_here\n")
    (tmp_path / "exits.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "empty.py").write_text("X = 1\n")
    (tmp_path / "_private.py").write_text("raise RuntimeError('never imported')\n")
    clash = GOOD.replace('"my_strategy"', '"sma_crossover"').replace("MyStrategy", "Clash")
    (tmp_path / "clash.py").write_text(clash)
    registry = load_registry(tmp_path, entry_points=[])
    assert "my_strategy" in registry.names()
    assert registry.get("my_strategy").Params.parse({}).days == 3  # type: ignore[attr-defined]
    problems = {Path(p.source).name: p.error for p in registry.problems}
    assert problems["broken.py"] == ("ModuleNotFoundError: No module named "
                                     "'no_such_module_here'")
    assert problems["exits.py"] == "SystemExit: 3"
    assert problems["empty.py"] == "defines no Strategy subclass with a name"
    assert "'sma_crossover' is taken by builtin" in problems["clash.py"]
    assert registry.get("sma_crossover").__name__ == "SmaCrossover"
    assert "_private.py" not in problems


def test_entry_points_are_loaded_and_a_bad_one_is_reported(tmp_path: Path) -> None:
    good = importlib.metadata.EntryPoint(
        "ep", "mcp_trading.strategy.builtin.buy_and_hold:BuyAndHold", ENTRY_POINT_GROUP)
    bad = importlib.metadata.EntryPoint("bad", "no_such_pkg.mod:Cls", ENTRY_POINT_GROUP)
    registry = load_registry(entry_points=[good, bad])
    errors = {p.source: p.error for p in registry.problems}
    assert "taken by builtin" in errors["entry point ep (mcp_trading.strategy.builtin."
                                        "buy_and_hold:BuyAndHold)"]
    assert errors["entry point bad (no_such_pkg.mod:Cls)"].startswith("ModuleNotFoundError")


def test_an_unknown_strategy_names_the_known_ones() -> None:
    with pytest.raises(InvalidError) as err:
        load_registry(entry_points=[]).get("sma_cross")
    assert err.value.field == "strategy"
    assert "known: bollinger_breakout, buy_and_hold" in err.value.message


def test_a_missing_directory_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    registry = load_registry(tmp_path / "nope", entry_points=[])
    assert registry.problems[0].error == "is not a directory"
    assert len(registry.names()) == 5
