"""Strategy parameters: defaults, loose input, bounds and unknown names named in the error."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mcp_trading.domain.errors import InvalidError
from mcp_trading.strategy.builtin import BUILTINS
from mcp_trading.strategy.builtin.sma_crossover import SmaCrossoverParams
from mcp_trading.strategy.params import StrategyParams, param


class Example(StrategyParams):
    n: int = param(5, min=1, max=10, description="a count")
    k: float = param(2.0, min=0.5, description="a width")
    qty: Decimal = param(Decimal(100), min=Decimal(1), description="shares")
    mode: str = param("close", choices=("close", "open"), description="which price")
    on: bool = param(True, description="a switch")


def test_missing_parameters_take_their_defaults() -> None:
    params = Example.parse({})
    assert (params.n, params.k, params.qty, params.mode, params.on) == (
        5, 2.0, Decimal(100), "close", True)


def test_cli_text_is_converted_to_each_type() -> None:
    params = Example.parse({"n": "7", "k": "1.5", "qty": "250.5", "mode": "open", "on": "false"})
    assert (params.n, params.k, params.qty, params.mode, params.on) == (
        7, 1.5, Decimal("250.5"), "open", False)
    assert Example.parse({"n": 7.0}).n == 7


def test_parameters_are_frozen() -> None:
    params = Example.parse({})
    with pytest.raises(AttributeError):
        params.n = 3  # type: ignore[misc]


@pytest.mark.parametrize(("raw", "field", "hint"), [
    ({"n": 0}, "params.n", "below its minimum 1"),
    ({"n": 11}, "params.n", "above its maximum 10"),
    ({"n": "2.5"}, "params.n", "whole number"),
    ({"n": True}, "params.n", "must be a number"),
    ({"k": "wide"}, "params.k", "not a number"),
    ({"k": "nan"}, "params.k", "finite"),
    ({"qty": "1e999999"}, "params.qty", "finite number below 1e18"),
    ({"mode": "high"}, "params.mode", "use one of: close, open"),
    ({"on": "maybe"}, "params.on", "use true or false"),
])
def test_a_bad_value_names_the_parameter_and_its_bound(raw: dict[str, object], field: str,
                                                      hint: str) -> None:
    with pytest.raises(InvalidError) as err:
        Example.parse(raw)
    assert err.value.field == field
    assert err.value.code == "INVALID_PARAMETER"
    assert hint in err.value.message


def test_an_unknown_parameter_lists_the_allowed_names() -> None:
    with pytest.raises(InvalidError) as err:
        Example.parse({"speed": 3})
    assert err.value.field == "params.speed"
    assert "allowed parameters: n, k, qty, mode, on" in err.value.message
    assert err.value.body()["allowed"] == ["n", "k", "qty", "mode", "on"]


def test_a_rule_between_parameters_is_checked() -> None:
    with pytest.raises(InvalidError) as err:
        SmaCrossoverParams.parse({"fast": 30, "slow": 30})
    assert err.value.field == "params.fast"
    assert "less than slow (30)" in err.value.message


def test_the_schema_states_types_defaults_bounds_and_descriptions() -> None:
    schema = Example.schema()
    assert schema["additionalProperties"] is False
    assert schema["properties"]["n"] == {"type": "integer", "default": 5, "minimum": 1,
                                         "maximum": 10, "description": "a count"}
    assert schema["properties"]["qty"] == {"type": "string", "format": "decimal",
                                           "default": "100", "minimum": "1",
                                           "description": "shares"}
    assert schema["properties"]["mode"]["enum"] == ["close", "open"]
    assert schema["properties"]["on"]["type"] == "boolean"


def test_a_parameter_of_an_unsupported_type_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="int, float, Decimal, str or bool"):
        class Bad(StrategyParams):
            xs: tuple[int, ...] = param(())


def test_every_builtin_describes_itself_with_defaults_that_parse() -> None:
    for name, cls in BUILTINS.items():
        described = cls.describe()
        assert described["name"] == name
        assert len(str(described["doc"])) > 100, f"{name}: state the rules in the docstring"
        defaults = {k: v["default"] for k, v in cls.Params.schema()["properties"].items()}
        assert cls.Params.parse(defaults) == cls.Params.parse({})


def test_the_sma_crossover_defaults_are_the_issues() -> None:
    params = SmaCrossoverParams.parse({})
    assert (params.fast, params.slow, params.qty) == (10, 30, Decimal(100))
