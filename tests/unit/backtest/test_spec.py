"""A backtest spec refuses bad input naming the field, and round-trips through JSON."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mcp_trading.backtest.spec import BacktestSpec
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.models import CommissionModel, SlippageModel


def _spec(**changes: object) -> BacktestSpec:
    raw: dict[str, object] = {"strategy": "sma_crossover", "symbols": "aapl, msft",
                              "start": "2010-01-01", "end": "2011-01-01", **changes}
    return BacktestSpec.from_dict(raw)


def test_loose_input_is_normalised() -> None:
    spec = _spec(cash="2500.50", params={"fast": "5"})
    assert spec.symbols == ("AAPL", "MSFT")
    assert spec.start == date(2010, 1, 1) and spec.cash == Decimal("2500.50")
    assert spec.params == {"fast": "5"}


def test_start_after_end_is_refused() -> None:
    with pytest.raises(InvalidError, match="start 2012-01-01 is after end 2011-01-01") as info:
        _spec(start="2012-01-01")
    assert info.value.field == "start"


def test_an_unknown_timeframe_lists_the_known_ones() -> None:
    with pytest.raises(InvalidError, match="timeframe '2Day' is unknown; use one of 1Min") as info:
        _spec(timeframe="2Day")
    assert info.value.field == "timeframe"


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"symbols": ""}, "symbols", "required"),
    ({"symbols": [" "]}, "symbols", "non-empty"),
    ({"start": "01/02/2010"}, "start", "YYYY-MM-DD"),
    ({"cash": "-5"}, "cash", "cash"),
    ({"limits": "some"}, "limits", "'none', 'live'"),
    ({"limits": {"max_order_qty": "0"}}, "max_order_qty", "max_order_qty"),
    ({"limits": {"bogus": 1}}, "bogus", "unknown limit"),
    ({"slippage": {"bps": "-1"}}, "slippage.bps", "slippage.bps"),
    ({"colour": "red"}, "colour", "not a backtest field"),
])
def test_bad_fields_are_named(changes: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(InvalidError, match=words) as info:
        _spec(**changes)
    assert info.value.field == field


def test_the_json_form_round_trips() -> None:
    spec = _spec(commission={"per_share": "0.005", "minimum": "1"}, slippage={"bps": "2.5"},
                 limits={"max_order_qty": "500"}, allow_short=True, source="sample")
    again = BacktestSpec.from_dict(spec.as_dict())
    assert again == spec
    assert again.commission == CommissionModel(per_share=Decimal("0.005"), minimum=Decimal(1))
    assert again.slippage == SlippageModel(bps=Decimal("2.5"))
