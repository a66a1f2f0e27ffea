"""The soak benchmark in a bounded form: the suite runs it for seconds, not minutes.

The full run (`python benchmarks/soak.py`, 10 minutes at 500 orders/s) is a benchmark, not a
test; this one checks what a user depends on at any length: every acknowledged order is
found afterwards in the state its acknowledgements imply, no request failed, several
snapshots were taken under load, and the report carries every figure it promises.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_a_short_soak_loses_nothing_and_reports_every_figure() -> None:
    run = subprocess.run(
        [sys.executable, "benchmarks/soak.py", "--minutes", "0.25", "--rate", "150",
         "--warmup", "3", "--snapshot-every", "1500", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.stdout.strip(), run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["verified"]["ok"], report["verified"]
    assert report["verified"]["missing"] == 0 and report["verified"]["wrong_state"] == 0
    assert report["verified"]["acknowledged"] >= 150 * 15 * 0.9
    assert report["errors"] == {}
    assert report["snapshots"] >= 2
    for figure in ("ack_p50_ms", "ack_p99_ms", "ack_p999_ms", "ack_pause_max_ms",
                   "loop_lag_max_ms", "health_p99_ms", "rss_growth_per_closed_order_b",
                   "restart_s", "restart_rss_mb"):
        assert isinstance(report[figure], (int, float)), figure
    assert set(report["rss_mb"]) == {"start", "middle", "end"}
    assert report["restart_rss_mb"] > 0
    assert report["normalised"]["ack_p999_ms"] > 0
    # the engine's own timing of the measured period's acknowledgements, beside the client's
    server = report["server_ack"]
    assert server["count"] >= 150 * 15 * 0.8, server
    assert 0 < server["p50_ms"] <= server["p99_ms"] <= server["p999_ms"] <= server["max_le_ms"]
    assert server["p50_ms"] <= report["ack_p50_ms"] * 1.2  # inside the client's round trip
