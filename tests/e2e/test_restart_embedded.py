"""`mcp-trading restart SERVICE` on an embedded platform: that service restarts inside the
process while orders keep flowing on :8010; trading-engine restarts the process."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx
import psutil
from tests.e2e.harness import ROOT, RunningPlatform


def _order_loop(running: RunningPlatform, stop: threading.Event, codes: list[int]) -> None:
    with httpx.Client(base_url=running.url("trading-engine"), timeout=15.0) as client:
        n = 0
        while not stop.is_set():  # buy one, sell it: the account's buying power lasts
            side = "buy" if n % 2 == 0 else "sell"
            answer = client.post("/orders", json={"symbol": "SPY", "qty": 1, "side": side,
                                                  "type": "market", "time_in_force": "day"})
            codes.append(answer.status_code)
            n += 1


def test_restart_market_data_while_orders_flow(running: RunningPlatform) -> None:
    assert running.process is not None
    pid = running.process.pid
    stop, codes = threading.Event(), []  # type: ignore[var-annotated]
    flow = threading.Thread(target=_order_loop, args=(running, stop, codes))
    flow.start()
    try:
        running.wait_for(lambda: len(codes) >= 20)
        result = running.cli("restart", "market-data")
        during = len(codes)
        running.wait_for(lambda: len(codes) >= during + 20)
    finally:
        stop.set()
        flow.join(30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"restarted market-data in pid {pid}" in " ".join(result.stdout.split())
    assert set(codes) == {200}, sorted(set(codes))  # not one order failed meanwhile
    assert "restarted market-data" in (running.data_dir / "logs" / "platform.log").read_text()
    assert running.process.poll() is None  # the same process serves on
    running.wait_for(lambda: running.health("market-data").get("market_data_status")
                     == "streaming")
    quotes = httpx.get(running.url("market-data", "/quotes"), timeout=5).json()
    assert quotes["quotes"], quotes
    # the runbook's line: with the platform running, the script restarts the service there
    script = subprocess.run([sys.executable, str(ROOT / "mcp_servers" / "market_data_server.py")],
                            env=running.env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert script.returncode == 0, script.stdout + script.stderr
    assert f"restarted market-data in pid {pid}" in " ".join(script.stdout.split())
    assert running.process.poll() is None


def test_restart_refuses_an_unknown_service_and_a_stopped_platform(
        running: RunningPlatform) -> None:
    unknown = running.cli("restart", "no-such-service")
    assert unknown.returncode == 1 and "not a service" in unknown.stderr
    running.stop()
    stopped = running.cli("restart", "market-data")
    assert stopped.returncode == 1 and "no platform is running" in stopped.stderr


def test_restart_trading_engine_restarts_the_process_gracefully(
        running: RunningPlatform) -> None:
    assert running.process is not None
    old = running.process.pid
    try:
        result = running.cli("restart", "trading-engine")
        assert result.returncode == 0, result.stdout + result.stderr
        assert running.process.wait(30) == 0  # the old process exited cleanly
        record = running.cli("status", "--json", check=True).stdout
        assert f'"pid": {old}' not in record
        assert running.health("trading-engine")["status"] in ("healthy", "degraded")
    finally:
        running.cli("stop")
    assert not any(p.pid == old for p in psutil.process_iter())
