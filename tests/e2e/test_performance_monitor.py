"""scripts/performance_monitor.sh / `mcp-trading monitor` against a running embedded platform:
host figures, every service's /health answer time, the SQLite stores' sizes and WAL; a
stopped platform's services are reported down with exit 1."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.e2e.harness import RunningPlatform

from mcp_trading.services import registry


def test_the_monitor_reports_host_services_and_stores(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory()
    got = p.cli("monitor", "--json", check=True)
    report = json.loads(got.stdout)
    assert report["running"] is True and report["unhealthy"] == []
    host = report["host"]
    assert 0 <= host["cpu_percent"] <= 100 and 0 < host["memory_percent"] <= 100
    assert len(host["load_average"]) == 3 and host["disk_free_bytes"] > 0
    by_name = {s["service"]: s for s in report["services"]}
    assert set(by_name) == set(registry.names())
    for name, s in by_name.items():  # the platform's own ports, not the runbook's defaults
        assert s["url"].endswith(f":{p.ports[name]}") and s["status"] == "healthy"
        assert 0 < s["response_ms"] < 5_000
    stores = {s["store"]: s for s in report["stores"]}
    assert stores["trading.db"]["kind"] == "sqlite" and stores["trading.db"]["size_bytes"] > 0
    assert stores["trading.db"]["wal_bytes"] >= 0
    script = p.script("performance_monitor.sh")
    assert script.returncode == 0, script.stdout + script.stderr
    assert "Performance Monitoring Report" in script.stdout and "trading-engine" in script.stdout
    p.stop()
    down = p.cli("monitor", "--json")
    assert down.returncode == 1
    assert set(json.loads(down.stdout)["unhealthy"]) == set(registry.names())
