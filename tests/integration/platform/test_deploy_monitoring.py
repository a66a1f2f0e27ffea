"""The shipped Prometheus rules and Grafana dashboard (deploy/): promtool checks and tests the
rules, and every metric they and the dashboard name is served by a live platform's /metrics.

promtool is Debian's `prometheus` package, which scripts/test.sh installs; missing, the
promtool test skips with a message, and fails under CI=true."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from tests.conftest import in_ci
from tests.integration.platform.conftest import FakeAuthenticator

from mcp_trading.config import Settings
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.services.alerts.notify import AlertingTask
from mcp_trading.services.trading_engine import rest as engine_rest

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RULES = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "mcp-trading.json"
_NAME = re.compile(r"\b(mcp_trading_[a-z0-9_]+|up)\b")
#: made by Prometheus itself for every scrape target, not served by an exporter
_SYNTHETIC = frozenset({"up"})
_SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",),
             "histogram": ("_bucket", "_sum", "_count", "_created")}


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        message = ("promtool is not installed (Debian's `prometheus` package; scripts/test.sh "
                   "installs it as root)")
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def _run(*args: str) -> str:
    result = subprocess.run(args, cwd=RULES, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_promtool_checks_and_tests_the_rules() -> None:
    promtool = _promtool()
    assert "SUCCESS: 14 rules found" in _run(promtool, "check", "rules", "alerts.yml")
    assert "SUCCESS" in _run(promtool, "test", "rules", "alerts_test.yml")
    _run(promtool, "check", "config", "--syntax-only", "prometheus.yml")


def _names_in_rules() -> set[str]:
    text = "\n".join(line for line in (RULES / "alerts.yml").read_text().splitlines()
                     if not line.lstrip().startswith("#"))
    exprs = re.findall(r"expr: (>\n(?:\s{10,}.*\n)+|.*)", text)
    return {m for expr in exprs for m in _NAME.findall(expr)}


def _names_in_dashboard() -> set[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return {m for p in panels for t in p["targets"] for m in _NAME.findall(t["expr"])}


def _served(exposition: str) -> set[str]:
    served = set()
    for kind_line in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, flags=re.M):
        family, kind = kind_line
        base = family.removesuffix("_total")
        served |= {base + suffix for suffix in _SUFFIXES.get(kind, ("",))}
    return served


def _live_metrics(tmp_path: Path) -> str:
    """/metrics of a started platform after one evaluation of its alert rules."""
    async def scenario() -> str:
        platform = bootstrap(Settings(data_dir=tmp_path), authenticator=FakeAuthenticator())
        await platform.start()
        try:
            task = next(w for w in platform.service_work() if isinstance(w, AlertingTask))
            await task.evaluate()
            app = engine_rest.build(platform, failing_checks=list)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://engine") as client:
                response = await client.get("/metrics", headers={"Authorization":
                                                                 "Bearer viewer"})
                assert response.status_code == 200, response.text
                return response.text
        finally:
            await platform.stop()

    return asyncio.run(scenario())


def test_every_metric_of_the_rules_and_dashboard_is_served(tmp_path: Path) -> None:
    named = _names_in_rules() | _names_in_dashboard()
    assert len(_names_in_rules()) >= 8 and len(_names_in_dashboard()) >= 15  # the parse works
    exposition = _live_metrics(tmp_path)
    served = _served(exposition)
    missing = sorted(named - served - _SYNTHETIC)
    assert missing == [], f"named in deploy/ but not served: {missing}"
    # the figures the rules watch are set by the alerting task's evaluation
    assert 'mcp_trading_alert_figure{metric="cpu_percent"}' in exposition


def test_the_check_catches_a_name_that_is_not_served() -> None:
    served = _served("# TYPE mcp_trading_orders counter\n# TYPE mcp_trading_feed_age_seconds gauge\n")
    assert {"mcp_trading_orders_total", "mcp_trading_feed_age_seconds"} <= served
    assert "mcp_trading_order_total" not in served and "mcp_trading_orders" not in served
