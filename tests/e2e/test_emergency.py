"""The emergency sequence: halt under load, close-all, resume guarded by health."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import httpx
from tests.e2e.harness import RunningPlatform


def _ts(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_no_order_is_accepted_after_the_halt_is_acknowledged(running: RunningPlatform) -> None:
    url = running.url("trading-engine")
    stop = threading.Event()
    accepted: list[dict[str, str]] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        with httpx.Client(base_url=url, timeout=15) as c:
            while not stop.is_set():  # resting buys far below the market: working orders
                r = c.post("/orders", json={"symbol": "SPY", "qty": 1 + k % 3, "side": "buy",
                                            "type": "limit", "limit_price": "1.00",
                                            "time_in_force": "day"})
                if r.status_code == 200:
                    with lock:
                        accepted.append(r.json())

    threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    halt = httpx.post(running.url("trading-engine", "/emergency/halt"), timeout=15)
    halt_acked = time.time()
    assert halt.status_code == 200, halt.text
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    body = halt.json()
    assert body["trading_status"] == "halted"
    halted_at = _ts(body["halted_at"])
    assert accepted, "no order was accepted before the halt: the test proved nothing"
    late = [o for o in accepted if _ts(o["created_at"]) > halted_at]
    assert not late, f"{len(late)} orders accepted after the halt"
    assert all(_ts(o["created_at"]).timestamp() <= halt_acked for o in accepted)
    # every working order was canceled in the same step
    account = running.client("trading-engine").get("/account").json()
    assert account["open_orders"] == 0
    refused = running.client("trading-engine").post(
        "/orders", json={"symbol": "SPY", "qty": 1, "side": "buy", "type": "market"})
    assert refused.status_code == 403 and refused.json()["code"] == "TRADING_HALTED"
    log = (running.data_dir / "logs" / "emergency.log").read_text()
    assert '"action": "halt:halted"' in log


def test_close_all_positions_works_while_halted(running: RunningPlatform) -> None:
    te = running.client("trading-engine")
    assert te.post("/orders", json={"symbol": "SPY", "qty": 4, "side": "buy",
                                    "type": "market"}).status_code == 200
    assert te.post("/emergency/halt-new-orders").status_code == 200
    closed = te.post("/emergency/close-all-positions", json={"reason": "drill"})
    assert closed.status_code == 200, closed.text
    results = closed.json()["results"]
    assert results and results[0]["order"]["side"] == "sell"
    running.wait_for(lambda: not te.get("/positions").json())


def test_resume_is_refused_while_unhealthy_and_forced_only_by_admin(
        platform_factory) -> None:  # type: ignore[no-untyped-def]
    # a feed that is always "stale" makes the comprehensive health check fail
    p = platform_factory(MCP_TRADING_FEED_STALE_S="0.000001")
    te = p.client("trading-engine")
    assert te.post("/emergency/halt", json={"reason": "drill"}).status_code == 200
    refused = te.post("/emergency/resume-trading")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["code"] == "HEALTH_CHECK_FAILED"
    assert any(c.startswith("feed") for c in body["failing_checks"])
    assert te.get("/health").json()["trading_status"] == "halted"
    script = p.script("resume_trading.sh", "drill over")
    assert script.returncode != 0 and "Cannot resume" in script.stdout
    # dev loopback trust is operator, not admin: force is refused too
    forced = te.post("/emergency/resume-trading", json={"force": True, "reason": "known issue"})
    assert forced.status_code == 403


def test_emergency_bodies_are_optional_but_validated(running: RunningPlatform) -> None:
    te = running.client("trading-engine")
    assert te.post("/emergency/halt-new-orders", json={"reason": ["x"]}).status_code == 422
    assert te.post("/emergency/halt-new-orders", json={"reasn": "typo"}).json()["field"] == "reasn"
    assert te.get("/health").json()["trading_status"] == "active"  # nothing was applied
    resumed = te.post("/emergency/resume-trading", json={"force": "yes"})
    assert resumed.status_code == 422 and resumed.json()["field"] == "force"
    assert te.post("/emergency/halt-new-orders").status_code == 200  # the runbook's bare call
