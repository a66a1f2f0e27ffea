"""The daily mark-to-market curve: cash, positions marked at each close, exposure, traded."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from mcp_trading.analytics.equity import build_equity_curve
from mcp_trading.analytics.trades import Fill
from mcp_trading.domain.errors import InvalidError

D = Decimal  # short for the many literals below

DAY = 86_400 * 10**9
CLOSES = [T0 := 1_600_000_000 * 10**9, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY]


def test_a_long_is_marked_at_each_close() -> None:
    fills = [Fill("AAPL", "buy", D(10), D(100), CLOSES[0] - 1000, D(1)),
             Fill("AAPL", "sell", D(10), D(104), CLOSES[2] - 1000, D(1))]
    curve = build_equity_curve(fills, CLOSES, {"AAPL": [D(101), D(99), D(105), D(106)]}, D(2000))
    assert curve.initial == 2000.0
    assert curve.equity.tolist() == [2009.0, 1989.0, 2038.0, 2038.0]
    assert curve.cash is not None and curve.cash.tolist() == [999.0, 999.0, 2038.0, 2038.0]
    assert curve.gross_exposure is not None
    assert curve.gross_exposure.tolist() == [1010.0, 990.0, 0.0, 0.0]
    assert curve.traded is not None and curve.traded.tolist() == [1000.0, 0.0, 1040.0, 0.0]


def test_a_short_adds_its_proceeds_to_cash_and_marks_negative() -> None:
    fills = [Fill("MSFT", "sell", D(5), D(50), CLOSES[0])]
    curve = build_equity_curve(fills, CLOSES[:2], {"MSFT": [48.5, 52.0]}, D(1000))
    assert curve.equity.tolist() == [1007.5, 990.0]
    assert curve.net_exposure is not None and curve.net_exposure.tolist() == [-242.5, -260.0]
    assert curve.gross_exposure is not None and curve.gross_exposure.tolist() == [242.5, 260.0]


def test_a_missing_close_keeps_the_last_mark_or_the_fill_price() -> None:
    fills = [Fill("IBM", "buy", D(2), D(100), CLOSES[0])]
    closes = {"IBM": [None, 110.0, math.nan, 120.0]}
    curve = build_equity_curve(fills, CLOSES, closes, D(200))
    assert curve.equity.tolist() == [200.0, 220.0, 220.0, 240.0]


def test_float_closes_are_read_as_written() -> None:
    fills = [Fill("AAPL", "buy", D(3), D("0.1"), CLOSES[0])]
    curve = build_equity_curve(fills, CLOSES[:1], {"AAPL": [0.1]}, D("0.3"))
    assert curve.equity.tolist() == [0.3]  # 0.3 - 0.3 + 3 x 0.1, in Decimal: exactly 0.3


def test_rows_are_json_ready() -> None:
    curve = build_equity_curve([], CLOSES[:2], {}, D(100))
    assert curve.rows()[0] == {"date": "2020-09-13", "ts": CLOSES[0], "equity": 100.0,
                               "cash": 100.0, "gross_exposure": 0.0, "net_exposure": 0.0,
                               "traded": 0.0}
    assert np.array_equal(curve.ts, np.array(CLOSES[:2]))


def test_a_fill_after_the_last_close_is_refused() -> None:
    with pytest.raises(InvalidError) as raised:
        build_equity_curve([Fill("AAPL", "buy", D(1), D(1), CLOSES[1] + 1)], CLOSES[:2], {}, D(10))
    assert raised.value.field == "fills"


@pytest.mark.parametrize(("days", "closes", "cash", "field"), [
    ([], {}, D(1), "days"),
    ([2, 1], {}, D(1), "days"),
    ([1, 2], {"AAPL": [1.0]}, D(1), "closes"),
    ([1], {}, D(-1), "cash"),
])
def test_bad_inputs_are_refused_naming_the_field(days: list[int], closes: dict[str, list[float]],
                                                 cash: D, field: str) -> None:
    with pytest.raises(InvalidError) as raised:
        build_equity_curve([], days, closes, cash)
    assert raised.value.field == field
