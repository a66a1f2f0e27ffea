"""`mcp-trading data fetch`, offline: the settings' provider chain (the local fake Alpha
Vantage, a files directory) fills the configured history store; a stored range is not asked
for again; without a provider it says what to set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.fakes.alphavantage import FakeAlphaVantage, running_fake
from typer.testing import CliRunner

from mcp_trading.cli import app

runner = CliRunner()
KEY = "fake-av-key-SEKRET-0123456789"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("MCP_TRADING_HISTORY_URL", f"sqlite:///{tmp_path / 'history.db'}")
    for name in ("MCP_TRADING_ALPHAVANTAGE_API_KEY", "MCP_TRADING_FILES_DIR",
                 "MCP_TRADING_PROVIDER_CHAIN_DAILY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def fake(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlphaVantage]:
    with running_fake(FakeAlphaVantage(KEY)) as (fake, url):
        monkeypatch.setenv("MCP_TRADING_ALPHAVANTAGE_API_KEY", KEY)
        monkeypatch.setenv("MCP_TRADING_ALPHAVANTAGE_BASE_URL", url)
        yield fake


def fetch(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["data", "fetch", *args])
    return result.exit_code, result.stdout, result.stderr


def test_fetch_stores_the_range_and_a_second_fetch_calls_nobody(fake: FakeAlphaVantage) -> None:
    code, out, _ = fetch("AAPL", "--start", "2010-01-04", "--end", "2010-01-08", "--json")
    assert code == 0
    reply = json.loads(out)
    assert (reply["served_by"], reply["fetched"], reply["bars"]) == ("alphavantage", 5, 5)
    code, out, _ = fetch("AAPL", "--start", "2010-01-04", "--end", "2010-01-08")
    assert code == 0 and "nothing fetched" in out
    assert len(fake.calls) == 1 and KEY not in out
    listed = runner.invoke(app, ["data", "list", "--json"]).stdout
    assert [(r["symbol"], r["source"], r["bars"]) for r in json.loads(listed)] == [
        ("AAPL", "alphavantage", 5)]


def test_fetch_from_a_files_directory(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drop = env / "drop"
    drop.mkdir()
    (drop / "IBM.csv").write_text("Date,Open,High,Low,Close,Volume\n"
                                  "2010-01-04,131.18,132.97,130.85,132.45,6155300\n")
    monkeypatch.setenv("MCP_TRADING_FILES_DIR", str(drop))
    code, out, _ = fetch("IBM", "--start", "2010-01-04", "--end", "2010-01-04", "--json")
    assert code == 0, out
    reply = json.loads(out)
    assert (reply["served_by"], reply["bars"]) == ("files", 1)
    assert reply["files_scanned"][0]["imported"] == 1


def test_bad_input_and_no_provider_say_what_to_do(env: Path) -> None:
    code, _, err = fetch("AAPL", "--timeframe", "2Day")
    assert code == 2 and "timeframe" in err
    code, _, err = fetch("AAPL", "--start", "2010-02-01", "--end", "2010-01-01")
    assert code == 2 and "start" in err
    code, _, err = fetch("AAPL", "--start", "2010-01-04")
    assert code == 1
    assert "MCP_TRADING_ALPHAVANTAGE_API_KEY" in err and "MCP_TRADING_PROVIDER_CHAIN_DAILY" in err
