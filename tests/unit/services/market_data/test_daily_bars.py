"""Live 1Day bars: one per trading session, named like the history store's daily bars."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_trading.adapters.calendars import NyseCalendar
from mcp_trading.adapters.history import BarColumns
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.services.market_data.bar_query import _price_texts, columns_view, price_text
from mcp_trading.services.market_data.bars import Bar, rollup, session_day_start
from mcp_trading.services.views import iso


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9


def minute(at: str, price: str) -> Bar:
    p = Decimal(price)
    return Bar("AAPL", ns(at), p, p, p, p, 1)


def test_nyse_minutes_roll_into_their_session_named_by_midnight_in_new_york() -> None:
    day = session_day_start(NyseCalendar(start="2024-01-01", end="2024-12-31"))
    bars = [minute("2024-03-08T14:30:00", "10"), minute("2024-03-08T20:59:00", "12"),
            minute("2024-03-08T22:00:00", "99"),  # after the close: not in the daily bar
            minute("2024-03-11T13:30:00", "11"),  # first session after the DST change
            minute("2024-03-11T19:59:00", "9")]
    out = rollup(bars, "1Day", day_start=day)
    assert [(b.ts, b.open, b.high, b.low, b.close, b.n) for b in out] == [
        (ns("2024-03-08T05:00:00"), 10, 12, 10, 12, 2),  # EST
        (ns("2024-03-11T04:00:00"), 11, 11, 9, 9, 2)]  # EDT


def test_always_open_days_are_utc_days() -> None:
    out = rollup([minute("2026-01-01T23:59:00", "1"), minute("2026-01-02T00:00:00", "2")],
                 "1Day", day_start=session_day_start(AlwaysOpen()))
    assert [b.ts for b in out] == [ns("2026-01-01T00:00:00"), ns("2026-01-02T00:00:00")]


def test_a_daily_rollup_needs_the_session_rule() -> None:
    with pytest.raises(ValueError, match="day_start"):
        rollup([minute("2026-01-01T00:00:00", "1")], "1Day")


@pytest.mark.parametrize(("value", "text"), [
    (30.57, "30.57"), (127.0, "127.0"), (0.0001, "0.0001"), (1e-05, "0.00001"),
    (213.43 * (27.503267796595 / 214.01) / 213.43 * 214.01, "27.503267796595"),
    (0.1 + 0.2, "0.3")])
def test_prices_are_written_without_float_noise(value: float, text: str) -> None:
    assert price_text(value) == text


def test_the_history_view_writes_times_as_every_other_view_does() -> None:
    ts = np.array([1_262_581_200_000_000_000, 1_767_225_600_123_456_789], dtype=np.int64)
    one = np.ones(2)
    view = columns_view(BarColumns(ts, one * 30.57, one, one, one, np.array([5.0, np.nan]),
                                   one))
    assert [b["t"] for b in view] == [iso(int(t)) for t in ts]
    assert [(b["o"], b["v"], b["n"]) for b in view] == [("30.57", "5", None),
                                                      ("30.57", None, None)]


def test_the_column_wise_view_writes_each_value_as_price_text_does() -> None:
    # clean prices, float noise (an adjusted price), scientific-notation magnitudes, NaN volume
    prices = np.array([30.57, 0.1 + 0.2, 213.43 * 0.1437, 5e-05, 1.5e16, 0.0])
    volumes = np.array([17633200.0, np.nan, 2.5, 0.0, 1e20, 7.0])
    ts = np.arange(6, dtype=np.int64) * 86_400_000_000_000
    view = columns_view(BarColumns(ts, prices, prices, prices, prices, volumes, prices))
    assert [b["c"] for b in view] == [price_text(x) for x in prices.tolist()]
    assert [b["v"] for b in view] == ["17633200", None, "2.5", "0", "100000000000000000000", "7"]
    clean = columns_view(BarColumns(ts[:1], prices[:1], prices[:1], prices[:1], prices[:1],
                                    volumes[:1], prices[:1]))
    assert clean[0] == {"t": "1970-01-01T00:00:00.000000Z", "o": "30.57", "h": "30.57",
                        "l": "30.57", "c": "30.57", "v": "17633200", "n": None}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**11), st.integers(0, 4)), min_size=1, max_size=40))
def test_prices_of_a_few_decimals_read_as_price_text_writes_them(ticks: list[tuple[int, int]]
                                                                 ) -> None:
    # a column of decimals with up to 4 places (cents, ticks): the integer path's texts
    prices = np.array([float(Decimal(k).scaleb(-p)) for k, p in ticks])
    assert _price_texts(prices) == [price_text(x) for x in prices.tolist()]


@pytest.mark.parametrize("column", [
    [0.0, 0.0001, 30.57, 127.0, 99_999_999_999.9999],  # integer path, its edges
    [30.57, 30.12345],  # a fifth decimal: the general path for the column
    [30.57, -0.0], [30.57, -1.25], [30.57, 1e15], [30.57, 213.43 * 0.1437], [1e300, 2.5]])
def test_every_column_reads_as_price_text_writes_its_values(column: list[float]) -> None:
    prices = np.array(column)
    assert _price_texts(prices) == [price_text(x) for x in column]
