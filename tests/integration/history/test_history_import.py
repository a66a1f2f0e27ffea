"""Imports on every backend (memory, SQLite, PostgreSQL): the shipped sample (sha256 checked,
names mapped, 2010 AAPL closes equal to the file's), idempotence, all-or-nothing refusals."""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import pytest

from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.history.importer import import_file
from mcp_trading.adapters.history.sample import SAMPLE_SHA256, import_sample, sample_path, sha256_of
from mcp_trading.adapters.history.summary import bar_time_text
from mcp_trading.domain.errors import InvalidError


def _file_rows(ticker: str) -> list[dict[str, str]]:
    with gzip.open(sample_path(), "rt", newline="") as f:
        return [row for row in csv.DictReader(f) if row["Ticker"] == ticker]


def test_the_shipped_file_is_the_one_the_issue_names() -> None:
    assert sha256_of(sample_path()) == SAMPLE_SHA256


def test_the_sample_loads_five_symbols_with_the_files_2010_closes(history: HistoryStore) -> None:
    summary = import_sample(history)
    assert summary.symbols == ("AAPL", "GOOGL", "IBM", "META", "MSFT")
    assert summary.renamed == {"GOOG": "GOOGL", "FB": "META"}
    assert summary.registered == ("IBM",)  # the others are in the platform's universe
    assert [s.source for s in history.series()] == ["sample"] * 5
    expected = [(r["Date"], float(r["Close"])) for r in _file_rows("AAPL") if r["Date"].startswith("2010")]
    bars = history.read("AAPL", "sample", "1Day")
    got = [(bar_time_text(int(t), "1Day"), float(c)) for t, c in zip(bars.ts, bars.close, strict=True)
           if bar_time_text(int(t), "1Day").startswith("2010")]
    assert len(expected) == 252 and got == expected
    googl = history.read("GOOGL", "sample", "1Day")
    assert googl.size == len(_file_rows("GOOG")) and googl.close[0] == 100.335
    assert all(s.gaps == 0 for s in summary.series), "the WIKI days are the NYSE's sessions"


def test_reimporting_the_sample_changes_nothing(history: HistoryStore) -> None:
    import_sample(history)
    again = import_sample(history)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 12154)


def test_a_sample_whose_sha256_differs_is_refused_before_anything_is_read(
        history: HistoryStore, tmp_path: Path) -> None:
    copy = tmp_path / "stocks.csv.gz"
    shutil.copy(sample_path(), copy)
    with copy.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(InvalidError, match=r"sha256 is [0-9a-f]+, not 5abadf99"):
        import_sample(history, path=copy)
    assert history.series() == []


def test_a_refused_file_stores_none_of_its_earlier_good_rows(history: HistoryStore, tmp_path: Path) -> None:
    rows = [f"2010-01-{d:02d},10,11,9,10.5,100" for d in (4, 5, 6, 7, 8)]
    rows.append("2010-01-11,10,11,12,10.5,100")  # low above high: row 7
    path = tmp_path / "IBM.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    with pytest.raises(InvalidError, match=r"row 7: high 11\.0 is below low 12\.0"):
        import_file(history, path)
    assert history.series() == [] and history.instruments() == []
