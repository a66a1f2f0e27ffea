"""The started platform's trading-strategies service, read in a real browser: a backtest run
over HTTP on :8090 (here an ephemeral port), then `/backtests/{id}/report.html` and
`/backtests/compare.html` opened in headless Chromium from that server — the charts drawn,
the tables filled, and no request other than the page itself (everything else is aborted and
recorded). The service also shows in `mcp-trading status`.

Needs Debian's /usr/bin/chromium and playwright (as test_browser_cross_site.py); under
CI=true a missing browser fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.test_report_browser import _CHARTS_JS
from typer.testing import CliRunner

from mcp_trading.adapters.history.factory import open_history_store
from mcp_trading.adapters.history.sample import import_sample
from mcp_trading.analytics.run import METRIC_ROWS
from mcp_trading.cli import app as cli
from mcp_trading.config import Settings
from mcp_trading.processes.runner import serve_embedded
from mcp_trading.services import registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, int]]]:
    """The embedded platform (every service on an ephemeral port) over the sample's prices."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("var"), projection="off",
                        feed_interval_ms=50, **{s.port_setting: 0 for s in registry.specs()})
    history = open_history_store(settings.resolved_history_url)
    try:
        import_sample(history)
    finally:
        history.close()
    ready = threading.Event()
    bound: dict[str, int] = {}
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    errors: list[BaseException] = []
    switch = sys.getswitchinterval()

    def on_ready(found: dict[str, int]) -> None:
        bound.update(found)
        ready.set()

    def serve() -> None:
        try:
            loop.run_until_complete(serve_embedded(settings, stop=stop, on_ready=on_ready))
        except BaseException as exc:
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(60) and not errors, errors
    try:
        yield settings, bound
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
        sys.setswitchinterval(switch)
    assert not errors, errors


class _Page:
    """One page of the service opened in the browser; every other request is aborted."""

    def __init__(self, browser: Any, url: str) -> None:
        self.url = url
        self.context = browser.new_context()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", lambda route: route.continue_()
                           if route.request.url == url else route.abort())
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.response = self.page.goto(url, wait_until="load")

    def rows(self, table: str) -> int:
        count: int = self.page.locator(f"table#{table} tbody tr").count()
        return count

    def charts(self) -> dict[str, dict[str, Any]]:
        found = self.page.evaluate(_CHARTS_JS)
        return {kind: c for c in found for kind in ("equity", "drawdown")
                if kind in c["cls"].split()}


def _backtest(base: str, **changes: Any) -> dict[str, Any]:
    body = {"strategy": "sma_crossover", "symbols": ["AAPL", "MSFT"], "start": "2003-01-01",
            "end": "2009-12-31", **changes}
    response = httpx.post(f"{base}/backtests", json=body, timeout=120)  # loopback: dev trust
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_report_and_the_comparison_render_from_the_service(
        ports: tuple[Settings, dict[str, int]], browser: Any) -> None:
    settings, bound = ports
    base = f"http://127.0.0.1:{bound['strategies']}"
    assert httpx.get(f"{base}/health").json()["status"] == "healthy"
    a = _backtest(base)
    b = _backtest(base, params={"fast": 20, "slow": 50})
    record = httpx.get(f"{base}/backtests/{a['id']}").json()
    days = len(httpx.get(f"{base}/backtests/{a['id']}/equity").json()["equity"])

    page = _Page(browser, f"{base}/backtests/{a['id']}/report.html")
    try:
        assert page.response.status == 200
        assert "default-src 'none'" in page.response.headers["content-security-policy"]
        charts = page.charts()
        for kind in ("equity", "drawdown"):
            chart = charts[kind]
            assert chart["width"] > 100 and chart["height"] > 100, chart
            assert [line["points"] for line in chart["lines"]] == [days]
            assert all(line["width"] > 100 and line["height"] > 1 for line in chart["lines"])
        assert page.rows("trades") == record["metrics"]["trades"] > 0
        assert page.rows("metrics") == len(METRIC_ROWS)
        assert page.page.locator("script").count() == 0
        assert page.errors == []
        assert page.requests == [page.url]
    finally:
        page.context.close()

    compare = _Page(browser, f"{base}/backtests/compare.html?ids={a['id']},{b['id']}")
    try:
        assert compare.response.status == 200
        charts = compare.charts()
        assert len(charts["equity"]["lines"]) == 2
        assert compare.rows("metrics") == len(METRIC_ROWS)
        assert compare.errors == [] and compare.requests == [compare.url]
    finally:
        compare.context.close()

    status = CliRunner().invoke(cli, ["status", "--json", "--data-dir", str(settings.data_dir)])
    row = next(r for r in json.loads(status.stdout)["services"] if r["service"] == "strategies")
    assert (row["port"], row["up"], row["status"]) == (bound["strategies"], True, "healthy")


def test_the_page_checks_see_a_request_that_reaches_out(browser: Any, tmp_path: Path) -> None:
    """Control: the same recording sees a page that loads something from elsewhere."""
    path = tmp_path / "leaky.html"
    path.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
                    "</body></html>")
    page = _Page(browser, path.as_uri())
    try:
        assert "http://127.0.0.1:9/x.png" in page.requests
    finally:
        page.context.close()
