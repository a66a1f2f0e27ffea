"""The HTML backtest report and comparison, read as a person would: headless Chromium opens
them from file:// with every network request aborted, and the charts must be drawn.

Checked in the page, not in the markup: each chart's SVG has a non-zero rendered size, the
browser parsed one polyline point per day (`SVGPolylineElement.points`) and the line has a
non-zero bounding box; the trade and metric tables have their rows; a run named with a
`<script>` shows that name as text and runs nothing; no console error, no page error, and no
request other than the file itself.

Needs Debian's /usr/bin/chromium and playwright (as tests/e2e/test_browser_cross_site.py);
under CI=true a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.analytics_runs import sample_run

from mcp_trading.analytics.report import compare_report, report_html
from mcp_trading.analytics.run import METRIC_ROWS, RunReport

pytestmark = pytest.mark.slow

EVIL = "<script>window.__ran = true</script><img src=x onerror=\"window.__ran = true\">"

_CHARTS_JS = """
() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {cls: svg.getAttribute('class'), width: box.width, height: box.height,
          lines: [...svg.querySelectorAll('polyline')].map(p => {
            const b = p.getBBox();
            return {points: p.points.numberOfItems, width: b.width, height: b.height};
          }),
          texts: [...svg.querySelectorAll('text')].map(t => t.textContent)};
})
"""


class _Opened:
    """A page opened offline, with everything it tried to fetch and every error it logged."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.as_uri()
        self.context = browser.new_context(offline=True)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(self.url, wait_until="load")

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if url != self.url]

    def close(self) -> None:
        self.context.close()


def _open(browser: Any, tmp_path: Path, name: str, html_text: str) -> _Opened:
    path = tmp_path / name
    path.write_text(html_text, encoding="utf-8")
    return _Opened(browser, path)


def _assert_drawn(charts: list[dict[str, Any]], kind: str, days: list[int]) -> None:
    [chart] = [c for c in charts if kind in c["cls"].split()]
    assert chart["width"] > 100 and chart["height"] > 100, chart
    assert [line["points"] for line in chart["lines"]] == days
    assert all(line["width"] > 100 and line["height"] > 1 for line in chart["lines"]), chart
    assert any("date" in text for text in chart["texts"]), "the x axis has its label"


def _rows(opened: _Opened, table: str) -> int:
    count: int = opened.page.locator(f"table#{table} tbody tr").count()
    return count


def test_the_report_draws_its_charts_offline(browser: Any, tmp_path: Path) -> None:
    run: RunReport = sample_run(title=EVIL, params={"fast": 20, "slow": 50, "note": EVIL})
    opened = _open(browser, tmp_path, "report.html", report_html(run))
    try:
        charts = opened.page.evaluate(_CHARTS_JS)
        _assert_drawn(charts, "equity", [len(run.curve)])
        _assert_drawn(charts, "drawdown", [len(run.curve)])
        assert _rows(opened, "trades") == len(run.trades) > 5
        assert _rows(opened, "metrics") == len(METRIC_ROWS)
        assert opened.page.title() == EVIL  # the name as text
        assert opened.page.locator("h1").inner_text() == EVIL
        assert opened.page.evaluate("window.__ran === undefined")
        assert opened.page.locator("script, img").count() == 0
        assert opened.errors == []
        assert opened.foreign_requests() == []
    finally:
        opened.close()


def test_the_comparison_overlays_every_run(browser: Any, tmp_path: Path) -> None:
    runs = [sample_run(fast=10, slow=30), sample_run(fast=20, slow=50),
            sample_run("MSFT", days=500, cash=Decimal(50_000))]
    opened = _open(browser, tmp_path, "compare.html", compare_report(runs))
    try:
        charts = opened.page.evaluate(_CHARTS_JS)
        days = [len(run.curve) for run in runs]
        assert days == [750, 750, 500]
        _assert_drawn(charts, "equity", days)
        _assert_drawn(charts, "drawdown", days)
        header = opened.page.locator("table#metrics thead th").all_inner_texts()
        assert header == ["Metric", *(run.title for run in runs)]
        assert _rows(opened, "metrics") == len(METRIC_ROWS)
        legend = [t for c in charts for t in c["texts"] if t in {r.title for r in runs}]
        assert len(legend) == 2 * len(runs)  # a legend on both charts
        assert opened.errors == []
        assert opened.foreign_requests() == []
    finally:
        opened.close()


def test_the_checks_see_a_page_that_reaches_out(browser: Any, tmp_path: Path) -> None:
    """Control: a page that loads an image and a script from the network and throws is caught
    by the same request and error checks (so their silence above means something)."""
    page = ('<!DOCTYPE html><html><head><title>t</title></head><body>'
            '<img src="http://127.0.0.1:9/chart.png">'
            '<script src="https://cdn.example.invalid/lib.js"></script>'
            '<script>throw new Error("boom")</script></body></html>')
    opened = _open(browser, tmp_path, "leaky.html", page)
    try:
        assert "http://127.0.0.1:9/chart.png" in opened.foreign_requests()
        assert "https://cdn.example.invalid/lib.js" in opened.foreign_requests()
        assert any("boom" in error for error in opened.errors)
    finally:
        opened.close()
