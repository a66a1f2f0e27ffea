"""Risk limits: every limit is parsed with its stated bounds; journaled limits always load."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import pytest

from mcp_trading.domain.risk import LIMIT_BOUNDS, InvalidLimitError, RiskLimits, fmt_money

D = Decimal


def test_every_limit_has_its_bounds() -> None:
    assert set(LIMIT_BOUNDS) == {f.name for f in fields(RiskLimits) if f.init}


@pytest.mark.parametrize("name", sorted(LIMIT_BOUNDS))
@pytest.mark.parametrize(("raw", "hint"), [
    ("1e-999999999", "decimal places|whole number"),  # a count has no places at all
    ("1e400", "above the maximum"),
    (1e308, "above the maximum"),
    ("1E+999999999999999999", "above the maximum"),
    ("9" * 5000, "5000 characters long"),
    ("NaN", "finite"),
    ("Infinity", "finite"),
    (True, "bool"),
    (0, "must be > 0"),
    ("-1", "must be > 0"),
])
def test_a_limit_outside_its_bounds_is_refused_naming_it(name: str, raw: object, hint: str) -> None:
    with pytest.raises(InvalidLimitError) as err:
        RiskLimits().updated({name: raw})
    assert err.value.field == name
    assert err.value.code == "INVALID_LIMIT"
    assert any(h in str(err.value) for h in hint.split("|")), str(err.value)
    assert len(str(err.value)) < 400


@pytest.mark.parametrize(("name", "raw", "hint"), [
    ("price_collar_pct", "150", "above the maximum 100 for a percentage"),
    ("max_drawdown_pct", 100.5, "above the maximum 100"),
    ("max_quote_age_s", "86401", "above the maximum 86400 for a number of seconds"),
    ("max_orders_per_second", "2.5", "whole number"),
    ("max_order_notional", "1e16", "above the maximum 1000000000000000 for an amount"),
])
def test_each_kind_of_limit_has_its_own_bound(name: str, raw: object, hint: str) -> None:
    with pytest.raises(InvalidLimitError, match=hint):
        RiskLimits().updated({name: raw})


def test_limits_within_bounds_are_parsed_exactly() -> None:
    limits = RiskLimits().updated({"max_order_qty": "500", "max_order_notional": 1e6,
                                   "max_quote_age_s": "0.5", "max_orders_per_second": "10",
                                   "price_collar_pct": "2.5"})
    assert limits.max_order_qty == D(500)
    assert limits.max_order_notional == D(1_000_000)
    assert limits.max_quote_age_ns == 500_000_000
    assert limits.max_orders_per_second == 10
    assert limits.price_collar_pct == D("2.5")


def test_journaled_limits_load_even_outside_todays_bounds() -> None:
    """An older release accepted 1e400; recovery must never refuse what the journal holds."""
    limits = RiskLimits.from_wire({"max_order_qty": "1E+400", "max_orders_per_second": "3",
                                   "daily_loss_limit": None})
    assert limits.max_order_qty == D("1e400")
    assert limits.max_orders_per_second == 3
    assert RiskLimits.from_wire(limits.to_wire()) == limits


def test_fmt_money_is_short_for_any_value() -> None:
    assert fmt_money(D("1234.5")) == "1,234.50 USD"
    assert len(fmt_money(D("1E+999999999"))) < 40
    assert len(fmt_money(D("1e-999999999"))) < 40
