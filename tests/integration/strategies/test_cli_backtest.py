"""`mcp-trading backtest ...` and `mcp-trading backtests list|show|compare|delete|strategies`,
offline as an operator runs them: the sample imported into the data directory's history
store, results in its database, the platform not running."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mcp_trading.cli import app

runner = CliRunner()
RUN = ["backtest", "sma_crossover", "--symbols", "AAPL", "--start", "2004-01-01",
       "--end", "2008-12-31"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("var")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MCP_TRADING_DATA_DIR", str(directory))
        result = runner.invoke(app, ["data", "import", "--sample", "--json"])
    assert result.exit_code == 0, result.stderr
    return directory


@pytest.fixture(autouse=True)
def configured(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TRADING_DATA_DIR", str(data_dir))
    monkeypatch.delenv("MCP_TRADING_STRATEGY_DIR", raising=False)


def _json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_backtest_prints_its_summary_and_is_stored(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    result = runner.invoke(app, [*RUN, "--param", "fast=10", "--param", "slow=30",
                                 "--html", str(report)])
    assert result.exit_code == 0, result.stderr
    assert "Total return" in result.stdout and "Sharpe ratio" in result.stdout
    assert "stored as " in result.stdout
    run_id = result.stdout.rsplit("stored as ", 1)[1].split()[0]
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and run_id in page
    listed = _json("backtests", "list")
    assert run_id in [row["id"] for row in listed]
    shown = _json("backtests", "show", run_id)
    assert shown["status"] == "done" and shown["metrics"]["trades"] > 0


def test_json_output_and_compare() -> None:
    a = _json(*RUN)
    b = _json(*RUN, "--param", "fast=20", "--param", "slow=50", "--cash", "50000")
    assert a["summary"] and a["id"] != b["id"]
    compared = _json("backtests", "compare", a["id"], b["id"])
    assert compared["ids"] == [a["id"], b["id"]]
    table = runner.invoke(app, ["backtests", "compare", a["id"], b["id"]])
    assert table.exit_code == 0 and "Max drawdown" in table.stdout
    deleted = runner.invoke(app, ["backtests", "delete", b["id"]])
    assert deleted.exit_code == 0
    assert runner.invoke(app, ["backtests", "show", b["id"]]).exit_code == 1


def test_strategies_are_listed_with_their_parameters() -> None:
    listed = _json("backtests", "strategies")
    names = [s["name"] for s in listed["strategies"]]
    assert {"sma_crossover", "rsi_reversion", "bollinger_breakout", "momentum_rotation",
            "buy_and_hold"} <= set(names)


@pytest.mark.parametrize(("extra", "code", "words"), [
    (["--param", "fast=0"], 1, "below its minimum"),
    (["--param", "nope=1"], 1, "allowed parameters"),
    (["--param", "fast"], 2, "name=value"),
    (["--start", "2009-06-01"], 1, "after end"),
    (["--timeframe", "2Day"], 1, "is unknown; use one of 1Min"),
    (["--limits", "live"], 1, "limits"),
])
def test_bad_input_exits_with_the_reason(extra: list[str], code: int, words: str) -> None:
    result = runner.invoke(app, [*RUN, *extra])
    assert result.exit_code == code, result.stdout
    assert words in " ".join(result.stderr.split()), result.stderr


def test_a_symbol_without_data_names_what_exists() -> None:
    result = runner.invoke(app, ["backtest", "buy_and_hold", "--symbols", "ZZZZ", "--start",
                                 "2004-01-01", "--end", "2005-01-01"])
    assert result.exit_code == 1
    assert "ZZZZ" in result.stderr
    unknown = runner.invoke(app, ["backtest", "nope", "--symbols", "AAPL", "--start",
                                  "2004-01-01", "--end", "2005-01-01"])
    assert unknown.exit_code == 1 and "sma_crossover" in unknown.stderr
