"""The performance summary's HTML, built from a hand-built journal (two accounts, a later one
joining) and real benchmark bars, opened offline in headless Chromium: the four charts drawn
(equity against the benchmark, drawdown, daily P&L, exposure), one point per day in every
line and a non-empty box per day's P&L bar, the tables filled, no request but the file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.integration.platform.test_performance_summary import (
    DAY,
    SPY,
    _bars,
    _events,
    _journal,
)

from mcp_trading.config import Settings
from mcp_trading.reports.performance import build_performance_report

pytestmark = pytest.mark.slow

_CHARTS = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {cls: svg.getAttribute('class'), width: box.width, height: box.height,
          lines: [...svg.querySelectorAll('polyline.series')].map(p => {
            const b = p.getBBox();
            return {name: p.dataset.name, points: p.points.numberOfItems,
                    length: p.getTotalLength(), width: b.width};}),
          bars: [...svg.querySelectorAll('rect.bar')].map(r => {
            const b = r.getBBox();
            return {name: r.dataset.name, width: b.width, height: b.height};})};})"""


def test_the_four_charts_are_drawn_offline(browser: Any, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    _journal(settings, _events())
    _bars(settings, "SPY", SPY)
    report = build_performance_report(settings, DAY, today=DAY + timedelta(days=1))
    days = report.document["series"]["dates"]
    assert len(days) == 6
    path = tmp_path / "performance_summary.html"
    path.write_text(report.html, encoding="utf-8")
    context = browser.new_context(offline=True)
    requests: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    charts = {c["cls"]: c for c in page.evaluate(_CHARTS)}
    assert list(charts) == ["chart equity", "chart drawdown", "chart pnl", "chart exposure"]
    for chart in charts.values():
        assert chart["width"] > 100 and chart["height"] > 50
    # beta joined on 02-27: its cash lifts the equity, not the time-weighted line
    equity, growth, benchmark = charts["chart equity"]["lines"]
    assert equity["name"] == "total equity" and "time-weighted" in growth["name"]
    assert "SPY" in benchmark["name"]
    assert equity["points"] == growth["points"] == benchmark["points"] == len(days)
    assert all(line["length"] > 100 and line["width"] > 100
               for c in ("chart equity", "chart drawdown", "chart exposure")
               for line in charts[c]["lines"])
    assert [b["name"] for b in charts["chart pnl"]["bars"]] == days
    assert all(b["width"] > 5 and b["height"] > 0.4 for b in charts["chart pnl"]["bars"])
    # the returns table: 4 periods of the totals and of each of the 2 accounts
    assert page.locator("table#t1 tbody tr").count() == 12
    assert requests == [path.as_uri()]
    context.close()
