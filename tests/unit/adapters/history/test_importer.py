"""Importing CSV and Parquet files into the bar store: layouts, refusals (file, row, reason,
nothing stored), duplicates, time order across batches, intraday timeframes, gaps."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mcp_trading.adapters.history import reading
from mcp_trading.adapters.history.importer import import_file
from mcp_trading.adapters.history.memory import MemoryHistoryStore
from mcp_trading.adapters.history.timestamps import day_starts
from mcp_trading.domain.errors import InvalidError

LONG = """Ticker,Date,Open,High,Low,Close,Volume,Adj Close
AAPL,2010-01-04,213.43,214.5,212.38,214.01,17633200,27.5
AAPL,2010-01-05,214.6,215.59,213.25,214.38,21496600,27.6
MSFT,2010-01-04,30.62,31.1,30.59,30.95,38409100,24.4
MSFT,2010-01-05,30.85,31.1,30.64,30.96,49749600,24.5
"""
YAHOO = """Date,Open,High,Low,Close,Adj Close,Volume
2010-01-04,213.43,214.5,212.38,214.01,27.5,17633200
2010-01-05,214.6,215.59,213.25,214.38,27.6,21496600
2010-01-06,214.38,215.23,210.75,210.97,27.2,19720000
"""


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _day(iso: str) -> int:
    return int(day_starts(pa.array([date.fromisoformat(iso)], type=pa.date32()))[0])


@pytest.fixture
def store() -> MemoryHistoryStore:
    return MemoryHistoryStore()


def _refused(store: MemoryHistoryStore, path: Path, **kw: object) -> InvalidError:
    with pytest.raises(InvalidError) as info:
        import_file(store, path, **kw)  # type: ignore[arg-type]
    assert store.series() == [], "a refused file stores nothing"
    assert store.instruments() == []
    assert str(path) in info.value.message
    return info.value


def test_the_long_layout_stores_each_symbol_with_its_adjustment_factor(store, tmp_path) -> None:
    summary = import_file(store, _file(tmp_path, "two.csv.gz", LONG))
    assert summary.layout == "long" and summary.symbols == ("AAPL", "MSFT")
    assert summary.source == "import:two.csv.gz" and summary.timeframe == "1Day"
    assert (summary.bars, summary.inserted) == (4, 4)
    bars = store.read("AAPL", "import:two.csv.gz", "1Day")
    assert bars.ts.tolist() == [_day("2010-01-04"), _day("2010-01-05")]
    assert bars.ts[0] == 1262581200 * 10**9  # midnight New York = 05:00 UTC in winter
    assert bars.close.tolist() == [214.01, 214.38]
    assert bars.adj_factor[0] == pytest.approx(27.5 / 214.01, rel=1e-15)


def test_a_yahoo_file_takes_its_symbol_from_the_name_or_from_symbol(store, tmp_path) -> None:
    path = _file(tmp_path, "aapl.csv", YAHOO)
    assert import_file(store, path).symbols == ("AAPL",)
    assert import_file(store, path, symbol="BRK.B", source="y").symbols == ("BRK.B",)
    assert store.read("BRK.B", "y", "1Day").size == 3


def test_headers_match_whatever_their_case_and_spaces(store, tmp_path) -> None:
    text = " date ,OPEN,high,Low,CLOSE,adj close,VOLUME\n2010-01-04,1,2,0.5,1.5,1.4,10\n"
    summary = import_file(store, _file(tmp_path, "X.csv", text))
    assert summary.layout == "single" and store.read("X", "import:X.csv", "1Day").size == 1


def test_an_alpha_vantage_csv_newest_first_is_stored_ascending(store, tmp_path) -> None:
    text = ("timestamp,open,high,low,close,volume\n2010-01-06,3,4,2,3.5,30\n"
            "2010-01-05,2,3,1,2.5,20\n2010-01-04,1,2,0.5,1.5,10\n")
    summary = import_file(store, _file(tmp_path, "IBM.csv", text))
    assert summary.layout == "alphavantage"
    bars = store.read("IBM", "import:IBM.csv", "1Day")
    assert bars.close.tolist() == [1.5, 2.5, 3.5]
    assert np.isnan(bars.adj_factor).all(), "no adjusted close: no factor"


def test_an_unknown_layout_names_the_columns_found_and_needed(store, tmp_path) -> None:
    err = _refused(store, _file(tmp_path, "x.csv", "when,price\n2010-01-04,1\n"))
    assert "found columns 'when', 'price'" in err.message
    assert "date: one of date, timestamp" in err.message and "close" in err.message


@pytest.mark.parametrize(("line", "reason"), [
    ("AAPL,2010-01-06,10,9.5,9,9.8,100,1", "high 9.5 is below open 10.0"),
    ("AAPL,2010-01-06,10.6,11,10.5,10.2,100,1", "low 10.5 is above close 10.2"),
    ("AAPL,2010-01-06,-1,11,-2,10,100,1", "open -1.0 is not above zero"),
    ("AAPL,2010-01-06,10,11,9,10,-5,1", "volume -5.0 is negative"),
    ("AAPL,2010-01-06,10,11,9,,100,1", "close is empty"),
    ("AAPL,2010-13-06,10,11,9,10,100,1", "date '2010-13-06': not a date"),
    ("AAPL,yesterday,10,11,9,10,100,1", "date 'yesterday': not a date"),
    ("AAPL,2010-01-06,10,11,9,ten,100,1", "Close 'ten' is not a number"),
    ("AAPL,2010-01-06,10,11,9,10", "6 values where the header has 8 columns"),
    ("AAPL,2010-01-05,214.6,215.59,213.25,214.5,21496600,27.6",
     "a second bar for the same time with different values: row 3 has the same symbol"),
    ("B@D,2010-01-06,10,11,9,10,100,1", "symbol 'B@D' is not a symbol"),
])
def test_a_bad_row_refuses_the_whole_file_with_its_row_and_reason(store, tmp_path, line, reason) -> None:
    # rows 2..5 are good; the bad one is row 6 (the header is row 1)
    err = _refused(store, _file(tmp_path, "bad.csv", LONG + line + "\n"))
    assert f"row 6: {reason}" in err.message
    assert err.extra["row"] == 6


def test_a_blank_line_counts_as_a_row_like_an_editor_counts_it(store, tmp_path) -> None:
    text = LONG + "\n" + "AAPL,2010-01-06,10,9.5,9,9.8,100,1\n"
    err = _refused(store, _file(tmp_path, "bad.csv", text))
    assert "row 7: high 9.5 is below open" in err.message


def test_an_exact_duplicate_row_is_stored_once_and_counted(store, tmp_path) -> None:
    text = LONG + LONG.splitlines()[1] + "\n"
    summary = import_file(store, _file(tmp_path, "dup.csv", text))
    assert (summary.bars, summary.duplicates) == (4, 1)


def test_reimporting_a_file_changes_nothing(store, tmp_path) -> None:
    path = _file(tmp_path, "two.csv", LONG)
    import_file(store, path)
    again = import_file(store, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


def test_a_corrected_file_updates_the_bars_it_changes(store, tmp_path) -> None:
    import_file(store, _file(tmp_path, "two.csv", LONG), source="s")
    fixed = LONG.replace("214.38,21496600", "214.4,21496600")
    counts = import_file(store, _file(tmp_path, "two.csv", fixed), source="s")
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, 3)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "_BLOCK", 128)  # a few rows per batch
    monkeypatch.setattr(reading, "_PARQUET_ROWS", 2)


def _daily_rows(symbols: list[str], days: list[str]) -> list[str]:
    return [f"{s},{d},10,11,9,10.5,100,10" for d in days for s in symbols]


DAYS = ["2010-01-04", "2010-01-05", "2010-01-06", "2010-01-07", "2010-01-08", "2010-01-11",
        "2010-01-12", "2010-01-13"]


def test_a_file_across_many_batches_descending_or_interleaved_is_one_import(
        store, tmp_path, small_batches) -> None:
    rows = _daily_rows(["AAPL", "MSFT"], DAYS)
    rows.insert(5, rows[4])  # an exact repeat straddling batches is still dropped
    header = "Ticker,Date,Open,High,Low,Close,Volume,Adj Close\n"
    up = import_file(store, _file(tmp_path, "up.csv", header + "\n".join(rows) + "\n"), source="u")
    down = import_file(store, _file(tmp_path, "down.csv", header + "\n".join(rows[::-1]) + "\n"),
                       source="d")
    for s in (up, down):
        assert s.bars == 16 and s.duplicates == 1
        assert [x.gaps for x in s.series] == [0, 0]
    assert store.read("MSFT", "d", "1Day").ts.tolist() == [_day(d) for d in DAYS]


def test_rows_out_of_time_order_across_batches_refuse_the_file(store, tmp_path, small_batches) -> None:
    rows = _daily_rows(["AAPL"], DAYS)
    rows.append(rows.pop(2))  # 2010-01-06 after 2010-01-13, several batches later
    text = "Ticker,Date,Open,High,Low,Close,Volume,Adj Close\n" + "\n".join(rows) + "\n"
    err = _refused(store, _file(tmp_path, "shuffled.csv", text))
    assert "row 9: AAPL's rows are not in time order: 2010-01-06" in err.message


def test_missing_sessions_are_counted_against_the_nyse_calendar(store, tmp_path) -> None:
    # 2010-01-18 is Martin Luther King day (no session): not a gap; 2010-01-07 and -08 are
    days = ["2010-01-04", "2010-01-05", "2010-01-06", "2010-01-11", "2010-01-15", "2010-01-19"]
    text = "Date,Open,High,Low,Close\n" + "".join(f"{d},1,2,0.5,1.5\n" for d in days)
    (series,) = import_file(store, _file(tmp_path, "SPY.csv", text)).series
    assert series.gaps == 5  # 7, 8, 12, 13, 14 January
    assert series.gap_days == ("2010-01-07", "2010-01-08", "2010-01-12", "2010-01-13", "2010-01-14")
    assert np.isnan(store.read("SPY", "import:SPY.csv", "1Day").volume).all()


def test_intraday_local_times_are_new_york_and_the_timeframe_is_detected(store, tmp_path) -> None:
    text = ("timestamp,open,high,low,close,volume\n2010-07-01 09:40:00,3,4,2,3,1\n"
            "2010-07-01 09:35:00,2,3,1,2,1\n2010-07-01 09:30:00,1,2,0.5,1,1\n")
    summary = import_file(store, _file(tmp_path, "IBM.csv", text))
    assert summary.timeframe == "5Min" and summary.series[0].gaps is None
    first = store.read("IBM", "import:IBM.csv", "5Min").ts[0]
    assert first == 1277991000 * 10**9  # 13:30 UTC: 09:30 in New York in summer


def test_intraday_times_with_an_offset_are_those_instants(store, tmp_path) -> None:
    text = "Date,Open,High,Low,Close\n2010-07-01T13:30:00Z,1,2,0.5,1\n2010-07-01T09:31:00-04:00,1,2,0.5,1\n"
    summary = import_file(store, _file(tmp_path, "Q.csv", text), timeframe="1Min")
    assert store.read("Q", summary.source, "1Min").ts.tolist() == [1277991000 * 10**9,
                                                                   1277991060 * 10**9]


def test_bars_closer_than_the_timeframe_refuse_the_file(store, tmp_path) -> None:
    text = "Date,Open,High,Low,Close\n2010-07-01 09:30,1,2,0.5,1\n2010-07-01 09:31,1,2,0.5,1\n"
    err = _refused(store, _file(tmp_path, "Q.csv", text), timeframe="5Min")
    assert "row 3: bars 1 minutes apart in a 5Min import" in err.message


def test_dates_cannot_be_imported_as_intraday_bars(store, tmp_path) -> None:
    err = _refused(store, _file(tmp_path, "Q.csv", YAHOO), timeframe="1Min")
    assert "row 2: the dates are days" in err.message


def test_symbols_outside_the_universe_become_history_only_instruments(store, tmp_path) -> None:
    summary = import_file(store, _file(tmp_path, "IBM.csv", YAHOO), now_ns=7)
    assert summary.registered == ("IBM",)
    (ibm,) = store.instruments()
    assert (ibm.symbol, ibm.tick_size, ibm.lot_size, ibm.source, ibm.created_ns) == (
        "IBM", "0.01", "1", "import:IBM.csv", 7)
    assert import_file(store, _file(tmp_path, "AAPL.csv", YAHOO)).registered == ()


def test_parquet_files_import_like_csv_in_batches(store, tmp_path, small_batches) -> None:
    table = pa.table({"Symbol": ["AAPL"] * 3, "Date": pa.array([date.fromisoformat(d) for d in DAYS[:3]],
                                                               type=pa.date32()),
                      "Open": [1.0, 2, 3], "High": [2.0, 3, 4], "Low": [0.5, 1, 2],
                      "Close": [1.5, 2.5, 3.5], "Volume": pa.array([10, 20, 30], type=pa.int64())})
    pq.write_table(table, tmp_path / "a.parquet")
    summary = import_file(store, tmp_path / "a.parquet")
    assert summary.bars == 3 and summary.series[0].gaps == 0
    assert store.read("AAPL", "import:a.parquet", "1Day").volume.tolist() == [10.0, 20.0, 30.0]
    bad = table.set_column(5, "Close", pa.array([1.5, 2.5, 5.0]))
    pq.write_table(bad, tmp_path / "b.parquet")
    err = _refused(MemoryHistoryStore(), tmp_path / "b.parquet")
    assert "row 3: high 4.0 is below close 5.0" in err.message
