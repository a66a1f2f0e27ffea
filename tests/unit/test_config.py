"""Settings: the money and bps settings are parsed with the domain's number bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from mcp_trading.config import Settings


def test_cash_and_fees_within_bounds_are_taken_exactly() -> None:
    settings = Settings(default_cash="2500.50", commission_bps=2, slippage_bps="0.5")
    assert settings.default_cash == Decimal("2500.50")
    assert (settings.commission_bps, settings.slippage_bps) == (Decimal(2), Decimal("0.5"))


@pytest.mark.parametrize(("field", "raw", "hint"), [
    ("default_cash", "1e-999999999", "more than 9 decimal places"),
    ("default_cash", "1e400", "above the maximum 1000000000000000 for an amount of cash"),
    ("default_cash", "NaN", "finite"),
    ("default_cash", "-5", "must be >= 0"),
    ("commission_min", "1_000", "not a decimal number"),
    ("commission_bps", "20000", "above the maximum 10000 for basis points"),
    ("slippage_bps", "Infinity", "finite"),
])
def test_a_number_setting_outside_its_bounds_names_the_setting(field: str, raw: str,
                                                               hint: str) -> None:
    with pytest.raises(ValidationError) as err:
        Settings(**{field: raw})  # type: ignore[arg-type]
    assert f"{field}: " in str(err.value)
    assert hint in str(err.value)
