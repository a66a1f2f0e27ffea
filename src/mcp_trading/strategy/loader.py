"""The registry of strategies: the built-ins, user files from a directory, entry points.

Sources, in this order (the first of a name wins; a later one of the same name is reported
as a clash and skipped, so a user file can never replace a built-in silently):

1. the built-ins (`strategy.builtin`);
2. every `*.py` file of the strategy directory (not starting with `_`), in name order —
   each `Strategy` subclass defined in the file with a `name` is registered;
3. the entry points of group `mcp_trading.strategies` (installed packages): each names a
   `Strategy` subclass (`name = "pkg.module:Class"`).

A source that fails to import, or names no valid strategy, is reported as a `LoadProblem`
(where, exception type and message) and skipped: the listing never fails for one bad file.
The directory is a parameter: this package does not read settings (import contract); the
service passes `Settings.strategy_dir` (MCP_TRADING_STRATEGY_DIR).

Importing a user file runs its code in the service's process: the directory is as trusted
as the platform's own code (an operator's setting, never a request's).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

from mcp_trading.domain.errors import InvalidError
from mcp_trading.strategy.api import Strategy
from mcp_trading.strategy.builtin import BUILTINS

__all__ = ["ENTRY_POINT_GROUP", "LoadProblem", "StrategyRegistry", "load_registry"]

ENTRY_POINT_GROUP = "mcp_trading.strategies"
_USER_PACKAGE = "mcp_trading_user_strategies"


class LoadProblem(NamedTuple):
    source: str  # a file path, "entry point NAME", or a strategy name for a clash
    error: str  # "ExceptionType: message", or what is wrong


class StrategyRegistry:
    """Strategies by name, with the problems met while loading them."""

    def __init__(self) -> None:
        self._strategies: dict[str, type[Strategy]] = {}
        self._origin: dict[str, str] = {}
        self.problems: list[LoadProblem] = []

    def add(self, cls: type[Strategy], origin: str) -> None:
        """Register `cls`; a missing name or a name taken is recorded as a problem."""
        problem = _invalid(cls)
        if problem:
            self.problems.append(LoadProblem(origin, problem))
        elif cls.name in self._strategies:
            self.problems.append(LoadProblem(origin, f"strategy name {cls.name!r} is taken by "
                                                     f"{self._origin[cls.name]}; skipped"))
        else:
            self._strategies[cls.name] = cls
            self._origin[cls.name] = origin

    def names(self) -> list[str]:
        return sorted(self._strategies)

    def get(self, name: str) -> type[Strategy]:
        """The strategy called `name`; InvalidError (field `strategy`) lists the known ones."""
        cls = self._strategies.get(name)
        if cls is None:
            raise InvalidError(f"unknown strategy {name!r}; known: {', '.join(self.names())}",
                               code="UNKNOWN_STRATEGY", field="strategy",
                               extra={"allowed": self.names()})
        return cls

    def origin(self, name: str) -> str:
        return self._origin[self.get(name).name]

    def describe(self) -> list[dict[str, object]]:
        """Each strategy's name, docstring, parameter schema and origin, by name."""
        return [{**self._strategies[n].describe(), "origin": self._origin[n]}
                for n in self.names()]


def _invalid(cls: object) -> str:
    if not (inspect.isclass(cls) and issubclass(cls, Strategy)):
        return f"{cls!r} is not a Strategy subclass"
    if not isinstance(cls.name, str) or not cls.name.strip():
        return f"{cls.__qualname__} has no name (set the class attribute `name`)"
    if cls.name != cls.name.strip() or len(cls.name) > 64:
        return f"{cls.__qualname__}: the name {cls.name!r} must be 1-64 characters, no spaces " \
               "around it"
    return ""


def _error(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _import_file(path: Path) -> ModuleType:
    module_name = f"{_USER_PACKAGE}.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _load_directory(registry: StrategyRegistry, directory: Path) -> None:
    if not directory.is_dir():
        registry.problems.append(LoadProblem(str(directory), "is not a directory"))
        return
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        try:
            module = _import_file(path)
        except (Exception, SystemExit) as exc:  # a user file may raise anything
            registry.problems.append(LoadProblem(str(path), _error(exc)))
            continue
        found = [cls for cls in vars(module).values() if inspect.isclass(cls)
                 and issubclass(cls, Strategy) and cls.__module__ == module.__name__
                 and cls.name]
        if not found:
            registry.problems.append(LoadProblem(str(path), "defines no Strategy subclass "
                                                            "with a name"))
        for cls in found:
            registry.add(cls, str(path))


def _load_entry_points(registry: StrategyRegistry,
                       entry_points: Iterable[importlib.metadata.EntryPoint] | None) -> None:
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    for ep in entry_points:
        origin = f"entry point {ep.name} ({ep.value})"
        try:
            cls = ep.load()
        except (Exception, SystemExit) as exc:  # an installed package may raise anything
            registry.problems.append(LoadProblem(origin, _error(exc)))
            continue
        registry.add(cls, origin)


def load_registry(directory: Path | None = None, *,
                  entry_points: Iterable[importlib.metadata.EntryPoint] | None = None
                  ) -> StrategyRegistry:
    """The built-ins, then the directory's strategies, then the entry points' (see above);
    `entry_points` replaces the installed ones (tests)."""
    registry = StrategyRegistry()
    for cls in BUILTINS.values():
        registry.add(cls, "builtin")
    if directory is not None:
        _load_directory(registry, directory)
    _load_entry_points(registry, entry_points)
    return registry
