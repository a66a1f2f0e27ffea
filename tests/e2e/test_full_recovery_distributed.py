"""Full system recovery in distributed mode, against PostgreSQL: a traded, archived database
backed up with pg_dump; the data moves on; `scripts/full_system_recovery.sh` restores the
latest verified backup (pg_restore into a new database, swapped in by rename), halts new
orders offline, verifies, starts every service apart and runs the system integration test
against them — and trading stays halted until an operator resumes."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import psycopg
import pytest
from tests.e2e.distributed_harness import DistributedPlatform
from tests.e2e.harness import ROOT
from tests.integration.dataops.trading_days import trade_days

from mcp_trading.dataops import checks, pgadmin

# nine service processes start in step 5: ~40 s on a quiet box, minutes on a loaded one
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _databases(p: DistributedPlatform) -> set[str]:
    url = p.env["DATABASE_URL"]
    name = pgadmin.database_of(url)
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        return {r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (name + "%",))}


def test_full_system_recovery_against_postgresql_restores_and_leaves_trading_halted(
        distributed_factory: Any) -> None:
    p: DistributedPlatform = distributed_factory(start=False,
                                                 MCP_TRADING_DEPLOYMENT="distributed")
    url = p.env["DATABASE_URL"]
    p.cli("db", "upgrade", check=True)
    trade_days(p.data_dir, days=4, database_url=url)
    p.cli("archive", "--before", "2024-01-04", check=True)
    backed = json.loads(p.cli("backup", "--json", check=True).stdout)
    assert backed["status"] == "verified"
    assert any(f["kind"] == "postgres" for f in backed["files"])
    before = json.loads(p.cli("journal", "info", "--json", check=True).stdout)
    trade_days(p.data_dir, start="2024-01-08", days=1, seed=9, database_url=url)  # moves on
    assert checks.journal_last_seq(url) > backed["journal_last_seq"]

    script = subprocess.run(["bash", str(ROOT / "scripts" / "full_system_recovery.sh"),
                             "--timeout", "600"],  # a loaded CI host starts services slowly
                            env=p.env, capture_output=True, text=True, timeout=800, cwd=ROOT)
    try:
        out = script.stdout + script.stderr
        assert script.returncode == 0, out
        assert f"restored {backed['name']}" in out and "integrity verified" in out
        assert "system integration test passed" in out
        assert "manual approval required to resume trading" in out
        engine = p.client("trading-engine").get("/health").json()
        assert engine["trading_status"] == "halted_new_orders"
        # the replaced database is kept as the rollback copy, no scratch database is left
        names = _databases(p)
        assert any("_rollback_" in n for n in names), names
        assert not any("_restore_" in n or "_verify_" in n for n in names), names
        resumed = p.cli("resume", "--reason", "operator approved the recovery")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        engine = p.client("trading-engine").get("/health").json()
        assert engine["trading_status"] == "active"
        p.stop()
        after = json.loads(p.cli("journal", "info", "--json", check=True).stdout)
        assert after["accounts"]["paper"]["cash"] == before["accounts"]["paper"]["cash"]
        assert after["last_seq"] > backed["journal_last_seq"]  # the halt, self-test, resume
    finally:
        p.stop()
        for name in _databases(p) - {pgadmin.database_of(url)}:  # the rollback copy
            pgadmin.drop_database(url, name)
