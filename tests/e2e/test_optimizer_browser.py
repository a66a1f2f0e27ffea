"""The started platform's optimizer (ml-portfolio-optimizer), read in a real browser: an
optimisation over HTTP on :8052 (here an ephemeral port) on the sample history, then
`/runs/{id}/report.html` opened in headless Chromium from that server — one bar per weight,
the frontier line and the portfolio's dot drawn with a real size, no script, and no request
other than the page itself (everything else is aborted and recorded). The service also
shows in `mcp-trading status`.

Needs Debian's /usr/bin/chromium and playwright (as test_strategies_browser.py); under
CI=true a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.e2e.test_strategies_browser import _Page, ports
from typer.testing import CliRunner

from mcp_trading.cli import app as cli
from mcp_trading.config import Settings

pytestmark = pytest.mark.slow
__all__ = ["ports"]  # the embedded platform fixture, shared with the strategies' browser test

_SHAPES_JS = """() => Array.from(document.querySelectorAll('svg')).map(svg => ({
  bars: Array.from(svg.querySelectorAll('rect.weight')).map(r => {
      const b = r.getBoundingClientRect(); return {symbol: r.dataset.symbol, h: b.height}; }),
  lines: Array.from(svg.querySelectorAll('polyline.frontier')).map(p => {
      const b = p.getBoundingClientRect();
      return {points: p.points.numberOfItems, w: b.width, h: b.height}; }),
  dots: svg.querySelectorAll('circle.portfolio').length,
  assets: svg.querySelectorAll('circle.asset').length,
}))"""


def test_the_run_report_draws_the_weights_and_the_frontier(
        ports: tuple[Settings, dict[str, int]], browser: Any) -> None:
    settings, bound = ports
    base = f"http://127.0.0.1:{bound['optimizer']}"
    assert httpx.get(f"{base}/health").json()["status"] == "healthy"
    symbols = ["AAPL", "MSFT", "IBM", "GOOGL"]
    response = httpx.post(f"{base}/optimize", timeout=120, json={  # loopback: dev trust
        "symbols": symbols, "start": "2006-01-01", "end": "2012-12-31",
        "method": "max_sharpe", "constraints": {"bounds": [0.05, 0.6]}})
    assert response.status_code == 200, response.text
    run = response.json()

    page = _Page(browser, f"{base}/runs/{run['run_id']}/report.html")
    try:
        assert page.response.status == 200
        assert "default-src 'none'" in page.response.headers["content-security-policy"]
        weights, frontier = page.page.evaluate(_SHAPES_JS)
        assert [b["symbol"] for b in weights["bars"]] == symbols
        assert all(b["h"] > 1 for b in weights["bars"])  # every weight >= 5 %: a visible bar
        [line] = frontier["lines"]
        assert line["points"] == 20 and line["w"] > 100 and line["h"] > 10
        assert frontier["dots"] == 1 and frontier["assets"] == len(symbols)
        assert page.rows("weights") == len(symbols)
        assert page.page.locator("script").count() == 0
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.context.close()

    status = CliRunner().invoke(cli, ["status", "--json", "--data-dir", str(settings.data_dir)])
    row = next(r for r in json.loads(status.stdout)["services"] if r["service"] == "optimizer")
    assert (row["port"], row["up"], row["status"]) == (bound["optimizer"], True, "healthy")
