"""The daily risk report over a real platform with the shipped sample imported: positions in
AAPL, MSFT, GOOGL (real history) and TSLA (simulator bars only), and a refused order. The
report, read offline from the store, must give exactly the figures the live risk service
gives (GET :8012/var, /stress, /concentration) on the same positions; the JSON schema; the
simulator symbol named as excluded; the refusal grouped by code; bad dates; the files, the
stored row, the portfolio route; the runbook's root script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import numpy as np
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from mcp_trading.adapters.history import BarColumns
from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.cli import app
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.reports.daily import publish
from mcp_trading.reports.risk import build_risk_report
from mcp_trading.reports.schemas import SCHEMAS
from mcp_trading.services.portfolio import rest as portfolio
from mcp_trading.services.risk import rest as risk

from .conftest import FakeAuthenticator

VIEWER = {"Authorization": "Bearer viewer"}
BUYS = {"AAPL": 100, "MSFT": 200, "GOOGL": 20, "TSLA": 30}
ROOT = Path(__file__).resolve().parents[3]


def _today() -> date:
    return datetime.now(ZoneInfo("America/New_York")).date()


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    plat = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("riskreport")),
                     authenticator=FakeAuthenticator())
    plat.open()
    plat.accepting = True
    store = plat.history.store()
    import_sample(store)
    ts = np.arange(300, dtype=np.int64) * 86_400_000_000_000 + 1_262_581_200_000_000_000
    closes = np.linspace(100.0, 130.0, 300)
    with store.writer() as writer:  # simulated bars: never used for risk
        writer.add("TSLA", "simulator", "1Day", BarColumns(ts, closes, closes, closes, closes,
                                                           np.full(300, 1e6), np.full(300, np.nan)))
    kernel = plat.kernel_runtime.kernel
    for symbol, qty in BUYS.items():
        # last = the ask = the fill price: the live mark equals the report's (last fill)
        kernel.on_quote(Quote(symbol, Decimal("100.00"), Decimal("100.02"), Decimal(10_000),
                              Decimal(10_000), Decimal("100.02"), time.time_ns()))
        kernel.submit("paper", OrderRequest.parse(symbol=symbol, side="buy", qty=qty))
    kernel.submit("paper", OrderRequest.parse(symbol="AAPL", side="buy", qty=900_000))
    plat.kernel_runtime.journal.flush()
    try:
        yield plat
    finally:
        plat.accepting = False
        if plat.runtime is not None:
            plat.runtime.close()
        if plat.projector is not None:
            plat.projector.stop()


@pytest.fixture(scope="module")
def doc(platform: Platform) -> dict[str, Any]:
    document: dict[str, Any] = build_risk_report(platform.settings, _today()).document
    return document


def _live(platform: Platform, path: str) -> dict[str, Any]:
    response = TestClient(risk.build(platform)).get(path, headers=VIEWER)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_figures_are_the_live_risk_services(platform: Platform, doc: dict[str, Any]
                                                ) -> None:
    jsonschema.validate(doc, SCHEMAS["daily_risk"])
    (acc,) = doc["accounts"]
    var = _live(platform, "/var")
    assert len(acc["var"]["figures"]) == 12  # 3 methods x 95/99 x 1/10 days
    assert acc["var"]["figures"] == var["figures"]
    assert acc["var"]["window"] == var["window"]
    assert acc["included"] == var["included"] and acc["excluded"] == var["excluded"]
    assert acc["equity"] == var["equity"]
    stress = _live(platform, "/stress")
    assert acc["stress"] == stress["scenarios"]
    conc = _live(platform, "/concentration")
    assert acc["concentration"] == {k: conc[k] for k in acc["concentration"]}
    assert set(acc["limit_utilisation"]) >= {"max_gross_exposure", "daily_loss_limit"}


def test_exposure_and_the_excluded_simulator_position(doc: dict[str, Any]) -> None:
    (acc,) = doc["accounts"]
    rows = {e["symbol"]: e for e in acc["exposure"]}
    assert set(rows) == set(BUYS)
    for symbol, qty in BUYS.items():
        assert rows[symbol]["mark"] == "100.02" and rows[symbol]["mark_source"] == "last_fill"
        assert rows[symbol]["market_value"] == f"{qty * Decimal('100.02'):.2f}"
    assert acc["gross_exposure"] == f"{sum(BUYS.values()) * Decimal('100.02'):.2f}"
    (excluded,) = acc["excluded"]
    assert excluded["symbol"] == "TSLA" and "simulated" in excluded["reason"]


def test_the_days_refusal_is_grouped_by_code(doc: dict[str, Any]) -> None:
    (group,) = doc["breaches"]
    assert group["code"].startswith("RISK_") and group["count"] == 1
    assert group["accounts"] == ["paper"] and group["symbols"] == ["AAPL"]
    assert "1 risk refusal" in doc["summary"]


def test_a_day_before_any_position_says_so(platform: Platform) -> None:
    report = build_risk_report(platform.settings, _today() - timedelta(days=400))
    jsonschema.validate(report.document, SCHEMAS["daily_risk"])
    assert report.document["accounts"] == [] and report.document["breaches"] == []
    assert "no open positions" in report.text


def test_the_text_and_html_carry_the_tables_and_charts(doc: dict[str, Any],
                                                        platform: Platform) -> None:
    report = build_risk_report(platform.settings, _today())
    assert "VaR / ES" in report.text and "cornish_fisher" in report.text
    assert "TSLA" in report.text and "RISK_" in report.text
    assert report.html.count('<svg class="chart') == 2
    assert report.html.count('<rect class="bar"') == 4 + 12  # 4 positions, 12 figures


def test_cli_files_row_route_and_bad_dates(platform: Platform, auth: Any) -> None:
    runner = CliRunner()
    data = str(platform.settings.data_dir)
    day = _today().isoformat()
    out = runner.invoke(app, ["report", "risk", "--json", "--data-dir", data])  # default: today
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["date"] == day
    folder = platform.settings.data_dir / "reports" / day
    assert {p.name for p in folder.glob("daily_risk.*")} == {
        "daily_risk.json", "daily_risk.html", "daily_risk.txt"}
    own = runner.invoke(app, ["report", "risk", "--date", day, "--html", "--data-dir", data])
    assert own.exit_code == 0 and own.stdout.strip() == str(folder / "daily_risk.html")
    bad = runner.invoke(app, ["report", "risk", "--date", "2024-02-30", "--data-dir", data])
    assert bad.exit_code == 2 and "not a date" in bad.output
    future = (_today() + timedelta(days=3)).isoformat()
    late = runner.invoke(app, ["report", "risk", "--date", future, "--data-dir", data])
    assert late.exit_code == 2 and "in the future" in late.output
    publish(platform.settings, build_risk_report(platform.settings, _today()))
    client = TestClient(portfolio.build(platform))
    got = client.get(f"/portfolio/reports/{day}/daily_risk", headers=auth("viewer"))
    assert got.status_code == 200 and got.json()["report"] == "daily_risk"
    page = client.get(f"/portfolio/reports/{day}/daily_risk.html", headers=auth("viewer"))
    assert page.status_code == 200 and 'class="bar"' in page.text


def test_the_runbook_script_runs_from_the_repo_root(platform: Platform) -> None:
    env = {**os.environ, "MCP_TRADING_DATA_DIR": str(platform.settings.data_dir)}
    done = subprocess.run([sys.executable, "reports/daily_risk_report.py", "--json"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["report"] == "daily_risk"
    bad = subprocess.run([sys.executable, "reports/daily_risk_report.py", "--date=tomorrow"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert bad.returncode == 2 and "not a date" in bad.stderr
