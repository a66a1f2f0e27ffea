"""`mcp-trading optimize SYMBOLS... --method M --start --end [--json] [--html FILE]`, offline
as an operator runs it: the sample imported into the data directory's history store, the
run stored in its database (readable by the service), the platform not running."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcp_trading.cli import app
from mcp_trading.config import Settings
from mcp_trading.services.optimizer.runs import open_optimizer_store

runner = CliRunner()
RUN = ["optimize", "AAPL", "MSFT", "IBM", "GOOGL", "--start", "2006-01-01",
       "--end", "2012-12-31"]


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


def test_the_table_of_weights_and_the_html_report(tmp_path: Path) -> None:
    report = tmp_path / "weights.html"
    result = runner.invoke(app, [*RUN, "--method", "hrp", "--html", str(report)])
    assert result.exit_code == 0, result.stderr
    for symbol in ("AAPL", "MSFT", "IBM", "GOOGL"):
        assert symbol in result.stdout
    assert "risk contribution" in result.stdout and "scipy-cluster" in result.stdout
    page = report.read_text()
    assert page.count('class="weight"') == 4 and 'class="frontier"' in page


def test_json_answers_what_the_service_answers_and_the_run_is_stored(data_dir: Path) -> None:
    result = runner.invoke(app, [*RUN, "--method", "efficient_return", "--option",
                                 "target_return=0.15", "--cash-buffer", "0.05", "--json"])
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert sum(Decimal(w) for w in answer["weights"].values()) == Decimal("0.95")
    store = open_optimizer_store(Settings(data_dir=data_dir).resolved_database_url)
    try:
        stored = store.get_run(answer["run_id"])
    finally:
        store.close()
    assert stored["result"]["weights"] == answer["weights"]
    assert stored["request"]["options"] == {"target_return": 0.15}


def test_a_refusal_exits_1_with_the_reason() -> None:
    result = runner.invoke(app, ["optimize", "AAPL", "NOPE", "--start", "2006-01-01",
                                 "--end", "2012-12-31"])
    assert result.exit_code == 1
    assert "NOPE has no stored history" in result.stderr
    bad = runner.invoke(app, [*RUN, "--method", "magic"])
    assert bad.exit_code == 1 and "known: " in bad.stderr


def test_help_says_how_to_pass_black_litterman_views() -> None:
    result = runner.invoke(app, ["optimize", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "--option 'views=[{\"asset\": \"AAPL\", \"return\": 0.12" in text
    assert "without views the market-implied prior is used" in text


def test_black_litterman_with_views_from_the_help_and_without_views() -> None:
    views = ('views=[{"asset": "AAPL", "return": 0.12, "confidence": 0.6}, '
             '{"long": "MSFT", "short": "IBM", "return": 0.03}]')
    base = [*RUN, "--method", "black_litterman", "--option", "then=max_utility", "--json"]
    with_views = runner.invoke(app, [*base, "--option", views])
    assert with_views.exit_code == 0, with_views.stderr
    notes = json.loads(with_views.stdout)["diagnostics"]["notes"]
    assert "2 view(s)" in " ".join(notes)
    without = runner.invoke(app, base)
    assert without.exit_code == 0, without.stderr
    notes = json.loads(without.stdout)["diagnostics"]["notes"]
    assert any("no views given" in n and "market-implied prior" in n for n in notes)
    malformed = runner.invoke(app, [*base, "--option", 'views={"asset": "AAPL"}'])
    assert malformed.exit_code == 1 and "views must be a list of views" in malformed.stderr
