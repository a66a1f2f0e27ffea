"""The error tree: one root for every exception class in mcp_trading, and a drawing that holds.

The classes are found by walking the package (pkgutil), not listed here, so a new exception
class anywhere in src that forgets the root fails this test.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import mcp_trading
from mcp_trading.domain import errors
from mcp_trading.domain.errors import (
    KINDS,
    ConflictError,
    InvalidError,
    MalformedError,
    NotFoundError,
    RefusedError,
    TradingError,
    UnavailableError,
    kind_of,
)


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined at the top level of a module of mcp_trading."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(mcp_trading.__path__, "mcp_trading."):
        if info.name.endswith("__main__"):  # runs the CLI when imported
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__ == module.__name__):
                found[f"{module.__name__}.{name}"] = value
    return found


CLASSES = _exception_classes()


def test_the_walk_finds_the_exception_classes_of_every_layer() -> None:
    # a walk that found nothing would pass the next test vacuously
    layers = {name.split(".")[1] for name in CLASSES}
    assert {"domain", "kernel", "adapters", "platform"} <= layers
    assert len(CLASSES) >= 30


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_exception_class_derives_from_the_root(name: str) -> None:
    assert issubclass(CLASSES[name], TradingError), (
        f"{name} derives from {[b.__name__ for b in CLASSES[name].__mro__[1:]]}: derive it "
        "from a kind in mcp_trading.domain.errors (or from TradingError for a fault)")


def _drawing() -> list[tuple[int, str, int | None]]:
    """(depth, class name, drawn status) of each line of the tree in the module docstring."""
    rows = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^(\s*)(?:[│ ]*[├└]── )?(\w+Error)\b\s*(\d{3})?", line)
        if match is None:
            continue
        depth = line.index(match.group(2))
        rows.append((depth, match.group(2), int(match.group(3)) if match.group(3) else None))
    return rows


def test_the_drawn_tree_matches_the_classes() -> None:
    by_name = {cls.__name__: cls for cls in CLASSES.values()}
    rows = _drawing()
    assert rows[0][1] == "TradingError" and len(rows) > len(KINDS)
    parents: list[tuple[int, str]] = []
    for depth, name, _ in rows:
        assert name in by_name, f"the drawing names {name}, which no module defines"
        while parents and parents[-1][0] >= depth:
            parents.pop()
        if parents:
            parent = by_name[parents[-1][1]]
            assert issubclass(by_name[name], parent), f"{name} is drawn under {parent.__name__}"
        parents.append((depth, name))
    drawn_kinds = {name for _, name, status in rows if status is not None}
    assert drawn_kinds == {kind.__name__ for kind in KINDS}


def test_the_kind_of_an_error_is_its_most_specific_kind() -> None:
    assert kind_of(MalformedError("x")) is MalformedError
    assert kind_of(InvalidError("x")) is InvalidError
    assert kind_of(errors.DuplicateClientOrderIdError("c-1", "o-1")) is ConflictError
    assert kind_of(errors.OrderNotFoundError("o-1")) is NotFoundError
    assert kind_of(TradingError("a fault")) is None
    assert kind_of(ValueError("foreign")) is None


def test_a_kind_has_its_default_code_and_a_site_may_name_its_own() -> None:
    assert UnavailableError("stopping").code == "UNAVAILABLE"
    refused = RefusedError("no", code="MAX_ORDER_QTY", field="qty", extra={"limit": "100"})
    assert refused.body() == {"code": "MAX_ORDER_QTY", "message": "no", "field": "qty",
                              "limit": "100"}
    assert str(refused) == "no"
    assert RefusedError.code == "REFUSED"  # an instance's code never leaks into its class


def test_the_body_leaves_out_an_absent_field() -> None:
    assert NotFoundError("order 'x' not found", code="ORDER_NOT_FOUND").body() == {
        "code": "ORDER_NOT_FOUND", "message": "order 'x' not found"}


def test_fault_classes_keep_their_builtin_base_for_except_callers() -> None:
    by_name = {cls.__name__: cls for cls in CLASSES.values()}
    assert issubclass(by_name["InstrumentFileError"], ValueError)
    assert issubclass(by_name["UnknownKeyError"], LookupError)
    assert issubclass(by_name["JournalError"], RuntimeError)
    assert issubclass(by_name["PlatformUnavailableError"], RuntimeError)
