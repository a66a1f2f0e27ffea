"""Bounded decimals: the parser, the increment rule and the bounded text of domain/numbers.py."""

from __future__ import annotations

import time
from decimal import Decimal, Inexact, Rounded, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_trading.domain.errors import InvalidOrderError
from mcp_trading.domain.numbers import (
    CASH,
    COUNT,
    MAX_DIGITS,
    MAX_PLACES,
    MAX_TEXT,
    MONEY,
    PERCENT,
    PRICE,
    QUANTITY,
    is_multiple,
    parse_decimal,
    text_at,
    to_text,
)
from mcp_trading.domain.risk import InvalidLimitError

D = Decimal
BIG = "1" + "0" * 4999


def _refused(raw: object, hint: str, bounds=PRICE) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidOrderError) as err:
        parse_decimal("limit_price", raw, bounds)
    message = str(err.value)
    assert err.value.field == "limit_price"
    assert message.startswith("limit_price: ")
    assert hint in message, message
    assert len(message) < 400, "the message never echoes a huge input"
    return message


@pytest.mark.parametrize(("raw", "expected"), [
    ("100.25", D("100.25")),
    ("90.00", D("90.00")),
    (100, D(100)),
    (100.25, D("100.25")),
    (0.1, D("0.1")),  # a float's shortest text, not its binary expansion
    ("1e3", D(1000)),
    ("1.5E+2", D(150)),
    ("+5", D(5)),
    (".5", D("0.5")),
    ("5.", D(5)),
    ("0.000000001", D("1e-9")),
    ("1000000000", D("1e9")),  # the maximum itself
    ("123456789.123456789", D("123456789.123456789")),  # 18 digits
    ("1.0000000000000000000000000000", D(1)),  # zeros past 9 places are dropped, not refused
    (D("2.50"), D("2.50")),
])
def test_parse_accepts_plain_numbers_within_bounds(raw: object, expected: Decimal) -> None:
    assert parse_decimal("limit_price", raw, PRICE) == expected


def test_parse_keeps_the_clients_scale_within_places() -> None:
    assert str(parse_decimal("limit_price", "90.00", PRICE)) == "90.00"
    assert str(parse_decimal("limit_price", "1.50000000000000", PRICE)) == "1.5"


def test_a_parsed_value_has_a_canonical_exponent() -> None:
    for raw in ("1e5", "1.000000000000000", "7E+2", "0.50"):
        exponent = parse_decimal("qty", raw, QUANTITY).as_tuple().exponent
        assert isinstance(exponent, int) and -MAX_PLACES <= exponent <= 0


@pytest.mark.parametrize(("raw", "hint"), [
    ("1e-999999999", "more than 9 decimal places"),  # the frozen platform
    ("1.5e-9", "more than 9 decimal places"),
    ("0.0000000001", "multiple of 0.000000001"),
    (1e-300, "more than 9 decimal places"),
    ("1e400", "above the maximum 1000000000 for a price"),
    (1e308, "above the maximum 1000000000"),
    ("1E+999999999999999999", "above the maximum"),
    ("0e1000000000000000000", "out of range"),  # past libmpdec's own exponent limit
    ("1000000000.000000001", "above the maximum"),
    ("1234567890.12345678", "above the maximum"),
    pytest.param(BIG, f"at most {MAX_TEXT}", id="str-of-5000-digits"),
    pytest.param(10**4999, "out of range", id="int-of-5000-digits"),
    (2**64, "out of range"),
    ("1" * 41, f"at most {MAX_TEXT}"),
    ("NaN", "finite"),
    ("-Infinity", "finite"),
    ("inf", "finite"),
    ("sNaN", "finite"),
    (float("nan"), "finite"),
    (float("inf"), "finite"),
    (D("NaN"), "finite"),
    ("1_000", "'1_000' is not a decimal number"),
    (" 1 ", "not a decimal number"),
    ("0x10", "not a decimal number"),
    ("\u0661\u0662", "not a decimal number"),  # Arabic-Indic digits Decimal() would accept
    ("\uff11", "not a decimal number"),  # a fullwidth one
    ("", "not a decimal number"),
    (".", "not a decimal number"),
    ("1e", "not a decimal number"),
    ("1,000", "not a decimal number"),
    ("0", "must be > 0"),
    ("-0", "must be > 0"),
    (-0.0, "must be > 0"),
    ("0E-999999999", "must be > 0"),
    ("-5", "must be > 0"),
    (True, "bool"),
    ([1], "list"),
    (None, "NoneType"),
])
def test_parse_refuses_with_the_field_and_the_bound(raw: object, hint: str) -> None:
    _refused(raw, hint)


def test_more_than_18_significant_digits_are_refused() -> None:
    # a price or quantity cannot reach 19 digits within 1e9 and 9 places; money can
    message = _refused("123456789012.1234567", f"more than {MAX_DIGITS} significant digits",
                       bounds=MONEY)
    assert "<= 1000000000000000, at most 9 decimal places" in message  # the bound is stated
    assert parse_decimal("limit", "123456789012.123456", MONEY) == D("123456789012.123456")


def test_a_5000_character_string_is_refused_without_reading_it() -> None:
    hostile = "9" * 5_000_000
    started = time.perf_counter()
    for _ in range(1000):
        with pytest.raises(InvalidOrderError):
            parse_decimal("qty", hostile, QUANTITY)
    assert time.perf_counter() - started < 0.5  # ~1 us each: only its length was looked at


def test_kinds_have_their_own_bounds() -> None:
    assert parse_decimal("trail_percent", "99.5", PERCENT) == D("99.5")
    with pytest.raises(InvalidOrderError, match="above the maximum 100 for a percentage"):
        parse_decimal("trail_percent", "100.5", PERCENT)
    assert parse_decimal("cash", "0", CASH) == 0
    assert str(parse_decimal("cash", "-0.00", CASH)) == "0"  # zero is canonical
    assert parse_decimal("max_orders_per_second", "5.0", COUNT) == 5
    with pytest.raises(InvalidOrderError, match=r"must be a whole number, got 2\.5"):
        parse_decimal("max_orders_per_second", "2.5", COUNT)


def test_the_error_class_is_the_callers() -> None:
    with pytest.raises(InvalidLimitError) as err:
        parse_decimal("max_order_qty", "1e400", QUANTITY, error=InvalidLimitError)
    assert err.value.code == "INVALID_LIMIT"
    assert err.value.field == "max_order_qty"


def test_parse_ignores_the_threads_decimal_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 3  # a thread that asks for little precision and traps every rounding
        ctx.traps[Inexact] = ctx.traps[Rounded] = True
        assert parse_decimal("qty", "1.0000000000000", QUANTITY) == 1
        assert is_multiple(D("123456.78"), D("0.01"))


# ---- the increment rule ---------------------------------------------------------------------
@pytest.mark.parametrize(("value", "step", "expected"), [
    ("100.05", "0.05", True),
    ("100.03", "0.05", False),
    ("100.00", "0.01", True),
    ("100.005", "0.01", False),
    ("15", "10", False),
    ("30", "10", True),
    ("1.5", "0.5", True),
    ("1.25", "0.5", False),
    ("5", "0", True),  # no increment
    ("0", "0.01", True),
    ("1e-999999999", "0.01", False),  # underflowed to 0 in the default context: "on tick"
    ("1e-999999", "0.01", False),
    ("1e400", "0.01", True),  # DivisionImpossible in the default context
    ("1e400", "3", False),
    ("3e400", "3", True),
    ("1E+999999999999999999", "0.01", True),
    pytest.param(BIG, "0.01", True, id="5000-digits-on-0.01"),
    pytest.param(BIG + ".5", "1", False, id="5000-digits-and-a-half-on-1"),
    ("NaN", "1", False),
    ("Infinity", "0.01", False),
    ("1", "NaN", False),
    ("-0.05", "0.05", True),
])
def test_is_multiple_never_underflows_or_raises(value: str, step: str, expected: bool) -> None:
    assert is_multiple(D(value), D(step)) is expected


@given(st.integers(-10**12, 10**12), st.integers(1, 10**6), st.integers(-12, 12),
       st.integers(-12, 12))
def test_is_multiple_agrees_with_integer_arithmetic(v: int, s: int, a: int, b: int) -> None:
    value, step = D(v).scaleb(a), D(s).scaleb(b)
    # exact: value/step = v * 10^(a-b) / s
    num, den = (v * 10 ** (a - b), s) if a >= b else (v, s * 10 ** (b - a))
    assert is_multiple(value, step) is (num % den == 0)


# ---- bounded text -----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "text"), [
    ("123.45", "123.45"),
    ("90.00", "90.00"),
    ("1E+5", "100000"),
    ("1E-9", "0.000000001"),
    ("0E-9", "0"),
    ("-0.001", "-0.001"),
    ("NaN", "NaN"),
])
def test_to_text_is_fixed_point_for_sane_values(value: str, text: str) -> None:
    assert to_text(D(value)) == text


@pytest.mark.parametrize("value", [
    "1e-999999999", "1E+999999999999999999", "0E-999999999", "-1e-999999",
    pytest.param(BIG, id="5000-digits"), pytest.param("0." + "1" * 5000, id="5000-places")])
def test_to_text_of_an_absurd_value_is_short(value: str) -> None:
    text = to_text(D(value))
    assert len(text) <= 40, text
    assert D(text) == D(value) or len(D(value).as_tuple().digits) > MAX_DIGITS


def test_text_at_rounds_and_never_raises() -> None:
    assert text_at(D("1234.5678"), D("0.01")) == "1234.57"
    assert text_at(D("-0.001"), D("0.01")) == "0.00"  # not -0.00
    assert text_at(D("1e-999999999"), D("0.01")) == "0.00"
    assert text_at(D("1e30"), D("0.01")) == "1E+30"  # too large to round in 28 digits
    assert len(text_at(D(BIG), D("0.0001"))) <= 40
    assert text_at(D("Infinity"), D("0.01")) == "Infinity"


def test_public_surface() -> None:
    from mcp_trading.domain import numbers

    assert set(numbers.__all__) == {
        "BPS", "CASH", "COUNT", "MAX_DIGITS", "MAX_PLACES", "MAX_TEXT", "MONEY", "OUTPUT_EXP",
        "PERCENT", "PRICE", "QUANTITY", "SECONDS", "Bounds", "check_decimal", "is_multiple",
        "parse_decimal", "text_at", "to_text"}
