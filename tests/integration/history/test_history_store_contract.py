"""The HistoryStore contract, run identically on the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcp_trading.adapters.history import (
    BarColumns,
    HistoryInstrument,
    HistoryStore,
    SeriesRange,
    UpsertCounts,
    open_history_store,
)
from mcp_trading.domain.errors import InvalidError

DAY = 86_400_000_000_000
T0 = 1_262_322_000_000_000_000  # 2010-01-01T05:00:00Z: midnight in New York


def bars(days: list[int], closes: list[float], *, volume: list[float] | None = None,
         adj: list[float] | None = None) -> BarColumns:
    """Daily bars on day offsets from T0, open = low = close - 1, high = close + 1."""
    c = np.array(closes, dtype=np.float64)
    n = len(days)
    return BarColumns(
        T0 + np.array(days, dtype=np.int64) * DAY, c - 1, c + 1, c - 1, c,
        np.array(volume if volume is not None else [1000.0] * n, dtype=np.float64),
        np.array(adj if adj is not None else [math.nan] * n, dtype=np.float64))


def write(store: HistoryStore, data: BarColumns, *, symbol: str = "AAPL",
          source: str = "import:aapl", timeframe: str = "1Day") -> UpsertCounts:
    with store.writer() as writer:
        writer.add(symbol, source, timeframe, data)
    return writer.counts


def test_a_first_import_inserts_every_bar(history: HistoryStore) -> None:
    assert write(history, bars([0, 1, 2], [10, 11, 12])) == UpsertCounts(3, 0, 0)

    read = history.read("AAPL", "import:aapl", "1Day")
    assert read.ts.tolist() == [T0, T0 + DAY, T0 + 2 * DAY]
    assert read.close.tolist() == [10.0, 11.0, 12.0]
    assert read.high.tolist() == [11.0, 12.0, 13.0]


def test_reimporting_the_same_bars_changes_nothing_and_says_so(history: HistoryStore) -> None:
    data = bars([0, 1, 2], [10, 11, 12], volume=[5, math.nan, 7])
    write(history, data)

    assert write(history, data) == UpsertCounts(0, 0, 3)
    assert history.series("AAPL")[0].bars == 3


def test_a_corrected_bar_is_updated_and_new_ones_inserted(history: HistoryStore) -> None:
    write(history, bars([0, 1, 2], [10, 11, 12]))

    counts = write(history, bars([1, 2, 3], [11, 12.5, 13]))

    assert counts == UpsertCounts(inserted=1, updated=1, unchanged=1)
    assert history.read("AAPL", "import:aapl", "1Day").close.tolist() == [10, 11, 12.5, 13]


def test_counts_within_one_write_see_its_earlier_adds(history: HistoryStore) -> None:
    with history.writer() as writer:
        writer.add("AAPL", "import:aapl", "1Day", bars([0, 1], [10, 11]))
        writer.add("AAPL", "import:aapl", "1Day", bars([1, 2], [11, 12]))

    assert writer.counts == UpsertCounts(inserted=3, updated=0, unchanged=1)


def test_an_exception_inside_the_write_stores_none_of_it(history: HistoryStore) -> None:
    write(history, bars([0], [10]))

    with pytest.raises(ValueError, match="row 3"), history.writer() as writer:
        writer.add("AAPL", "import:aapl", "1Day", bars([0, 1], [99, 11]))
        writer.add("MSFT", "import:msft", "1Day", bars([0], [20]))
        raise ValueError("row 3: bad date")

    assert history.read("AAPL", "import:aapl", "1Day").close.tolist() == [10.0]
    assert [s.symbol for s in history.series()] == ["AAPL"]


def test_readers_see_nothing_of_a_write_before_it_commits(history: HistoryStore) -> None:
    with history.writer() as writer:
        writer.add("AAPL", "import:aapl", "1Day", bars([0, 1], [10, 11]))
        assert history.read("AAPL", "import:aapl", "1Day").size == 0

    assert history.read("AAPL", "import:aapl", "1Day").size == 2


def test_reads_by_range_limit_and_latest(history: HistoryStore) -> None:
    write(history, bars(list(range(10)), [float(10 + d) for d in range(10)]))

    def closes(**kwargs: object) -> list[float]:
        return history.read("AAPL", "import:aapl", "1Day", **kwargs).close.tolist()  # type: ignore[arg-type]

    assert closes(start=T0 + 2 * DAY, end=T0 + 4 * DAY) == [12, 13, 14]  # both ends inclusive
    assert closes(start=T0 + 8 * DAY) == [18, 19]
    assert closes(end=T0) == [10]
    assert closes(limit=3) == [10, 11, 12]
    assert closes(limit=3, latest=True) == [17, 18, 19]  # the latest, still ascending
    assert closes(start=T0 + 2 * DAY, end=T0 + 6 * DAY, limit=2, latest=True) == [15, 16]
    assert closes(start=T0 + 20 * DAY) == []
    assert closes(limit=0) == []


def test_sources_and_timeframes_are_separate_series(history: HistoryStore) -> None:
    write(history, bars([0, 1], [10, 11]))
    write(history, bars([0], [50]), source="alphavantage")
    write(history, bars([0, 1, 2], [1, 2, 3]), timeframe="1Min")

    assert history.read("AAPL", "alphavantage", "1Day").close.tolist() == [50.0]
    assert history.read("AAPL", "import:aapl", "1Day").close.tolist() == [10.0, 11.0]
    assert history.read("AAPL", "sample", "1Day").size == 0


def test_series_ranges_are_ordered_and_filter_by_symbol(history: HistoryStore) -> None:
    write(history, bars([3, 4, 9], [1, 2, 3]), symbol="MSFT", source="sample")
    write(history, bars([0, 1], [10, 11]))
    write(history, bars([5], [10]), source="alphavantage")

    assert history.series() == [
        SeriesRange("AAPL", "alphavantage", "1Day", T0 + 5 * DAY, T0 + 5 * DAY, 1),
        SeriesRange("AAPL", "import:aapl", "1Day", T0, T0 + DAY, 2),
        SeriesRange("MSFT", "sample", "1Day", T0 + 3 * DAY, T0 + 9 * DAY, 3),
    ]
    assert [s.source for s in history.series("AAPL")] == ["alphavantage", "import:aapl"]
    assert history.series("IBM") == []


def test_delete_of_one_source_or_every_source(history: HistoryStore) -> None:
    write(history, bars([0, 1], [10, 11]))
    write(history, bars([0, 1, 2], [10, 11, 12]), source="alphavantage")
    write(history, bars([0], [20]), symbol="MSFT")

    assert history.delete("AAPL", "alphavantage") == 3
    assert [s.source for s in history.series("AAPL")] == ["import:aapl"]
    assert history.delete("AAPL") == 2
    assert history.delete("AAPL") == 0
    assert [s.symbol for s in history.series()] == ["MSFT"]


def test_nan_volume_and_adjustment_round_trip(history: HistoryStore) -> None:
    write(history, bars([0, 1], [10, 11], volume=[math.nan, 1_000_000], adj=[0.5, math.nan]))

    read = history.read("AAPL", "import:aapl", "1Day")
    assert math.isnan(read.volume[0]) and read.volume[1] == 1_000_000
    assert read.adj_factor[0] == 0.5 and math.isnan(read.adj_factor[1])


@pytest.mark.parametrize("price", ["30.57", "118.56", "0.0001", "1234.5678", "0.1"])
def test_prices_come_back_as_the_text_they_were_imported_as(history: HistoryStore,
                                                            price: str) -> None:
    write(history, bars([0], [float(price)]))

    assert repr(float(history.read("AAPL", "import:aapl", "1Day").close[0])) == price


def test_bars_out_of_order_or_not_finite_are_refused(history: HistoryStore) -> None:
    with history.writer() as writer:
        with pytest.raises(InvalidError, match="ascend"):
            writer.add("AAPL", "import:aapl", "1Day", bars([1, 0], [10, 11]))
        with pytest.raises(InvalidError, match="open nan"):
            writer.add("AAPL", "import:aapl", "1Day", bars([0], [math.nan]))
        with pytest.raises(InvalidError, match="timeframe"):
            writer.add("AAPL", "import:aapl", "2Day", bars([0], [10]))

    assert history.series() == []


def test_a_bad_read_is_an_invalid_error(history: HistoryStore) -> None:
    with pytest.raises(InvalidError, match="timeframe"):
        history.read("AAPL", "import:aapl", "1Week")
    with pytest.raises(InvalidError, match="limit"):
        history.read("AAPL", "import:aapl", "1Day", limit=-1)


def test_instruments_keep_their_first_registration(history: HistoryStore) -> None:
    first = HistoryInstrument("AAPL", "0.01", "1", "sample", 1)
    history.register_instruments([first, HistoryInstrument("IBM", "0.01", "1", "sample", 2)])
    history.register_instruments([HistoryInstrument("AAPL", "0.05", "10", "import:x", 3)])

    assert [i.symbol for i in history.instruments()] == ["AAPL", "IBM"]
    assert history.instruments()[0] == first


def test_a_reopened_store_keeps_bars_and_instruments(durable_history_url: str) -> None:
    store = open_history_store(durable_history_url)
    write(store, bars([0, 1], [30.57, 118.56], volume=[math.nan, 3]))
    store.register_instruments([HistoryInstrument("AAPL", "0.01", "1", "sample", 1)])
    store.close()

    reopened = open_history_store(durable_history_url, migrate=False)
    try:
        read = reopened.read("AAPL", "import:aapl", "1Day")
        assert read.close.tolist() == [30.57, 118.56] and math.isnan(read.volume[0])
        assert reopened.instruments() == [HistoryInstrument("AAPL", "0.01", "1", "sample", 1)]
    finally:
        reopened.close()


def test_series_ranges_follow_writes_from_another_connection_or_process(
        durable_history_url: str) -> None:
    # a second store on the same database stands for another process (an import's CLI)
    reader, other = open_history_store(durable_history_url), open_history_store(durable_history_url)
    try:
        write(reader, bars([0, 1], [10.0, 11.0]))
        assert [(s.symbol, s.bars) for s in reader.series("AAPL")] == [("AAPL", 2)]
        assert reader.series("AAPL") == reader.series("AAPL")  # asked again: the same answer
        write(other, bars([2, 3, 4], [12.0, 13.0, 14.0]))
        assert [s.bars for s in reader.series("AAPL")] == [5]
        assert reader.series("AAPL")[0].last == T0 + DAY * 4
        write(other, bars([0], [10.0]), symbol="MSFT")
        assert [s.symbol for s in reader.series()] == ["AAPL", "MSFT"]
        other.delete("AAPL")
        assert reader.series("AAPL") == []
        write(reader, bars([7], [9.0]))  # this store's own write
        assert [s.bars for s in reader.series("AAPL")] == [1]
    finally:
        reader.close()
        other.close()


def test_a_repeated_read_follows_writes_from_another_process_and_is_the_callers_own(
        durable_history_url: str) -> None:
    reader, other = open_history_store(durable_history_url), open_history_store(durable_history_url)
    try:
        write(reader, bars([0, 1], [10.0, 11.0]))
        first = reader.read("AAPL", "import:aapl", "1Day")
        first.close[:] = -1.0  # a caller scribbling on its answer changes no later answer
        assert reader.read("AAPL", "import:aapl", "1Day").close.tolist() == [10.0, 11.0]
        write(other, bars([1, 2], [21.0, 12.0]))  # an update and an insert, elsewhere
        assert reader.read("AAPL", "import:aapl", "1Day").close.tolist() == [10.0, 21.0, 12.0]
        other.delete("AAPL")
        assert reader.read("AAPL", "import:aapl", "1Day").size == 0
    finally:
        reader.close()
        other.close()
