"""Full system recovery as an operator runs it: a traded, archived, backed-up data directory;
`scripts/full_system_recovery.sh` restores the latest verified backup, comes up halted,
verifies, starts and runs tests/system_integration_test.py; trading stays halted until
`mcp-trading resume`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest
from tests.e2e.harness import ROOT, RunningPlatform
from tests.integration.dataops.trading_days import trade_days

pytestmark = pytest.mark.slow


def test_full_system_recovery_restores_verifies_and_leaves_trading_halted(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory(start=False)
    trade_days(p.data_dir, days=6)
    p.cli("archive", "--before", "2024-01-05", check=True)
    p.cli("backup", check=True)
    before = json.loads(p.cli("journal", "info", "--json", check=True).stdout)
    script = subprocess.run(["bash", str(ROOT / "scripts" / "full_system_recovery.sh")],
                            env=p.env, capture_output=True, text=True, timeout=400, cwd=ROOT)
    try:
        out = script.stdout
        assert script.returncode == 0, out + script.stderr
        assert "restored backup-" in out and "integrity verified" in out
        assert "system integration test passed" in out
        assert "manual approval required to resume trading" in out
        assert p.health("trading-engine")["trading_status"] == "halted_new_orders"
        resumed = p.cli("resume", "--reason", "operator approved the recovery")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert p.health("trading-engine")["trading_status"] == "active"
        # the runbook's "full system test" after an incident, on the resumed platform: the
        # self-test trades on the internal account only
        full = subprocess.run(["python3", str(ROOT / "tests" / "integration_test.py"), "--json"],
                              env=p.env, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert full.returncode == 0, full.stdout + full.stderr
        assert json.loads(full.stdout)["ok"] is True
        assert p.health("trading-engine")["trading_status"] == "active"
    finally:
        p.cli("stop")
    after = json.loads(p.cli("journal", "info", "--json", check=True).stdout)
    assert after["platform_state"] == "active"
    assert after["accounts"]["paper"]["cash"] == before["accounts"]["paper"]["cash"]
    # the recovery journaled the halt, the self-test (internal account) and the resume, and
    # changed no user's cash
    assert after["last_seq"] > before["last_seq"]
