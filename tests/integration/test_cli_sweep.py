"""`mcp-trading sweep` and `walk-forward` as an operator runs them: offline, on the shipped
sample imported into a SQLite history store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.cli import app

runner = CliRunner()
RANGE = ["--symbols", "AAPL,MSFT", "--start", "2004-01-01", "--end", "2012-12-31"]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sweep') / 'history.db'}"
    result = runner.invoke(app, ["data", "import", "--sample", "--history-url", url])
    assert result.exit_code == 0, result.stdout
    return url


def test_a_grid_sweep_prints_json_ranked_by_the_metric(url: str) -> None:
    result = runner.invoke(app, ["sweep", "sma_crossover", "--grid", "fast=5:20:5",
                                 "slow=20,30,50", *RANGE, "--rank", "total_return", "--json",
                                 "--executor", "serial", "--history-url", url])
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    returns = [p["metric"] for p in body["points"]]
    assert len(returns) == 11 and returns == sorted(returns, reverse=True)
    assert body["skipped"][0]["params"] == {"fast": 20, "slow": "20"}
    assert body["points"][0]["metrics"]["total_return"] == returns[0]


def test_a_sweep_writes_the_heatmap_page_and_prints_the_table(url: str, tmp_path: Path) -> None:
    page = tmp_path / "sweep.html"
    result = runner.invoke(app, ["sweep", "sma_crossover", "fast=5,10", "slow=20,30", *RANGE,
                                 "--param", "qty=50", "--executor", "local:2", "--html",
                                 str(page), "--history-url", url])
    assert result.exit_code == 0, result.stderr
    assert "slow \\ fast" in result.stdout  # the text heatmap
    html = page.read_text()
    assert html.count('<rect class="cell"') == 4 and "qty" in html


def test_walk_forward_prints_each_window_and_the_stitched_metrics(url: str, tmp_path: Path) -> None:
    report = tmp_path / "wf.html"
    result = runner.invoke(app, ["walk-forward", "sma_crossover", "fast=5,10", "slow=20,50",
                                 *RANGE, "--train", "3y", "--test", "1y", "--step", "1y",
                                 "--json", "--executor", "serial", "--html", str(report),
                                 "--history-url", url])
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert [w["test"][0] for w in body["windows"]][:2] == ["2007-01-02", "2008-01-02"]
    assert body["out_of_sample"]["start"] == "2007-01-03"
    assert "<svg" in report.read_text()


@pytest.mark.parametrize(("args", "words"), [
    (["sweep", "sma_crossover", "fast=1:5:1", "--rank", "luck"], "rank 'luck'"),
    (["sweep", "no_such", "fast=1,2"], "no_such"),
    (["sweep", "sma_crossover", "speed=1,2"], "not a parameter"),
    (["sweep", "sma_crossover", "fast=5", "--symbols", "NVDA"], "no 1Day bars of NVDA"),
    (["walk-forward", "sma_crossover", "fast=5", "--step", "6m"], "overlap"),
])
def test_bad_input_exits_1_saying_what_to_fix(url: str, args: list[str], words: str) -> None:
    result = runner.invoke(app, [*args, "--history-url", url, "--executor", "serial"])
    assert result.exit_code == 1
    assert words in " ".join(result.stderr.split())
