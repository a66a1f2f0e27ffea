"""NYSE sessions from exchange_calendars, the always-open calendar, lookup by name."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from mcp_trading.adapters.calendars import (
    CalendarRangeError,
    NyseCalendar,
    calendar_by_name,
)
from mcp_trading.domain.sessions import AlwaysOpen

NY = ZoneInfo("America/New_York")
NS = 1_000_000_000


def ns(iso: str, tz: ZoneInfo = NY) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=tz).timestamp()) * NS


def ny_time(ts: int) -> str:
    return datetime.fromtimestamp(ts // NS, tz=NY).strftime("%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def nyse() -> NyseCalendar:
    return NyseCalendar(start="2024-01-02", end="2026-12-31")


def test_regular_day_open_at_midday(nyse: NyseCalendar) -> None:
    s = nyse.session_at(ns("2025-06-04T12:00"))
    assert s.day == "2025-06-04"
    assert (ny_time(s.open_ns), ny_time(s.close_ns)) == ("2025-06-04 09:30", "2025-06-04 16:00")


def test_before_the_open_gives_that_days_session(nyse: NyseCalendar) -> None:
    assert nyse.session_at(ns("2025-06-04T04:00")).day == "2025-06-04"


def test_at_the_close_gives_the_next_session(nyse: NyseCalendar) -> None:
    close = nyse.session_at(ns("2025-06-04T12:00")).close_ns
    assert nyse.session_at(close - 1).day == "2025-06-04"
    assert nyse.session_at(close).day == "2025-06-05"


def test_christmas_has_no_session_next_is_the_26th(nyse: NyseCalendar) -> None:
    s = nyse.session_at(ns("2025-12-25T11:00"))
    assert s.day == "2025-12-26"
    assert ny_time(s.open_ns) == "2025-12-26 09:30"


def test_day_after_thanksgiving_closes_early_at_1300(nyse: NyseCalendar) -> None:
    s = nyse.session_at(ns("2025-11-28T10:00"))
    assert s.day == "2025-11-28"
    assert ny_time(s.close_ns) == "2025-11-28 13:00"
    after = nyse.session_at(ns("2025-11-28T13:30"))
    assert after.day == "2025-12-01"  # Monday: the early close is over


def test_weekend_maps_to_mondays_session(nyse: NyseCalendar) -> None:
    s = nyse.session_at(ns("2025-06-07T12:00"))  # Saturday
    assert s.day == "2025-06-09"
    assert ny_time(s.open_ns) == "2025-06-09 09:30"


def test_cached_answers_match_the_library_in_any_order(nyse: NyseCalendar) -> None:
    import exchange_calendars

    lib = exchange_calendars.get_calendar("XNYS", start="2024-01-02", end="2026-12-31")
    closes = lib.closes_nanos.tolist()
    start = ns("2025-11-24T08:00")
    times = [start + i * 1800 * NS for i in range(14 * 48)]  # two weeks, 30-minute steps
    for ts in [*times, *reversed(times), *times[::7]]:
        i = next(k for k, c in enumerate(closes) if c > ts)
        got = nyse.session_at(ts)
        assert (got.open_ns, got.close_ns) == (lib.opens_nanos[i], closes[i])
        assert got.day == lib.sessions[i].date().isoformat()


def test_outside_the_loaded_window_raises(nyse: NyseCalendar) -> None:
    with pytest.raises(CalendarRangeError, match="outside the NYSE schedule"):
        nyse.session_at(ns("2027-06-01T12:00"))
    with pytest.raises(CalendarRangeError, match="outside the NYSE schedule"):
        nyse.session_at(ns("2023-06-01T12:00"))
    assert nyse.bounds() == ("2024-01-02", "2026-12-31")


def test_importing_the_module_does_not_import_pandas() -> None:
    code = "import sys, mcp_trading.adapters.calendars; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_always_open_days_are_utc_days() -> None:
    cal = calendar_by_name("always_open")
    assert isinstance(cal, AlwaysOpen)
    s = cal.session_at(ns("2025-12-25T23:30", ZoneInfo("UTC")))
    assert s.day == "2025-12-25"
    assert s.open_ns == ns("2025-12-25T00:00", ZoneInfo("UTC"))
    assert s.close_ns == ns("2025-12-26T00:00", ZoneInfo("UTC"))
    assert datetime.fromtimestamp(s.open_ns // NS, tz=UTC).hour == 0


def test_calendar_by_name_nyse_and_unknown() -> None:
    assert calendar_by_name("nyse").name == "nyse"
    with pytest.raises(ValueError, match=r"'lse'.*always_open, nyse"):
        calendar_by_name("lse")


def test_a_reversed_window_is_a_clear_error() -> None:
    with pytest.raises(CalendarRangeError, match="cannot build the NYSE calendar"):
        NyseCalendar(start="2025-01-01", end="2024-01-01").bounds()
