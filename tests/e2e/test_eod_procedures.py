"""scripts/daily_eod_procedures.sh on a running platform after a few trades: the trading and
risk reports land under <data dir>/reports/<date>/, the backup is made and verified, a stale
platform temp file is removed while a file that is not the platform's is left alone; the
performance summary is written, stored and listed by the portfolio service (GET
:8013/portfolio/reports) and the script exits 0 — or, on a tree without
reports/performance_summary.py, exits non-zero naming that step (every step still runs)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from tests.e2e.harness import ROOT, RunningPlatform

STALE = time.time() - 3 * 86400


def test_eod_after_trades(platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory()
    te = p.client("trading-engine")
    for side, qty in (("buy", 3), ("buy", 2), ("sell", 1)):
        r = te.post("/orders", json={"symbol": "SPY", "qty": qty, "side": side, "type": "market"})
        assert r.status_code == 200 and r.json()["status"] == "filled", r.text
    stale_tmp = p.data_dir / ".mcp-trading.pid.abc123.tmp"
    fresh_tmp = p.data_dir / ".manifest.json.fresh.tmp"
    stale_dir = p.data_dir / "backups" / ".unpack-old"
    outside = p.data_dir / "notes.tmp.keep"
    foreign = p.data_dir.parent / "trading_someone_else.tmp"
    stale_dir.mkdir(parents=True)
    (stale_dir / "x").write_text("scratch")
    for f in (stale_tmp, fresh_tmp, outside, foreign):
        f.write_text("x")
    for f in (stale_tmp, outside, foreign, stale_dir):
        os.utime(f, (STALE, STALE))

    # the scripts fall back to `mcp-trading`/`python3` on PATH without a repo .venv (worktrees)
    p.env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{p.env.get('PATH', '')}"
    done = p.script("daily_eod_procedures.sh")
    out = done.stdout + done.stderr
    performance_exists = (ROOT / "reports" / "performance_summary.py").exists()

    assert (p.data_dir / "reports").is_dir(), out
    [day] = [d for d in (p.data_dir / "reports").iterdir() if d.is_dir()]
    assert (day / "daily_trading.json").exists(), out
    assert any(f.name.startswith("daily_risk") for f in day.iterdir()), out
    assert "Backup completed and verified" in out
    assert any((p.data_dir / "backups").glob("*/manifest.json")) or \
        any((p.data_dir / "backups").glob("*.tar*")), out
    assert not stale_tmp.exists() and not stale_dir.exists(), out
    assert fresh_tmp.exists() and outside.exists() and foreign.exists()
    for step in ("trading report", "backup (verified)", "risk report", "temp cleanup"):
        assert any(line.startswith(step) and line.rstrip().endswith("ok")
                   for line in out.splitlines()), f"{step} not ok:\n{out}"
    if not performance_exists:
        assert done.returncode == 1, out
        assert "reports/performance_summary.py is missing" in out
        assert "FAILED: performance summary" in out
    else:
        assert done.returncode == 0, out
        assert (day / "performance_summary.json").exists(), out
        assert any(line.startswith("performance summary") and line.rstrip().endswith("ok")
                   for line in out.splitlines()), out
        listed = p.client("portfolio").get("/portfolio/reports", params={"date": day.name})
        assert listed.status_code == 200, listed.text
        assert {r["name"] for r in listed.json()["reports"]} >= {
            "daily_trading", "daily_risk", "performance_summary"}, listed.text
