"""The daily trading report's HTML, opened offline in headless Chromium: both charts drawn
(non-zero SVG boxes, polylines with points), the tables filled, no request but the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mcp_trading.analytics.trading_day import DayRows, FillRow, OrderRow, trading_report
from mcp_trading.reports.render_trading import trading_html

pytestmark = pytest.mark.slow

_D = __import__("decimal").Decimal


def _doc() -> dict[str, Any]:
    rows = DayRows("2026-11-30", "America/New_York", 0, 86_400 * 10**9, True)
    base = 1_764_511_200 * 10**9
    for i in range(30):
        side = "buy" if i % 2 == 0 else "sell"
        rows.orders.append(OrderRow(f"o{i}", "paper", "AAPL", side, "filled", "agent:a"))
        rows.fills.append(FillRow(base + i * 120 * 10**9, f"o{i}", "paper", "AAPL", side,
                                  _D(10), _D(100 + i), _D("0.10"), _D(i if side == "sell" else 0),
                                  _D(100 + i) - _D("0.01"), "agent:a"))
    return trading_report(rows, generated_ns=base)


def test_the_charts_are_drawn_offline(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "daily_trading.html"
    path.write_text(trading_html(_doc()), encoding="utf-8")
    context = browser.new_context(offline=True)
    requests: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    charts = page.evaluate("""() => [...document.querySelectorAll('svg.chart')].map(svg => {
      const box = svg.getBoundingClientRect();
      return {width: box.width, height: box.height,
              lines: [...svg.querySelectorAll('polyline')].map(p => {
                const b = p.getBBox(); return {points: p.points.numberOfItems,
                                               width: b.width, height: b.height};})};})""")
    assert len(charts) == 2
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 50
        assert chart["lines"] and all(ln["points"] == 30 and ln["width"] > 0
                                      for ln in chart["lines"])
    assert page.locator("table#t2 tbody tr").count() == 1  # P&L by symbol: AAPL
    assert requests == [path.as_uri()]
    context.close()
