"""`mcp-trading memory leaks`: the verdict from the RSS growth rate over the interval."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from mcp_trading.cli import app


def _traced(start_mb: float, end_mb: float) -> list[dict[str, Any]]:
    return [{"process": "platform", "url": "http://127.0.0.1:8010", "pid": 1,
             "rss_bytes_start": int(start_mb * 2**20), "rss_bytes_end": int(end_mb * 2**20),
             "growth_bytes": 0, "top_growing": []}]


@pytest.mark.parametrize(("end_mb", "leaking"), [(100.5, False), (102.0, True)])
def test_growth_above_the_threshold_is_reported_with_exit_1(
        monkeypatch: pytest.MonkeyPatch, end_mb: float, leaking: bool) -> None:
    # 60 s: +0.5 MB is 30 MB/h (under 50), +2 MB is 120 MB/h (over)
    monkeypatch.setattr("mcp_trading.cli.memory._trace_all",
                        lambda *_a, **_k: _traced(100.0, end_mb))
    got = CliRunner().invoke(app, ["memory", "leaks", "--interval", "60", "--json"])
    report = json.loads(got.stdout)
    assert report["leaking"] == (["platform"] if leaking else [])
    assert got.exit_code == (1 if leaking else 0)
    assert report["processes"][0]["rss_mb_per_hour"] == pytest.approx(
        (end_mb - 100.0) * 60, abs=0.2)


def test_a_bad_interval_is_refused() -> None:
    got = CliRunner().invoke(app, ["memory", "leaks", "--interval", "2"])
    assert got.exit_code == 2 and "--interval" in got.output
