"""The daily risk report's HTML, built from a real platform's store (positions in AAPL and
MSFT on the shipped sample history) and opened offline in headless Chromium: both bar charts
drawn (a non-zero box per bar, one per position and per VaR figure), the tables filled, no
request but the file."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.integration.platform.conftest import FakeAuthenticator

from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.reports.risk import build_risk_report

pytestmark = pytest.mark.slow


def _html(data_dir: Path) -> str:
    plat = bootstrap(Settings(data_dir=data_dir), authenticator=FakeAuthenticator())
    plat.open()
    plat.accepting = True
    try:
        import_sample(plat.history.store())
        kernel = plat.kernel_runtime.kernel
        for symbol, qty in (("AAPL", 100), ("MSFT", 50)):
            kernel.on_quote(Quote(symbol, Decimal("100.00"), Decimal("100.02"), Decimal(10_000),
                                  Decimal(10_000), Decimal("100.02"), time.time_ns()))
            kernel.submit("paper", OrderRequest.parse(symbol=symbol, side="buy", qty=qty))
        plat.kernel_runtime.journal.flush()
        day = datetime.now(ZoneInfo("America/New_York")).date()
        return build_risk_report(plat.settings, day).html
    finally:
        plat.accepting = False
        if plat.runtime is not None:
            plat.runtime.close()
        if plat.projector is not None:
            plat.projector.stop()


def test_the_bar_charts_are_drawn_offline(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "daily_risk.html"
    path.write_text(_html(tmp_path / "data"), encoding="utf-8")
    context = browser.new_context(offline=True)
    requests: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    charts = page.evaluate("""() => [...document.querySelectorAll('svg.chart')].map(svg => {
      const box = svg.getBoundingClientRect();
      return {cls: svg.getAttribute('class'), width: box.width, height: box.height,
              bars: [...svg.querySelectorAll('rect.bar')].map(r => {
                const b = r.getBBox(); return {name: r.dataset.name, width: b.width,
                                               height: b.height};})};})""")
    assert [c["cls"] for c in charts] == ["chart exposure", "chart var"]
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 50
        assert all(b["width"] > 1 and b["height"] > 5 for b in chart["bars"])
    assert [b["name"] for b in charts[0]["bars"]] == ["AAPL", "MSFT"]
    assert len(charts[1]["bars"]) == 12  # 3 methods x 95/99 % x 1/10 days
    assert page.locator("table#t1 tbody tr").count() == 12  # the VaR/ES table
    assert requests == [path.as_uri()]
    context.close()
