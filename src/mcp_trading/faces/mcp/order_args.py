"""The order tools' arguments: the one order schema's fields, flat and described.

preview_order, submit_order and check_order take OrderFields (faces/order_schema.py) as
top-level arguments — symbol, qty, side, type, … each with its description — rather than
one nested `order` object, which generic MCP clients show as `order: any`. The SDK drops
arguments a tool does not declare; for these tools an unknown one (a misspelt
`limit_prise`) is refused instead, since ignoring it would place a different order.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, get_type_hints

from mcp_trading.faces.order_schema import order_parameters

__all__ = ["flat_order_args", "unknown_arguments"]

_F = TypeVar("_F", bound=Callable[..., Any])
_ALLOWED = "_order_tool_arguments"


def flat_order_args(*extra: inspect.Parameter) -> Callable[[_F], _F]:
    """Give a tool function `fn(**arguments)` the order fields (and `extra`) as its declared
    parameters, so tools/list shows them as flat, described top-level properties."""
    def wrap(fn: _F) -> _F:
        params = [*order_parameters(), *extra]
        returns = get_type_hints(fn, include_extras=True).get("return", inspect.Signature.empty)
        target: Any = fn  # a plain function: both are ordinary attributes
        target.__signature__ = inspect.Signature(params, return_annotation=returns)
        setattr(target, _ALLOWED, frozenset(p.name for p in params))
        return fn
    return wrap


def unknown_arguments(fn: Callable[..., Any], arguments: Mapping[str, Any]) -> list[str]:
    """The arguments an order tool function does not declare (none for any other tool)."""
    allowed: frozenset[str] | None = getattr(fn, _ALLOWED, None)
    return [] if allowed is None else sorted(set(arguments) - allowed)
