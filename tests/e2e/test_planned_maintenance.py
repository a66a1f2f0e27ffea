"""scripts/planned_maintenance.sh on a running embedded platform, as the runbook runs it:
maintenance-start (journaled: orders refused), graceful shutdown, the maintenance, startup,
the post-maintenance check, maintenance-complete — and a bad type refused before anything."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.e2e.harness import RunningPlatform

ORDER = {"symbol": "SPY", "qty": 1, "side": "buy", "type": "market"}


def _emergency_actions(p: RunningPlatform) -> list[str]:
    log = p.data_dir / "logs" / "emergency.log"
    return [json.loads(line)["action"] for line in log.read_text().splitlines() if line.strip()]


def test_database_maintenance_brackets_a_restart_and_leaves_trading_open(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory()
    assert p.client("trading-engine").post("/orders", json=ORDER).status_code == 200
    run = p.script("planned_maintenance.sh", "database-maintenance")
    try:
        out = run.stdout + run.stderr
        assert run.returncode == 0, out
        for line in ("1. Notifying users", "Platform stopped", "Database maintenance completed",
                     "Platform started", "Post-maintenance check passed",
                     "Planned maintenance completed"):
            assert line in out, line
        actions = _emergency_actions(p)
        assert actions.index("maintenance-start") < actions.index("maintenance-complete")
        health = p.health("trading-engine")
        assert health["maintenance"] is False and health["accepting_orders"] is True
        assert p.client("trading-engine").post("/orders", json=ORDER).status_code == 200
    finally:
        p.cli("stop")


def test_security_update_only_prints_without_yes_and_a_bad_type_is_refused(
        platform_factory: Callable[..., RunningPlatform]) -> None:
    p = platform_factory()
    bad = p.script("planned_maintenance.sh", "reboot-everything")
    assert bad.returncode == 2 and "usage:" in bad.stderr
    assert p.health("trading-engine")["maintenance"] is False  # nothing was done
    run = p.script("planned_maintenance.sh", "security-update")
    try:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "would run: apt-get update && apt-get upgrade -y" in run.stdout
    finally:
        p.cli("stop")
