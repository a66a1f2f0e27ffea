"""The runbook's morning checklist and health scripts against a running platform."""

from __future__ import annotations

import json

from tests.e2e.harness import RunningPlatform


def test_morning_checklist_passes_on_a_healthy_platform(running: RunningPlatform) -> None:
    result = running.script("daily_startup_check.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "streaming" in out and "active" in out and "simulator" in out
    assert "Daily startup check completed" in out


def test_health_check_all_reports_json_and_exit_codes(running: RunningPlatform) -> None:
    result = running.cli("health", "--check-all", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "healthy"
    names = {c["check"] for c in report["checks"]}
    assert {"service:market-data", "service:trading-engine", "store", "feed", "disk"} <= names
    assert running.script("health_check.sh").returncode == 0
    assert running.script("comprehensive_health_check.sh").returncode == 0


def test_status_lists_every_service_with_pid_and_port(running: RunningPlatform) -> None:
    result = running.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    services = {s["service"]: s for s in json.loads(result.stdout)["services"]}
    assert set(services) == set(running.ports)
    assert all(s["up"] and s["pid"] for s in services.values())
    assert services["trading-engine"]["port"] == running.ports["trading-engine"]


def test_emergency_halt_script_then_resume(running: RunningPlatform) -> None:
    halted = running.script("emergency_halt.sh", "drill")
    assert halted.returncode == 0, halted.stdout + halted.stderr
    assert running.health("trading-engine")["trading_status"] == "halted"
    resumed = running.script("resume_trading.sh", "drill over")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert running.health("trading-engine")["trading_status"] == "active"


def test_stop_is_graceful_and_a_restart_keeps_every_order(running: RunningPlatform) -> None:
    te = running.client("trading-engine")
    placed = te.post("/orders", json={"symbol": "SPY", "qty": 1, "side": "buy", "type": "limit",
                                      "limit_price": "1.00", "time_in_force": "gtc"}).json()
    stopped = running.cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert running.process is not None and running.process.wait(10) == 0
    assert not (running.data_dir / "mcp-trading.pid").exists()
    for c in running.clients.values():
        c.close()
    running.clients.clear()
    running.start()
    again = running.client("trading-engine").get(f"/orders/{placed['id']}")
    assert again.status_code == 200 and again.json()["status"] == "new"
