"""Bars: folding quotes into 1-minute bars, rolling them up, and storing them (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.domain.market import Quote
from mcp_trading.services.market_data.bars import (
    MAX_MINUTE_ROWS,
    MINUTE_NS,
    TIMEFRAMES,
    Bar,
    BarAggregator,
    SqlBarStore,
    max_limit,
    rollup,
)

T0 = 1_767_225_600 * 1_000_000_000  # 2026-01-01T00:00:00Z, a minute boundary
S = 1_000_000_000


def q(ts: int, last: str | None = None, *, symbol: str = "AAPL", bid: str = "100.00",
      ask: str = "100.02") -> Quote:
    return Quote(symbol, Decimal(bid), Decimal(ask), Decimal(100), Decimal(200),
                 None if last is None else Decimal(last), ts)


def bar(minute: int, o: str, h: str, low: str, c: str, n: int = 1, symbol: str = "AAPL") -> Bar:
    return Bar(symbol, T0 + minute * MINUTE_NS, Decimal(o), Decimal(h), Decimal(low), Decimal(c), n)


# ---- aggregation -------------------------------------------------------------------------
def test_quotes_in_one_minute_make_one_bar_of_marks_when_the_next_minute_starts() -> None:
    agg = BarAggregator()
    for i, last in enumerate(["100.10", "100.50", "99.90", "100.20"]):
        agg.on_quote(q(T0 + i * S, last))
    assert agg.completed("AAPL") == []
    assert agg.building("AAPL") == bar(0, "100.10", "100.50", "99.90", "100.20", 4)

    agg.on_quote(q(T0 + MINUTE_NS, "101.00"))

    assert agg.completed("AAPL") == [bar(0, "100.10", "100.50", "99.90", "100.20", 4)]
    assert agg.building("AAPL") == bar(1, "101.00", "101.00", "101.00", "101.00", 1)


def test_the_mark_is_the_mid_when_a_quote_has_no_last_trade() -> None:
    agg = BarAggregator()
    agg.on_quote(q(T0, None, bid="10.00", ask="10.04"))
    building = agg.building("AAPL")
    assert building is not None
    assert building.open == Decimal("10.02")
    assert building.volume is None  # quotes carry no traded volume


def test_a_symbol_that_stops_quoting_has_its_bar_closed_when_the_stream_moves_on() -> None:
    agg = BarAggregator()
    agg.on_quote(q(T0, "5.00", symbol="KO"))
    agg.on_quote(q(T0 + MINUTE_NS + S, "100.00"))

    assert agg.completed("KO") == [bar(0, "5.00", "5.00", "5.00", "5.00", symbol="KO")]
    assert agg.building("KO") is None


def test_a_late_quote_for_a_closed_minute_does_not_change_the_bar() -> None:
    agg = BarAggregator()
    agg.on_quote(q(T0, "100.00"))
    agg.on_quote(q(T0 + MINUTE_NS, "101.00"))
    agg.on_quote(q(T0 + 30 * S, "150.00"))  # late: minute 0 is final

    assert agg.completed("AAPL") == [bar(0, "100.00", "100.00", "100.00", "100.00")]
    assert agg.building("AAPL") == bar(1, "101.00", "101.00", "101.00", "101.00")


def test_memory_keeps_the_newest_bars_and_reports_what_it_covers() -> None:
    agg = BarAggregator(keep=3)
    for minute in range(6):
        agg.on_quote(q(T0 + minute * MINUTE_NS, f"{100 + minute}.00"))

    assert [b.ts for b in agg.completed("AAPL")] == [T0 + m * MINUTE_NS for m in (2, 3, 4)]
    assert agg.covered_from("AAPL") == T0 + 2 * MINUTE_NS
    assert agg.covered_from("MSFT") is None


def test_pending_bars_are_handed_out_once_and_can_be_put_back_after_a_failed_write() -> None:
    agg = BarAggregator()
    for minute in range(4):
        agg.on_quote(q(T0 + minute * MINUTE_NS, "100.00"))
    batch = agg.take_pending()
    assert [b.ts for b in batch] == [T0, T0 + MINUTE_NS, T0 + 2 * MINUTE_NS]
    assert agg.take_pending() == []

    agg.on_quote(q(T0 + 4 * MINUTE_NS, "100.00"))
    assert agg.restore_pending(batch) == 0
    assert [b.ts for b in agg.take_pending()] == [T0 + m * MINUTE_NS for m in range(4)]


def test_restoring_beyond_the_pending_limit_drops_the_oldest() -> None:
    agg = BarAggregator()
    bars = [bar(m, "1", "1", "1", "1") for m in range(5)]
    assert agg.restore_pending(bars, limit=3) == 2
    assert agg.take_pending() == bars[2:]


def test_keep_must_be_positive() -> None:
    with pytest.raises(ValueError, match="keep was 0"):
        BarAggregator(keep=0)


# ---- rollup ------------------------------------------------------------------------------
def test_rollup_aggregates_minutes_into_utc_aligned_buckets() -> None:
    minutes = [bar(3, "10", "12", "9", "11", 2), bar(4, "11", "15", "10", "14", 3),
               bar(5, "14", "14", "8", "9", 1), bar(7, "9", "10", "9", "10", 4)]

    assert rollup(minutes, "5Min") == [
        bar(0, "10", "15", "9", "14", 5),
        bar(5, "14", "14", "8", "10", 5),
    ]


def test_rollup_of_one_minute_bars_is_the_identity() -> None:
    minutes = [bar(0, "1", "2", "1", "2"), bar(1, "2", "3", "2", "3")]
    assert rollup(minutes, "1Min") == minutes


def test_rollup_sums_volume_only_when_every_bar_has_it() -> None:
    with_volume = [bar(0, "1", "1", "1", "1")._replace(volume=Decimal(5)),
                   bar(1, "1", "1", "1", "1")._replace(volume=Decimal(7))]
    assert rollup(with_volume, "5Min")[0].volume == Decimal(12)
    assert rollup([with_volume[0], bar(1, "1", "1", "1", "1")], "5Min")[0].volume is None


def test_the_limit_bounds_the_minute_rows_a_query_reads() -> None:
    assert max_limit("1Min") == 10_000
    assert max_limit("1Hour") == MAX_MINUTE_ROWS // 60
    assert all(max_limit(tf) * minutes <= MAX_MINUTE_ROWS for tf, minutes in TIMEFRAMES.items())


# ---- SQL store ---------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlBarStore]:
    """The `bars` table on each SQL backend, migrated to head."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bars.db'}"
    else:
        url = str(request.getfixturevalue("postgres_schema_url"))
    upgrade(url)
    store = SqlBarStore(create_store_engine(url))
    yield store
    store.dispose()


def test_stored_bars_read_back_exactly_first_or_latest(store: SqlBarStore) -> None:
    bars = [bar(m, "100.10", "100.123456789", "99.5", f"{100 + m}.01", m + 1) for m in range(5)]
    store.write([*bars, bar(0, "1", "1", "1", "1", symbol="MSFT")])

    assert store.read("AAPL", start=None, end=None, limit=10, latest=True) == bars
    assert store.read("AAPL", start=None, end=None, limit=2, latest=True) == bars[3:]
    assert store.read("AAPL", start=bars[1].ts, end=None, limit=2, latest=False) == bars[1:3]
    assert store.read("AAPL", start=bars[1].ts, end=bars[2].ts, limit=10, latest=False) == bars[1:3]


def test_writing_a_bar_twice_keeps_the_first(store: SqlBarStore) -> None:
    first = bar(0, "1", "2", "1", "2")
    store.write([first])
    store.write([first._replace(close=Decimal(9)), bar(1, "3", "3", "3", "3")])

    assert store.read("AAPL", start=None, end=None, limit=10, latest=False) == [
        first, bar(1, "3", "3", "3", "3")]


def test_writing_nothing_is_a_no_op(store: SqlBarStore) -> None:
    store.write([])
    assert store.read("AAPL", start=None, end=None, limit=10, latest=False) == []
