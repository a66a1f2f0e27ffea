"""`python memory_profiler.py` and `python scripts/memory_leak_detector.py` against a running
embedded platform through its admin-only GET /admin/memory: RSS and the top growing sites, a
temporary admin key revoked after the run, one trace at a time per process, and the route's
refusals."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.e2e.harness import ROOT, RunningPlatform


def _run(p: RunningPlatform, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["python3", str(ROOT / script), *args], env=p.env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_the_profiler_and_the_leak_detector_trace_the_running_platform(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory()
    got = _run(p, "memory_profiler.py", "--interval", "1", "--top", "5", "--json")
    assert got.returncode == 0, got.stdout + got.stderr
    (proc,) = json.loads(got.stdout)["processes"]
    assert p.process is not None and proc["pid"] == p.process.pid
    assert proc["rss_bytes_end"] > 10 * 2**20 and proc["rss_samples"] >= 2
    assert len(proc["top_growing"]) <= 5
    for site in proc["top_growing"]:
        assert site["size_diff_bytes"] > 0 and site["line"] > 0 and site["file"]
    keys = json.loads(p.cli("keys", "list", "--json", check=True).stdout)
    temporary = [k for k in keys if k["name"] == "memory-profiler (temporary)"]
    assert temporary and all(not k["active"] for k in temporary)  # revoked after the run
    leaks = _run(p, "scripts/memory_leak_detector.py", "--interval", "5",
                 "--threshold-mb-per-hour", "100000", "--json")
    assert leaks.returncode == 0, leaks.stdout + leaks.stderr
    report = json.loads(leaks.stdout)
    assert report["leaking"] == [] and "rss_mb_per_hour" in report["processes"][0]
    p.stop()
    down = _run(p, "memory_profiler.py", "--interval", "1")
    assert down.returncode == 2 and "not running" in down.stderr


def test_the_admin_route_refuses_and_runs_one_trace_at_a_time(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory(MCP_TRADING_PROFILE="production",
                         JWT_SECRET="e2e-production-secret-with-enough-length-0123456789")
    admin = json.loads(p.cli("keys", "create", "--role", "admin", "--all-accounts", "--json",
                             check=True).stdout)["key"]
    operator = json.loads(p.cli("keys", "create", "--role", "operator", "--all-accounts",
                                "--json", check=True).stdout)["key"]
    url = p.url("market-data", "/admin/memory")
    assert httpx.get(url, params={"interval_s": 1}).status_code == 401
    assert httpx.get(url, params={"interval_s": 1},
                     headers={"Authorization": f"Bearer {operator}"}).status_code == 403
    auth = {"Authorization": f"Bearer {admin}"}
    missing = httpx.get(url, headers=auth)
    assert missing.status_code == 422 and missing.json()["field"] == "interval_s"
    assert httpx.get(url, params={"interval_s": 601}, headers=auth).status_code == 422
    assert httpx.get(url, params={"interval_s": 1, "top": 0}, headers=auth).status_code == 422
    first: dict[str, Any] = {}

    def long_trace() -> None:
        first["response"] = httpx.get(url, params={"interval_s": 4}, headers=auth, timeout=30)

    runner = threading.Thread(target=long_trace)
    runner.start()
    try:
        time.sleep(1.0)  # the first trace is under way (it runs 4 s)
        for _ in range(3):  # the same process behind another service's port
            second = httpx.get(p.url("orders", "/admin/memory"), params={"interval_s": 1},
                               headers=auth, timeout=30)
            if second.status_code == 409:
                break
        else:
            pytest.fail("a second concurrent trace was not refused")
        assert "already running" in second.json()["message"]
    finally:
        runner.join()
    assert first["response"].status_code == 200
