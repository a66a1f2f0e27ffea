"""The risk-analytics queries as plain values: lists of confidences, horizons, methods, a window.

REST passes the query strings as given ("0.95,0.99"); MCP passes lists. A bad value is a 422
naming the field and saying what is allowed; nothing is computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mcp_trading.analytics.risk import METHODS
from mcp_trading.domain.errors import InvalidError

__all__ = ["DEFAULT_WINDOW", "MAX_WINDOW", "MIN_WINDOW", "VarQuery", "names_of", "parse_var_query"]

DEFAULT_WINDOW = 250
MIN_WINDOW = 20
MAX_WINDOW = 5000
MAX_HORIZON = 250
_MAX_ITEMS = 8

Items = str | Sequence[str | int | float] | None


@dataclass(frozen=True, slots=True)
class VarQuery:
    confidences: tuple[float, ...]
    horizons: tuple[int, ...]
    methods: tuple[str, ...]
    window: int


def _bad(name: str, message: str) -> InvalidError:
    return InvalidError(f"{name}: {message}", code="INVALID_QUERY", field=name)


def _items(name: str, value: Items, most: int = _MAX_ITEMS) -> list[str] | None:
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    parts = [p.strip() for p in parts]
    if not parts or any(not p for p in parts):
        raise _bad(name, "give comma-separated values, none empty")
    if len(parts) > most:
        raise _bad(name, f"at most {most} values")
    return list(dict.fromkeys(parts))


def _confidences(value: Items) -> tuple[float, ...]:
    parts = _items("confidence", value) or ["0.95", "0.99"]
    out = []
    for p in parts:
        try:
            c = float(p)
        except ValueError:
            raise _bad("confidence", f"{p!r} is not a number; e.g. 0.95,0.99") from None
        if not 0.5 <= c < 1.0:
            raise _bad("confidence", f"{p} is outside [0.5, 1); a fraction, e.g. 0.95 or 0.99")
        out.append(c)
    return tuple(out)


def _horizons(value: Items) -> tuple[int, ...]:
    parts = _items("horizon", value) or ["1", "10"]
    out = []
    for p in parts:
        if not p.isdigit() or not 1 <= int(p) <= MAX_HORIZON:
            raise _bad("horizon", f"{p!r} is not a whole number of days 1..{MAX_HORIZON}; "
                                  "e.g. 1,10")
        out.append(int(p))
    return tuple(out)


def _methods(value: Items) -> tuple[str, ...]:
    parts = _items("method", value) or list(METHODS)
    for p in parts:
        if p not in METHODS:
            raise InvalidError(f"method: {p!r} is not one of {', '.join(METHODS)}",
                               code="INVALID_QUERY", field="method",
                               extra={"allowed": list(METHODS)})
    return tuple(parts)


def _window(value: str | int | None) -> int:
    if value is None:
        return DEFAULT_WINDOW
    text = str(value).strip()
    if not text.isdigit() or not MIN_WINDOW <= int(text) <= MAX_WINDOW:
        raise _bad("window", f"{value!r} is not a whole number of daily returns "
                             f"{MIN_WINDOW}..{MAX_WINDOW} (default {DEFAULT_WINDOW})")
    return int(text)


def parse_var_query(*, confidence: Items = None, horizon: Items = None, method: Items = None,
                    window: str | int | None = None) -> VarQuery:
    """The query's values, defaults filled in (0.95,0.99; 1,10; every method; 250 days)."""
    return VarQuery(_confidences(confidence), _horizons(horizon), _methods(method), _window(window))


def names_of(value: Items, allowed: Sequence[str], *, field: str = "scenario") -> list[str]:
    """Names asked for (every allowed one when none), each one of `allowed`."""
    parts = _items(field, value, 64)
    if parts is None:
        return list(allowed)
    unknown = [p for p in parts if p not in allowed]
    if unknown:
        raise InvalidError(f"{field}: unknown {', '.join(map(repr, unknown))}; the scenarios "
                           f"are {', '.join(allowed)}", code="INVALID_QUERY", field=field,
                           extra={"allowed": list(allowed)})
    return parts
