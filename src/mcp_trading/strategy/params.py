"""A strategy's parameters: typed, validated, with defaults, ranges and descriptions.

A strategy declares them as a nested class of fields made with `param()`:

    class Params(StrategyParams):
        fast: int = param(10, min=1, max=500, description="bars of the fast mean")
        mode: str = param("close", choices=("close", "open"), description="...")

A subclass of `StrategyParams` becomes a frozen, keyword-only dataclass by itself (no
decorator). Field types are `int`, `float`, `Decimal`, `str` or `bool`; `choices` makes a
field an enumeration. `schema()` is the JSON-schema-like dict `GET :8090/strategies` shows;
`parse(raw)` builds an instance from loose input (JSON values or the CLI's `k=v` text) and
raises `InvalidError` naming the parameter, what was wrong and what is allowed. `check()`
is the hook for rules between fields (`fast < slow`).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

from mcp_trading.domain.errors import InvalidError

__all__ = ["PARAM_TYPES", "StrategyParams", "param", "parameter_error"]

_T = TypeVar("_T")
#: the field types a parameter may have, with their JSON-schema type
PARAM_TYPES: dict[type, str] = {bool: "boolean", int: "integer", float: "number",
                                Decimal: "string", str: "string"}
_MAX_EXPONENT = 18  # no parameter is that large; bounds a 10,000-digit input's cost
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parameter_error(name: str, message: str, **extra: Any) -> InvalidError:
    """The error for one bad parameter: code INVALID_PARAMETER, `field` = `params.<name>`."""
    return InvalidError(f"parameter {name!r} {message}", code="INVALID_PARAMETER",
                        field=f"params.{name}", extra=extra or None)


def param(default: _T, *, min: float | Decimal | None = None,  # the schema's words
          max: float | Decimal | None = None,
          choices: tuple[str, ...] | None = None, description: str = "") -> _T:
    """A parameter field: its default, optional inclusive bounds or choices, a description."""
    meta = {"min": min, "max": max, "choices": choices, "description": description}
    field: Any = dataclasses.field(default=default, metadata=meta)
    return typing.cast(_T, field)


@typing.dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(param,))
class StrategyParams:
    """The base of every strategy's `Params` (see the module docstring)."""

    __types__: ClassVar[dict[str, type]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        hints = typing.get_type_hints(cls)
        types: dict[str, type] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            kind = hints[field.name]
            if kind not in PARAM_TYPES:
                raise TypeError(f"{cls.__qualname__}.{field.name}: a parameter is int, float, "
                                f"Decimal, str or bool, not {kind!r}")
            if field.default is dataclasses.MISSING:
                raise TypeError(f"{cls.__qualname__}.{field.name}: give it a default (param(...))")
            types[field.name] = kind
        cls.__types__ = types

    @classmethod
    def names(cls) -> list[str]:
        """The parameter names, in declaration order."""
        return list(cls.__types__)

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """A JSON-schema-like object: each parameter's type, default, bounds and description."""
        properties: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            kind, meta = cls.__types__[field.name], field.metadata
            prop: dict[str, Any] = {"type": PARAM_TYPES[kind], "default": _json(field.default)}
            if kind is Decimal:
                prop["format"] = "decimal"
            if meta.get("min") is not None:
                prop["minimum"] = _json(meta["min"])
            if meta.get("max") is not None:
                prop["maximum"] = _json(meta["max"])
            if meta.get("choices"):
                prop["enum"] = list(meta["choices"])
            prop["description"] = meta.get("description", "")
            properties[field.name] = prop
        return {"type": "object", "properties": properties, "additionalProperties": False}

    @classmethod
    def parse(cls: type[_P], raw: Mapping[str, object] | None = None) -> _P:
        """Validated parameters from loose input; a missing one takes its default."""
        raw = raw or {}
        allowed = cls.names()
        for name in raw:
            if name not in cls.__types__:
                shown = ", ".join(allowed) or "(none)"
                raise parameter_error(str(name), f"is unknown; allowed parameters: {shown}",
                                      allowed=allowed)
        values = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            if field.name in raw:
                values[field.name] = _value(field, cls.__types__[field.name], raw[field.name])
        params = cls(**values)
        params.check()
        return params

    def check(self) -> None:
        """Rules between parameters; raise `parameter_error(...)` naming the one to change."""

    def as_dict(self) -> dict[str, Any]:
        """The values as JSON-ready data (Decimal as text)."""
        return {f.name: _json(getattr(self, f.name))
                for f in dataclasses.fields(self)}  # type: ignore[arg-type]


_P = TypeVar("_P", bound=StrategyParams)


def _shown(raw: object) -> str:
    """The offending value for a message, never long (the input may be huge)."""
    text = repr(raw)
    return text if len(text) <= 42 else text[:40] + "…"


def _json(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


def _value(field: dataclasses.Field[Any], kind: type, raw: object) -> object:
    """One parameter from loose input, converted to its type and checked against its bounds."""
    name, meta = field.name, field.metadata
    value = _convert(name, kind, raw)
    choices = meta.get("choices")
    if choices and value not in choices:
        raise parameter_error(name, f"is {_shown(raw)}; use one of: {', '.join(choices)}",
                              allowed=list(choices))
    low, high = meta.get("min"), meta.get("max")
    if low is not None and value < low:
        raise parameter_error(name, f"is {_json(value)}, below its minimum {_json(low)}",
                              minimum=_json(low))
    if high is not None and value > high:
        raise parameter_error(name, f"is {_json(value)}, above its maximum {_json(high)}",
                              maximum=_json(high))
    return value


def _convert(name: str, kind: type, raw: object) -> object:
    if kind is bool:
        return _boolean(name, raw)
    if kind is str:
        if not isinstance(raw, str):
            raise parameter_error(name, f"must be text, got {type(raw).__name__}")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise parameter_error(name, f"must be a number, got {type(raw).__name__}")
    if kind is int:
        return _integer(name, raw)
    try:
        number = Decimal(raw.strip() if isinstance(raw, str) else str(raw))
    except InvalidOperation:
        raise parameter_error(name, f"is {_shown(raw)}, not a number") from None
    if not number.is_finite() or (number and number.adjusted() > _MAX_EXPONENT):
        raise parameter_error(name, f"is {_shown(raw)}; it must be a finite number below 1e{_MAX_EXPONENT}")
    if kind is float:
        result = float(number)
        if not math.isfinite(result):
            raise parameter_error(name, f"is {_shown(raw)}, out of the range of a float")
        return result
    return number


def _integer(name: str, raw: int | float | str | Decimal) -> int:
    if isinstance(raw, int):
        return raw
    text = raw.strip() if isinstance(raw, str) else str(raw)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise parameter_error(name, f"is {_shown(raw)}, not a whole number") from None
    if not number.is_finite() or (number and number.adjusted() > _MAX_EXPONENT) \
            or number != number.to_integral_value():
        raise parameter_error(name, f"is {_shown(raw)}; it must be a whole number")
    return int(number)


def _boolean(name: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise parameter_error(name, f"is {_shown(raw)}; use true or false")
