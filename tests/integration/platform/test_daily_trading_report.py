"""The daily trading report over a real platform: trades through the kernel, then every
figure checked against a hand computation; the JSON schema; a day with no activity; bad
dates; the files and the stored row; the portfolio routes that serve them."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import jsonschema
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from mcp_trading.cli import app
from mcp_trading.domain.errors import InvalidError
from mcp_trading.platform.platform import Platform
from mcp_trading.reports.daily import build_trading_report, publish
from mcp_trading.reports.day_replay import KernelReplay
from mcp_trading.reports.schemas import SCHEMAS
from mcp_trading.reports.trading_source import TIMEZONE, parse_day, read_day
from mcp_trading.services.portfolio import rest as portfolio


def _today() -> date:
    from datetime import datetime
    from zoneinfo import ZoneInfo
    return datetime.now(ZoneInfo(TIMEZONE)).date()


@pytest.fixture
def traded(platform: Platform, feed_quote: Any, place_order: Any) -> Platform:
    """Buy 100 AAPL at 100.02 (mid 100.01), sell 40 at 104.99 (mid 105.00), a refused order,
    a halt and resume, a maintenance window."""
    feed_quote(bid="100.00", ask="100.02", last="100.00")
    kernel = platform.kernel_runtime.kernel
    place_order(qty=100)
    feed_quote(bid="104.99", ask="105.01", last="105.00")
    from mcp_trading.domain.orders import OrderRequest
    kernel.submit("paper", OrderRequest.parse(symbol="AAPL", side="sell", qty=40),
                  attribution="agent:tester")
    kernel.submit("paper", OrderRequest.parse(symbol="AAPL", side="buy", qty=900_000))
    kernel.halt(reason="drill", actor="operator:test")
    kernel.resume(reason="drill over", actor="operator:test")
    kernel.set_maintenance(True, reason="patching", actor="operator:test")
    kernel.set_maintenance(False, reason="done", actor="operator:test")
    platform.kernel_runtime.journal.flush()
    return platform


def test_figures_agree_with_a_hand_computation(traded: Platform) -> None:
    doc = build_trading_report(traded.settings, _today()).document
    jsonschema.validate(doc, SCHEMAS["daily_trading"])
    assert doc["activity"] is True
    assert doc["orders"] == {"total": 3, "by_status": {"filled": 2, "rejected": 1}}
    (row,) = doc["pnl_by_symbol"]
    assert row["symbol"] == "AAPL" and row["fills"] == 2
    assert row["bought_qty"] == "100" and row["sold_qty"] == "40"
    assert row["realized_pnl"] == "198.80"  # 40 x (104.99 - 100.02)
    assert row["commissions"] == "0.00"
    assert row["end_qty"] == "60" and row["avg_entry_price"] == "100.02"
    # no bar was built (no feed running): marked at the day's last fill
    assert row["mark"] == "104.99" and row["mark_source"] == "last_fill"
    assert row["unrealized_pnl"] == "298.20"  # 60 x (104.99 - 100.02)
    # buy 100 x (100.02 - 100.01) + sell 40 x (105.00 - 104.99) = 1.00 + 0.40
    assert row["slippage"] == "1.40"
    assert row["slippage_bps"] == "0.99"  # 1.40 / (100 x 100.01 + 40 x 105.00) x 10^4
    assert doc["totals"]["notional"] == "14201.60"  # 10,002 + 4,199.60
    assert doc["fills"] == {"count": 2, "notional": "14201.60"}
    (rej,) = doc["rejections"]
    assert rej["count"] == 1 and rej["symbols"] == ["AAPL"] and rej["code"].isupper()
    assert [(h["state"], h["reason"]) for h in doc["halts"]] == [("halted", "drill"),
                                                                ("active", "drill over")]
    (window,) = doc["maintenance_windows"]
    assert window["reason"] == "patching" and window["end_ns"] >= window["start_ns"]
    traders = {t["attribution"]: t for t in doc["traders"]}
    assert traders["agent:tester"]["fills"] == 1
    assert traders["agent:tester"]["notional"] == "4199.60"
    assert sum(t["orders"] for t in traders.values()) == 3


def test_the_light_fold_reads_what_the_kernel_replay_reads(traded: Platform) -> None:
    """The report's fold (reports/day_fold.py) against the kernel's own state machine."""
    url = traded.settings.resolved_database_url
    light, reference = read_day(url, _today()), read_day(url, _today(), KernelReplay)
    assert light == reference
    assert len(light.fills) == 2 and len(light.orders) == 3 and light.positions


def test_a_quiet_day_says_so(traded: Platform) -> None:
    report = build_trading_report(traded.settings, _today() - timedelta(days=400))
    jsonschema.validate(report.document, SCHEMAS["daily_trading"])
    assert report.document["activity"] is False
    assert report.document["summary"] == "no trading activity on this day"
    assert "no trading activity" in report.text
    assert report.document["pnl_by_symbol"] == []


def test_bad_dates_are_refused_with_the_reason() -> None:
    with pytest.raises(InvalidError, match="not a date"):
        parse_day("2024-02-30")
    with pytest.raises(InvalidError, match="in the future"):
        parse_day((_today() + timedelta(days=1)).isoformat())


def test_cli_writes_files_and_row_and_exits_non_zero_on_bad_dates(traded: Platform) -> None:
    runner = CliRunner()
    data = str(traded.settings.data_dir)
    day = _today().isoformat()
    out = runner.invoke(app, ["report", "trading", "--date", day, "--json", "--data-dir", data])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["totals"]["realized_pnl"] == "198.80"
    folder = traded.settings.data_dir / "reports" / day
    assert {p.name for p in folder.iterdir()} == {
        "daily_trading.json", "daily_trading.html", "daily_trading.txt"}
    own = runner.invoke(app, ["report", "trading", "--date", day, "--html", "--data-dir", data])
    assert own.exit_code == 0 and own.stdout.strip() == str(folder / "daily_trading.html")
    bad = runner.invoke(app, ["report", "trading", "--date", "05/01/2024", "--data-dir", data])
    assert bad.exit_code == 2 and "not a date" in bad.output
    future = (_today() + timedelta(days=3)).isoformat()
    assert runner.invoke(app, ["report", "trading", "--date", future]).exit_code == 2


def test_portfolio_serves_the_stored_reports(traded: Platform, auth: Any) -> None:
    day = _today().isoformat()
    publish(traded.settings, build_trading_report(traded.settings, _today()))
    client = TestClient(portfolio.build(traded))
    assert client.get("/portfolio/reports").status_code == 401
    listed = client.get("/portfolio/reports", headers=auth("viewer")).json()
    assert [(r["date"], r["name"]) for r in listed["reports"]] == [(day, "daily_trading")]
    doc = client.get(f"/portfolio/reports/{day}/daily_trading", headers=auth("viewer"))
    assert doc.status_code == 200 and doc.json()["totals"]["slippage"] == "1.40"
    page = client.get(f"/portfolio/reports/{day}/daily_trading.html", headers=auth("viewer"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text
    same = client.get(f"/portfolio/reports/{day}/daily_trading?format=html",
                      headers=auth("viewer"))
    assert same.text == page.text
    missing = client.get(f"/portfolio/reports/{day}/daily_risk", headers=auth("viewer"))
    assert missing.status_code == 404 and "daily_risk" in missing.json()["message"]
    bad = client.get("/portfolio/reports/2024-13-99/daily_trading", headers=auth("viewer"))
    assert bad.status_code == 422
