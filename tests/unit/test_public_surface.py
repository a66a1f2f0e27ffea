"""Every module states its public surface (as httpx's test_exported_members), derived from the
modules themselves: each defines `__all__`, every name in it exists, none twice, and every public
class or function the module defines is listed (or given a leading underscore). Migrations and
`__main__` (importing it runs the CLI) are left out."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import mcp_trading


def _onerror(name: str) -> None:
    raise ImportError(f"cannot import {name} while listing the package's modules")


def _modules() -> list[str]:
    found = pkgutil.walk_packages(mcp_trading.__path__, "mcp_trading.", onerror=_onerror)
    names = [m.name for m in found
             if ".migrations" not in m.name and not m.name.endswith(".__main__")]
    return ["mcp_trading", *names]


def surface_problems(module: types.ModuleType) -> list[str]:
    """What is wrong with `module.__all__` (empty when nothing is)."""
    exported = getattr(module, "__all__", None)
    if exported is None:
        return ["defines no __all__ (a namespace package says `__all__: list[str] = []`)"]
    problems = [f"__all__ names {name!r}, which the module does not define"
                for name in exported if not hasattr(module, name)]
    problems += [f"__all__ lists {name!r} twice" for name in sorted(set(exported))
                 if list(exported).count(name) > 1]
    for name, obj in vars(module).items():
        own = (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == module.__name__
        if own and not name.startswith("_") and name not in exported:
            problems.append(f"defines public {name!r} but leaves it out of __all__ "
                            "(list it, or give it a leading underscore)")
    return problems


def test_the_walk_finds_every_layer() -> None:
    names = _modules()
    for layer in ("domain", "kernel", "adapters", "services", "faces", "security", "processes",
                  "cli", "platform"):
        assert f"mcp_trading.{layer}" in names
    assert len(names) > 100


@pytest.mark.parametrize("name", _modules())
def test_the_module_states_its_public_surface(name: str) -> None:
    assert surface_problems(importlib.import_module(name)) == []


def test_each_kind_of_surface_problem_is_reported() -> None:
    bare = types.ModuleType("fake_bare")
    assert surface_problems(bare) == [
        "defines no __all__ (a namespace package says `__all__: list[str] = []`)"]

    module = types.ModuleType("fake_module")
    exec("import json\n"  # an imported module and imported names are not its own
         "from decimal import Decimal\n"
         "def listed(): ...\n"
         "def forgotten(): ...\n"
         "def _private(): ...\n"
         "class Forgotten: ...\n"
         "__all__ = ['listed', 'listed', 'gone']\n", module.__dict__)
    assert surface_problems(module) == [
        "__all__ names 'gone', which the module does not define",
        "__all__ lists 'listed' twice",
        "defines public 'forgotten' but leaves it out of __all__ "
        "(list it, or give it a leading underscore)",
        "defines public 'Forgotten' but leaves it out of __all__ "
        "(list it, or give it a leading underscore)",
    ]
