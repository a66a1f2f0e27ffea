"""After the swap, restore runs the backup verification's semantic checks again on the stores
in place (issue 16: "after restart the platform's state equals the backup's, the same checks
as verification"): they pass on a faithful restore and name the check when the store in place
is not what was checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from tests.integration.dataops.trading_days import trade_days

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import orders
from mcp_trading.config import Settings
from mcp_trading.dataops import restore
from mcp_trading.dataops.backup import run_backup


@pytest.fixture
def backed_up(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "var")
    trade_days(settings.data_dir, days=2)
    assert run_backup(settings)["status"] == "verified"
    return settings


def _checks(report: dict[str, Any]) -> dict[str, bool]:
    return {c["name"]: c["ok"] for c in report["checks"]}


def test_restore_checks_the_stores_in_place_like_verification(backed_up: Settings) -> None:
    report = restore.run_restore(backed_up, "latest")
    assert report["ok"], report["checks"]
    assert {"in-place:journal-contiguity", "in-place:state-equals-snapshot",
            "in-place:projection-equals-replay"} <= {k for k, ok in _checks(report).items() if ok}


def test_a_store_in_place_unlike_the_checked_copy_fails_the_restore(
        backed_up: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    real = restore.swap.run_plan

    def swap_then_lose_an_order(settings: Settings, plan: dict[str, Any]) -> Any:
        done = real(settings, plan)
        engine = create_store_engine(settings.resolved_reports_url)  # the store now in place
        with engine.begin() as conn:
            first = conn.execute(select(orders.c.id).limit(1)).scalar_one()
            conn.execute(delete(orders).where(orders.c.id == first))
        engine.dispose()
        return done

    monkeypatch.setattr(restore.swap, "run_plan", swap_then_lose_an_order)
    report = restore.run_restore(backed_up, "latest")
    assert not report["ok"]
    assert _checks(report)["in-place:projection-equals-replay"] is False
