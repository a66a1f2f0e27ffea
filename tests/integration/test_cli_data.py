"""`mcp-trading data import|list|export|delete`, driven as an operator would, offline against
a SQLite history store (the platform is not running)."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.adapters.history.sample import sample_path
from mcp_trading.cli import app

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    monkeypatch.setenv("MCP_TRADING_HISTORY_URL", url)  # the configured store, as an operator sets it
    return url


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["data", *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_sample_then_list_shows_the_five_series(url: str) -> None:
    code, out, _ = _run("import", "--sample")
    assert code == 0
    assert "GOOG as GOOGL" in out and "FB as META" in out and "IBM" in out
    code, out, _ = _run("list", "--json")
    rows = json.loads(out)
    assert [(r["symbol"], r["source"], r["timeframe"], r["bars"]) for r in rows] == [
        ("AAPL", "sample", "1Day", 3270), ("GOOGL", "sample", "1Day", 2148),
        ("IBM", "sample", "1Day", 3270), ("META", "sample", "1Day", 196),
        ("MSFT", "sample", "1Day", 3270)]
    assert rows[0]["first"] == "2000-03-01" and rows[0]["last"] == "2013-03-01"


def test_import_json_reports_each_file(url: str, tmp_path: Path) -> None:
    path = tmp_path / "IBM.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n2010-01-04,10,11,9,10.5,100\n")
    code, out, _ = _run("import", str(path), "--json")
    assert code == 0
    (summary,) = json.loads(out)
    assert summary["source"] == "import:IBM.csv" and summary["registered"] == ["IBM"]
    assert summary["series"][0]["first"] == "2010-01-04"


def test_a_refused_file_exits_1_with_its_row_on_stderr_and_stores_nothing(url: str, tmp_path: Path) -> None:
    path = tmp_path / "IBM.csv"
    path.write_text("Date,Open,High,Low,Close,Volume\n2010-01-04,10,11,9,10.5,100\n"
                    "2010-01-05,10,11,9,10.5,-3\n")
    code, _, err = _run("import", str(path))
    assert code == 1
    assert "row 3: volume -3.0 is negative" in " ".join(err.split())
    assert json.loads(_run("list", "--json")[1]) == []


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_export_reads_back_as_the_source_file(url: str, tmp_path: Path, fmt: str) -> None:
    assert _run("import", "--sample")[0] == 0
    out_file = tmp_path / f"aapl.{fmt}"
    code, out, _ = _run("export", "AAPL", "--format", fmt, "--out", str(out_file))
    assert code == 0 and "wrote 3270 bars of AAPL" in out
    if fmt == "csv":
        with gzip.open(sample_path(), "rt", newline="") as f:
            source = [r for r in csv.DictReader(f) if r["Ticker"] == "AAPL"]
        with out_file.open(newline="") as f:
            exported = list(csv.DictReader(f))
        assert len(exported) == len(source)
        for a, b in zip(exported, source, strict=True):
            assert a["Date"] == b["Date"] and a["Volume"] == b["Volume"]
            assert [float(a[k]) for k in ("Open", "High", "Low", "Close")] == [
                float(b[k]) for k in ("Open", "High", "Low", "Close")]
            assert float(a["Adj Close"]) == pytest.approx(float(b["Adj Close"]), rel=1e-14)
    # re-imported under the same source, the export changes nothing
    code, out, _ = _run("import", str(out_file), "--source", "sample", "--json")
    assert code == 0
    (summary,) = json.loads(out)
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (0, 0, 3270)


def test_export_of_nothing_stored_exits_1(url: str) -> None:
    code, _, err = _run("export", "AAPL")
    assert code == 1 and "no stored history for AAPL" in err


def test_delete_asks_first_and_removes_only_that_symbol(url: str) -> None:
    _run("import", "--sample")
    result = runner.invoke(app, ["data", "delete", "MSFT"], input="n\n")
    assert result.exit_code == 1 and "nothing deleted" in result.stderr
    code, out, _ = _run("delete", "msft", "--yes", "--json")
    assert code == 0 and json.loads(out)["deleted"] == 3270
    symbols = [r["symbol"] for r in json.loads(_run("list", "--json")[1])]
    assert symbols == ["AAPL", "GOOGL", "IBM", "META"]
    assert _run("delete", "MSFT", "--yes")[0] == 1


def test_import_without_files_is_a_usage_error(url: str) -> None:
    assert _run("import")[0] == 2
