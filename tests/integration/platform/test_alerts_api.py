"""alerts :8100 over a real platform: alerts, acknowledgement, maintenance, health, the watcher."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.config import Settings
from mcp_trading.domain.orders import OrderRequest, OrderStatus
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.platform.alert_center import Severity
from mcp_trading.platform.platform import Platform
from mcp_trading.services import registry
from mcp_trading.services.alerts import rest as alerts
from mcp_trading.services.alerts.service import AlertWatcher, watch

Auth = Callable[[str], dict[str, str]]


class Checks:
    """A stand-in for the comprehensive health check: the failing lines, set by the test."""

    def __init__(self) -> None:
        self.failing: list[str] = []

    def __call__(self) -> list[str]:
        return list(self.failing)


@pytest.fixture
def checks() -> Checks:
    return Checks()


@pytest.fixture
def client(platform: Platform, checks: Checks) -> TestClient:
    return TestClient(alerts.build(platform, failing_checks=checks))


def _emergency_lines(platform: Platform) -> list[dict[str, Any]]:
    path = platform.emergency_log.path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_health_reports_alerts_maintenance_and_platform_checks(client: TestClient,
                                                               checks: Checks,
                                                               platform: Platform) -> None:
    body = client.get("/health").json()
    assert body["status"] == "healthy"
    assert body["open_alerts"] == 0
    assert body["maintenance"] is False
    assert body["platform_health"]["healthy"] is True
    assert {c["name"] for c in body["platform_health"]["checks"]} >= {"journal", "feed", "disk"}
    checks.failing = ["disk: 3 MB free"]
    platform.alerts.raise_alert("test", "something")
    body = client.get("/health").json()
    assert body["status"] == "degraded"
    assert body["open_alerts"] == 1
    assert body["platform_health"]["failing_checks"] == ["disk: 3 MB free"]


def test_list_and_filter_alerts(client: TestClient, auth: Auth, platform: Platform) -> None:
    first = platform.alerts.raise_alert("a", "first")
    platform.alerts.raise_alert("b", "second")
    platform.alerts.acknowledge(first.id, "someone")
    assert client.get("/alerts").status_code == 401
    every = client.get("/alerts", headers=auth("operator")).json()
    assert [a["kind"] for a in every["alerts"]] == ["b", "a"]
    assert every["open_alerts"] == 1
    open_only = client.get("/alerts", params={"acknowledged": "false"},
                           headers=auth("operator")).json()
    assert [a["kind"] for a in open_only["alerts"]] == ["b"]
    done = client.get("/alerts", params={"acknowledged": "true"}, headers=auth("operator")).json()
    assert [a["kind"] for a in done["alerts"]] == ["a"]
    assert done["alerts"][0]["acknowledged_by"] == "someone"
    one = client.get("/alerts", params={"limit": 1}, headers=auth("operator")).json()
    assert len(one["alerts"]) == 1


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"acknowledged": "maybe"}, "acknowledged")])
def test_bad_alert_query_is_a_422_naming_the_field(client: TestClient, auth: Auth,
                                                   params: dict[str, Any], field: str) -> None:
    response = client.get("/alerts", params=params, headers=auth("viewer"))
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_acknowledge_needs_a_trader_and_is_idempotent(client: TestClient, auth: Auth,
                                                      platform: Platform) -> None:
    alert = platform.alerts.raise_alert("x", "look at me", account_id="paper")
    url = f"/alerts/{alert.id}/acknowledge"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=auth("viewer")).status_code == 403
    body = client.post(url, headers=auth("trader")).json()
    assert body["acknowledged"] is True
    assert body["acknowledged_by"] == "key:test-trader"
    assert body["already_acknowledged"] is False
    again = client.post(url, headers=auth("operator")).json()
    assert again["already_acknowledged"] is True
    assert again["acknowledged_by"] == "key:test-trader"
    assert platform.alerts.open_count == 0


def test_acknowledge_unknown_or_malformed_ids(client: TestClient, auth: Auth) -> None:
    missing = client.post("/alerts/999/acknowledge", headers=auth("trader"))
    assert missing.status_code == 404
    malformed = client.post("/alerts/abc/acknowledge", headers=auth("trader"))
    assert malformed.status_code == 422
    assert malformed.json()["field"] == "alert_id"


def test_maintenance_start_and_complete(client: TestClient, auth: Auth, feed_quote: Any,
                                        platform: Platform) -> None:
    feed_quote()
    runtime = platform.kernel_runtime
    response = client.post("/alerts/maintenance-start", headers=auth("operator"))
    assert response.status_code == 200
    body = response.json()
    assert (body["maintenance"], body["changed"]) == (True, True)
    assert runtime.journal.durable_seq == runtime.kernel.seq  # acknowledged = journaled
    assert client.get("/health").json()["maintenance"] is True
    refused = runtime.kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty=1, side="buy"))
    assert (refused.status, refused.reject_code) == (OrderStatus.REJECTED, "MAINTENANCE")
    done = client.post("/alerts/maintenance-complete", headers=auth("operator"),
                       json={"reason": "patched"}).json()
    assert (done["maintenance"], done["changed"], done["reason"]) == (False, True, "patched")
    assert client.get("/health").json()["maintenance"] is False
    accepted = runtime.kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty=1, side="buy"))
    assert accepted.status is OrderStatus.FILLED
    actions = [e["action"] for e in _emergency_lines(platform)]
    assert actions == ["maintenance-start", "maintenance-complete"]
    kinds = [(a.kind, a.severity) for a in platform.alerts.list()]
    assert kinds == [("maintenance", Severity.INFO), ("maintenance", Severity.WARNING)]


def test_repeating_maintenance_start_changes_nothing(client: TestClient, auth: Auth,
                                                     platform: Platform) -> None:
    client.post("/alerts/maintenance-start", headers=auth("operator"))
    seq = platform.kernel_runtime.kernel.seq
    again = client.post("/alerts/maintenance-start", headers=auth("operator")).json()
    assert (again["maintenance"], again["changed"]) == (True, False)
    assert platform.kernel_runtime.kernel.seq == seq
    assert len(_emergency_lines(platform)) == 1
    assert len(platform.alerts.list()) == 1


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"reason": 5}, 422, "reason"), ({"why": "x"}, 422, "why")])
def test_bad_maintenance_body_changes_nothing(client: TestClient, auth: Auth, platform: Platform,
                                              body: dict[str, Any], status: int,
                                              field: str) -> None:
    response = client.post("/alerts/maintenance-start", headers=auth("operator"), json=body)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert platform.kernel_runtime.kernel.state.maintenance is None


def test_maintenance_needs_an_operator(client: TestClient, auth: Auth) -> None:
    assert client.post("/alerts/maintenance-start").status_code == 401
    assert client.post("/alerts/maintenance-start", headers=auth("trader")).status_code == 403


def test_maintenance_survives_a_restart(tmp_path: Path) -> None:
    def opened() -> Platform:
        plat = Platform(Settings(data_dir=tmp_path))
        plat.open()
        return plat

    def close(plat: Platform) -> None:
        assert plat.runtime is not None and plat.projector is not None
        plat.runtime.close()
        plat.projector.stop()

    first = opened()
    first.kernel_runtime.kernel.set_maintenance(True, reason="db upgrade", actor="test")
    close(first)
    second = opened()
    try:
        assert second.kernel_runtime.kernel.state.maintenance == "db upgrade"
    finally:
        close(second)


def test_the_watcher_is_the_specs_task_not_the_faces(platform: Platform) -> None:
    alerts.build(platform)
    assert not platform.background  # building a face starts nothing
    assert [t.name for t in registry.get("alerts").tasks] == ["watcher", "alerting"]


# ---- the watcher ----------------------------------------------------------------------------

def test_watcher_raises_once_per_feed_transition(platform: Platform, checks: Checks) -> None:
    watcher = AlertWatcher(platform.core, checks)
    platform.health.feed_status = "streaming"
    assert watcher.poll() == []
    platform.health.feed_status = "stale"
    (stale,) = watcher.poll()
    assert (stale.kind, stale.severity) == ("stale_feed", Severity.WARNING)
    assert watcher.poll() == []  # still stale: no second alert
    platform.health.feed_status = "down"
    (down,) = watcher.poll()
    assert down.severity is Severity.CRITICAL
    platform.health.feed_status = "streaming"
    assert watcher.poll() == []
    platform.health.feed_status = "stale"
    assert len(watcher.poll()) == 1  # a new episode


def test_watcher_raises_when_a_health_check_starts_failing(platform: Platform,
                                                           checks: Checks) -> None:
    platform.health.feed_status = "streaming"
    watcher = AlertWatcher(platform.core, checks)
    checks.failing = ["disk: 3 MB free", "feed: stale"]  # the feed has its own alert
    (alert,) = watcher.poll()
    assert alert.kind == "health"
    assert "disk: 3 MB free" in alert.message
    checks.failing = ["disk: 2 MB free"]  # same check, new detail: no new alert
    assert watcher.poll() == []
    checks.failing = ["disk: 2 MB free", "journal: failed: OSError"]
    (journal,) = watcher.poll()
    assert journal.severity is Severity.CRITICAL


def test_watcher_raises_on_a_risk_breach_not_an_operator_halt(platform: Platform,
                                                              checks: Checks,
                                                              feed_quote: Any,
                                                              place_order: Any) -> None:
    watcher = AlertWatcher(platform.core, checks)
    kernel = platform.kernel_runtime.kernel
    kernel.halt(reason="operator halt", actor="key:ops")
    feed_quote()
    assert watcher.poll() == []
    kernel.resume(reason="ok", actor="key:ops")
    place_order(qty=100)
    kernel.set_limits("paper", {"daily_loss_limit": 50}, actor="test")
    feed_quote(bid="98.00", ask="98.02")
    assert kernel.state.accounts["paper"].state is TradingState.REDUCING
    (breach,) = watcher.poll()
    assert (breach.kind, breach.severity) == ("limit_breach", Severity.CRITICAL)
    assert breach.details["account_id"] == "paper"
    assert "RISK_DAILY_LOSS" in breach.message
    assert watcher.poll() == []


def test_watch_polls_until_cancelled(platform: Platform, checks: Checks) -> None:
    platform.health.feed_status = "stale"

    async def run() -> None:
        task = asyncio.create_task(watch(platform, failing_checks=checks, interval=0.01))
        for _ in range(100):
            await asyncio.sleep(0.01)
            if platform.alerts.list():
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert [a.kind for a in platform.alerts.list()] == ["stale_feed"]


def test_watch_is_quiet_while_the_platform_is_stopping(platform: Platform, checks: Checks) -> None:
    platform.accepting = False
    platform.health.feed_status = "down"
    checks.failing = ["accepting: stopping"]

    async def run() -> None:
        task = asyncio.create_task(watch(platform, failing_checks=checks, interval=0.01))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert platform.alerts.list() == []


# ---- scoping: who sees and acknowledges which alert -----------------------------------------


def _kinds(client: TestClient, auth: Auth, who: str) -> list[str]:
    body = client.get("/alerts", headers=auth(who)).json()
    return [a["kind"] for a in body["alerts"]]


def _some_alerts(platform: Platform) -> None:
    center = platform.alerts
    center.raise_alert("limit_breach", "account paper moved to halted", account_id="paper")
    center.raise_alert("cancel_all", "cancel-all on other by key:OtherKey0001",
                       details={"account_id": "other", "canceled_count": 2})
    center.raise_alert("halt", "halt:halted by key:OperatorKey1: drill")
    center.raise_alert("health", "health check failing: disk: 3 MB free")
    center.raise_alert("journal", "journal write failed (OSError)")


def test_a_trader_sees_its_accounts_alerts_and_the_platform_wide_ones_that_matter(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    _some_alerts(platform)
    assert _kinds(client, auth, "trader@paper") == ["halt", "limit_breach"]
    assert _kinds(client, auth, "viewer@other") == ["halt", "cancel_all"]
    assert _kinds(client, auth, "operator") == ["journal", "health", "halt", "cancel_all",
                                                "limit_breach"]
    body = client.get("/alerts", headers=auth("trader@paper")).json()
    assert body["open_alerts"] == 2  # its own count, not the platform's 5
    assert body["alerts"][1]["account_id"] == "paper"


def test_other_callers_key_ids_are_masked_below_operator(client: TestClient, auth: Auth,
                                                         platform: Platform) -> None:
    _some_alerts(platform)
    paper = platform.alerts.raise_alert("limit_breach", "seen by key:test-trader and "
                                        "key:Stranger0001", account_id="paper")
    platform.alerts.acknowledge(paper.id, "key:Stranger0001")
    text = client.get("/alerts", headers=auth("trader@paper")).text
    assert "OperatorKey1" not in text and "Stranger0001" not in text
    assert "key:***" in text
    assert "key:test-trader" in text  # the caller's own id stays
    every = client.get("/alerts", headers=auth("operator")).text
    assert "OperatorKey1" in every and "Stranger0001" in every


def test_a_trader_cannot_acknowledge_another_accounts_or_a_platform_alert(
        client: TestClient, auth: Auth, platform: Platform) -> None:
    others = platform.alerts.raise_alert("limit_breach", "other halted", account_id="other")
    halt = platform.alerts.raise_alert("halt", "platform halted")
    mine = platform.alerts.raise_alert("limit_breach", "paper halted", account_id="paper")
    hidden = client.post(f"/alerts/{others.id}/acknowledge", headers=auth("trader@paper"))
    assert hidden.status_code == 404  # not even its existence is told
    platform_wide = client.post(f"/alerts/{halt.id}/acknowledge", headers=auth("trader@paper"))
    assert platform_wide.status_code == 403 and "operator" in platform_wide.json()["message"]
    assert others.acknowledged_by is None and halt.acknowledged_by is None
    ok = client.post(f"/alerts/{mine.id}/acknowledge", headers=auth("trader@paper"))
    assert ok.status_code == 200 and mine.acknowledged_by == "key:test-trader"
    assert client.post(f"/alerts/{halt.id}/acknowledge",
                       headers=auth("operator")).status_code == 200


def test_an_account_breach_is_seen_by_that_accounts_traders_only(
        client: TestClient, auth: Auth, platform: Platform, checks: Checks) -> None:
    kernel = platform.kernel_runtime.kernel
    kernel.open_account("other", Decimal(1000))
    kernel.halt(account_id="other", reason="RISK_MAX_DRAWDOWN: test", actor="risk")
    AlertWatcher(platform.core, checks).poll()
    [breach] = [a for a in platform.alerts.list() if a.kind == "limit_breach"]
    assert breach.account_id == "other"
    assert "limit_breach" not in _kinds(client, auth, "trader@paper")
    assert "limit_breach" in _kinds(client, auth, "trader@other")
