"""Roll-ups: epoch-aligned intraday buckets, and NYSE sessions as daily bars."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from mcp_trading.adapters.calendars import NyseCalendar
from mcp_trading.adapters.history import BarColumns, rollup
from mcp_trading.domain.errors import InvalidError
from mcp_trading.domain.sessions import AlwaysOpen

MIN = 60_000_000_000
NYSE = NyseCalendar(start="2023-01-01", end="2024-12-31")


def ns(text: str) -> int:
    """An ISO UTC time as ns since the epoch."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


def minutes(first: str, count: int, *, price: float = 100.0) -> BarColumns:
    """`count` 1-minute bars from `first` (UTC); bar i opens at price+i, closes at price+i+0.5."""
    ts = ns(first) + np.arange(count, dtype=np.int64) * MIN
    o = price + np.arange(count, dtype=np.float64)
    return BarColumns(ts, o, o + 1, o - 1, o + 0.5, np.full(count, 10.0), np.full(count, 0.5))


def concat(*parts: BarColumns) -> BarColumns:
    return BarColumns(*(np.concatenate(cols) for cols in zip(*parts, strict=True)))


def test_five_minute_buckets_align_on_epoch_multiples() -> None:
    bars = minutes("2024-03-08T14:32:00", 6)  # 14:32 .. 14:37

    out = rollup(bars, "1Min", "5Min")

    assert out.ts.tolist() == [ns("2024-03-08T14:30:00"), ns("2024-03-08T14:35:00")]
    assert out.open.tolist() == [100, 103]
    assert out.high.tolist() == [103, 106]  # max of highs
    assert out.low.tolist() == [99, 102]  # min of lows
    assert out.close.tolist() == [102.5, 105.5]  # last close
    assert out.volume.tolist() == [30, 30]


def test_a_bucket_with_an_unreported_volume_has_none() -> None:
    bars = minutes("2024-03-08T14:30:00", 10)
    bars.volume[7] = math.nan

    out = rollup(bars, "1Min", "5Min")

    assert out.volume[0] == 50 and math.isnan(out.volume[1])


def test_a_daily_bar_is_the_regular_session_at_new_york_midnight() -> None:
    # 2024-03-08 (EST): 09:00-16:30 New York = 14:00-21:30 UTC; the session is 14:30-21:00
    bars = minutes("2024-03-08T14:00:00", 450)

    out = rollup(bars, "1Min", "1Day", calendar=NYSE)

    assert out.ts.tolist() == [ns("2024-03-08T05:00:00")]  # midnight EST
    assert out.open[0] == 130  # the 14:30 bar, not the 14:00 one
    assert out.close[0] == 130 + 389 + 0.5  # the 20:59 bar, the last of 390
    assert out.volume[0] == 3900
    assert out.adj_factor[0] == 0.5


def test_a_daylight_saving_change_moves_the_session_and_midnight() -> None:
    # 2024-03-10 clocks went forward: Monday 11 March opens 13:30 UTC, midnight is 04:00 UTC
    friday = minutes("2024-03-08T14:30:00", 390, price=100)
    weekend = minutes("2024-03-09T15:00:00", 5, price=1)  # no session: dropped
    monday = minutes("2024-03-11T13:00:00", 60, price=500)  # 09:00-10:00 EDT

    out = rollup(concat(friday, weekend, monday), "1Min", "1Day", calendar=NYSE)

    assert out.ts.tolist() == [ns("2024-03-08T05:00:00"), ns("2024-03-11T04:00:00")]
    assert out.open.tolist() == [100, 530]  # Monday opens with the 13:30 UTC bar
    assert out.volume.tolist() == [3900, 300]


def test_an_early_close_ends_the_daily_bar_early() -> None:
    # 2023-11-24, the day after Thanksgiving: the NYSE closes at 13:00 EST (18:00 UTC)
    bars = minutes("2023-11-24T14:30:00", 390)

    out = rollup(bars, "1Min", "1Day", calendar=NYSE)

    assert out.ts.tolist() == [ns("2023-11-24T05:00:00")]
    assert out.close[0] == 100 + 209 + 0.5  # the 17:59 UTC bar: 210 minutes of session
    assert out.volume[0] == 2100


def test_an_always_open_day_is_the_utc_day() -> None:
    bars = minutes("2024-03-08T23:58:00", 4)  # two minutes each side of midnight UTC

    out = rollup(bars, "1Min", "1Day", calendar=AlwaysOpen())

    assert out.ts.tolist() == [ns("2024-03-08T05:00:00"), ns("2024-03-09T05:00:00")]
    assert out.volume.tolist() == [20, 20]


def test_a_timeframe_that_does_not_divide_is_refused() -> None:
    with pytest.raises(InvalidError, match="roll up"):
        rollup(minutes("2024-03-08T14:30:00", 2), "15Min", "5Min")
