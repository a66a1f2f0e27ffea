"""Distributed mode end to end: one process per service on PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import signal
from decimal import Decimal
from typing import Any

import pytest
from tests.e2e.distributed_harness import DistributedPlatform
from tests.e2e.harness import SERVICES

pytestmark = pytest.mark.slow

ORDER = {"symbol": "SPY", "qty": "2", "side": "buy", "type": "market"}


def _positions(p: DistributedPlatform, service: str) -> dict[str, str]:
    if service == "portfolio":
        body = p.client("portfolio").get("/portfolio/positions").json()
        rows = body["accounts"][0]["positions"] if body["accounts"] else []
    else:
        rows = p.client("trading-engine").get("/positions").json()
    return {r["symbol"]: r["qty"] for r in rows}


def _cash(p: DistributedPlatform, service: str) -> str:
    if service == "portfolio":
        return str(p.client("portfolio").get("/portfolio/summary").json()["accounts"][0]["cash"])
    return str(p.client("trading-engine").get("/account").json()["cash"])


def _place(p: DistributedPlatform, coid: str, **extra: Any) -> dict[str, Any]:
    response = p.client("trading-engine").post("/orders", json={**ORDER, "client_order_id": coid,
                                                                 **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_every_service_runs_apart_and_the_views_follow_the_engine(
        distributed_factory: Any) -> None:
    p: DistributedPlatform = distributed_factory()
    status = p.status()
    assert set(status) == set(SERVICES)  # trading-strategies among them
    pids = {row["pid"] for row in status.values()}
    assert len(pids) == len(SERVICES) and None not in pids  # one process each
    assert all(row["status"] == "healthy" for row in status.values()), status
    p.wait_for(lambda: p.client("market-data").get("/health").json()["market_data_status"]
               == "streaming", what="quotes streaming")

    for i in range(5):
        _place(p, f"dist-{i}")
    resting = _place(p, "rest-1", type="limit", limit_price="1.00", time_in_force="gtc")
    assert resting["status"] in {"new", "accepted"}
    # the portfolio and orders services fold the engine's events
    p.wait_for(lambda: _positions(p, "portfolio") == _positions(p, "trading-engine")
               and _cash(p, "portfolio") == _cash(p, "trading-engine"), what="portfolio in step")
    assert Decimal(_positions(p, "portfolio")["SPY"]) == 10
    listed = p.client("orders").get("/orders", params={"status": "all", "limit": 50}).json()
    assert {o["client_order_id"] for o in listed["orders"]} >= {f"dist-{i}" for i in range(5)}

    # a command on a replica service reaches the engine, and the replica sees its result
    canceled = p.client("orders").post("/orders/cancel-all-pending", json={"reason": "e2e"})
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["canceled_count"] == 1
    after = p.client("orders").get("/orders", params={"status": "open"}).json()["orders"]
    assert after == []  # read-your-writes: the replica waited for the engine's event
    engine_view = p.client("trading-engine").get(f"/orders/{resting['id']}").json()
    assert engine_view["status"] == "canceled"
    limits = p.client("risk").put("/limits/global", json={"max_order_qty": "50"})
    assert limits.status_code == 200, limits.text
    refused = p.client("trading-engine").post("/orders", json={**ORDER, "qty": "60",
                                                               "client_order_id": "too-big"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "RISK_MAX_ORDER_QTY"

    # the cache (latest quotes) clears without touching the event stream; quotes come back
    cleared = p.cli("cache", "clear", "--yes", "--json", check=True)
    assert json.loads(cleared.stdout)["deleted"] >= 1
    p.wait_for(lambda: p.client("market-data").get("/health").json()["market_data_status"]
               == "streaming", what="quotes streaming after cache clear")
    _place(p, "after-cache-clear")
    p.wait_for(lambda: _positions(p, "portfolio") == _positions(p, "trading-engine"),
               what="portfolio in step after cache clear")
    assert Decimal(_positions(p, "portfolio")["SPY"]) == 12


def test_a_rebalance_previewed_on_the_optimizer_is_placed_by_the_engine(
        distributed_factory: Any) -> None:
    p: DistributedPlatform = distributed_factory()
    p.wait_for(lambda: p.client("market-data").get("/health").json()["market_data_status"]
               == "streaming", what="quotes streaming")
    optimizer = p.client("optimizer")

    def previewed() -> dict[str, Any] | None:
        response = optimizer.post("/rebalance", json={"weights": {"SPY": 0.1, "QQQ": 0.05}})
        return response.json() if response.status_code == 200 else None

    p.wait_for(lambda: previewed() is not None, what="the optimizer's replica has quotes")
    preview = previewed()
    assert preview is not None and preview["would_accept_all"], preview
    # the confirm is a write: forwarded to the engine, which checks again and places
    confirmed = optimizer.post(f"/rebalance/{preview['preview_id']}/confirm",
                               json={"confirmation_token": preview["confirmation_token"]})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "placed"
    placed = {row["symbol"]: row for row in confirmed.json()["orders"]}
    assert set(placed) == {"SPY", "QQQ"}, placed
    # the engine holds both orders, attributed to the rebalance (its view, not the replica's)
    for coid in (row["client_order_id"] for row in placed.values()):
        order = p.client("trading-engine").get("/orders", params={"client_order_id": coid})
        assert order.status_code == 200, order.text
        assert order.json()["attribution"] == preview["attribution"]


def test_a_killed_service_is_restarted_catches_up_and_raises_an_alert(
        distributed_factory: Any) -> None:
    p: DistributedPlatform = distributed_factory()
    p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"] == "healthy")
    _place(p, "before")
    victim = p.status()["portfolio"]["pid"]
    os.kill(victim, signal.SIGKILL)
    for i in range(5):  # orders while the portfolio service is down
        _place(p, f"while-down-{i}")

    def restarted() -> bool:
        row = p.status()["portfolio"]
        return row["pid"] not in (None, victim) and row["status"] == "healthy"

    p.wait_for(restarted, timeout=60, what="portfolio restarted")
    p.wait_for(lambda: _positions(p, "portfolio") == _positions(p, "trading-engine"),
               what="portfolio caught up")
    assert Decimal(_positions(p, "portfolio")["SPY"]) == 12
    assert p.status()["portfolio"]["restarts"] == 1

    def alerted() -> bool:
        alerts = p.client("alerts").get("/alerts").json()["alerts"]
        return any(a["source"] == "supervisor" and "portfolio" in a["message"] for a in alerts)

    p.wait_for(alerted, what="a supervisor alert about the portfolio service")


def test_restart_of_one_service_leaves_the_others_running(distributed_factory: Any) -> None:
    p: DistributedPlatform = distributed_factory()
    before = {name: row["pid"] for name, row in p.status().items()}
    result = p.cli("restart", "market-data", check=True)
    assert "restarted market-data" in result.stdout
    after = {name: row["pid"] for name, row in p.status().items()}
    assert after["market-data"] != before["market-data"]
    assert {k: v for k, v in after.items() if k != "market-data"} == {
        k: v for k, v in before.items() if k != "market-data"}
    p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"] == "healthy")

    # the operator verbs find the distributed platform too
    p.wait_for(lambda: p.cli("health", "--check-all", "--json").returncode == 0,
               what="health --check-all healthy")
    checks = {c["check"]: c for c in json.loads(
        p.cli("health", "--check-all", "--json").stdout)["checks"]}
    assert checks["bus"]["detail"] == "redis" and checks["service:alerts"]["status"] == "healthy"
    p.cli("halt", "--reason", "drill", check=True)
    assert p.client("trading-engine").get("/health").json()["trading_status"] == "halted_new_orders"
    p.wait_for(lambda: p.cli("resume", "--reason", "drill over").returncode == 0,
               what="resume accepted")
    assert p.client("trading-engine").get("/health").json()["trading_status"] == "active"


def test_start_refuses_clearly_when_the_schema_is_behind(distributed_factory: Any) -> None:
    p: DistributedPlatform = distributed_factory(start=False)
    result = p.cli("start", "--distributed", "--detach")
    assert result.returncode == 1
    assert "mcp-trading db upgrade" in result.stderr
    database = p.env["DATABASE_URL"]
    p.env["DATABASE_URL"] = "postgresql://postgres:pgs3cret@127.0.0.1:1/nowhere"
    no_database = p.cli("start", "--distributed", "--detach")
    assert no_database.returncode == 1
    assert "PostgreSQL is not reachable" in no_database.stderr
    assert "pgs3cret" not in no_database.stderr + no_database.stdout
    p.env["DATABASE_URL"] = database
    p.env["REDIS_URL"] = "redis://:s3cret@127.0.0.1:1/0"
    p.cli("db", "upgrade", check=True)
    refused = p.cli("start", "--distributed", "--detach")
    assert refused.returncode == 1
    assert "Redis is not reachable" in refused.stderr
    assert "s3cret" not in refused.stderr + refused.stdout


def test_kill9_of_the_engine_under_load_loses_no_acknowledged_order(
        distributed_factory: Any) -> None:
    import threading

    import httpx

    p: DistributedPlatform = distributed_factory()
    p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"] == "healthy")
    acked: list[str] = []
    refusals: dict[int, str] = {}
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=p.url("trading-engine"), timeout=5.0) as client:
            i = 0
            while not stop.is_set():
                coid = f"load-{i}"
                i += 1
                try:
                    side = "buy" if i % 2 else "sell"  # flat on average: buying power lasts
                    r = client.post("/orders", json={**ORDER, "qty": "1", "side": side,
                                                     "client_order_id": coid})
                except httpx.HTTPError:
                    continue
                if r.status_code == 200:
                    acked.append(coid)
                else:
                    refusals[r.status_code] = r.text[:300]

    worker = threading.Thread(target=load)
    worker.start()
    try:
        p.wait_for(lambda: len(acked) >= 50, what="orders flowing")
        victim = p.status()["trading-engine"]["pid"]
        os.kill(victim, signal.SIGKILL)
        count_at_kill = len(acked)

        def back() -> bool:
            row = p.status()["trading-engine"]
            return row["pid"] not in (None, victim) and row["status"] == "healthy"

        p.wait_for(back, timeout=90, what="engine restarted")
        p.wait_for(lambda: len(acked) >= count_at_kill + 20, timeout=60,
                   what=f"orders flowing again (refusals: {refusals})")
    finally:
        stop.set()
        worker.join()
    engine = p.client("trading-engine")
    for coid in acked:  # every acknowledged order survived the kill
        found = engine.get("/orders", params={"client_order_id": coid})
        assert found.status_code == 200, (coid, found.text)
    # each consumer holds each event once: the replicas equal the engine
    p.wait_for(lambda: _positions(p, "portfolio") == _positions(p, "trading-engine")
               and _cash(p, "portfolio") == _cash(p, "trading-engine"), what="portfolio in step")
    listed = p.client("orders").get("/orders", params={"status": "all", "limit": 500}).json()
    seen = [o["client_order_id"] for o in listed["orders"]]
    assert len(seen) == len(set(seen))
    assert set(acked) <= set(seen) or len(acked) > 500


def test_a_redis_restart_degrades_then_recovers_and_orders_are_refused_meanwhile(
        distributed_factory: Any, tmp_path: Any) -> None:
    import shutil

    from tests.redis_server import Server

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed; this test restarts its own Redis")
    redis = Server(tmp_path)
    redis.start()
    try:
        p: DistributedPlatform = distributed_factory(redis_url=redis.url)
        p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"]
                   == "healthy", what="engine healthy")
        _place(p, "before-outage")
        redis.stop()
        p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"]
                   == "degraded", what="engine degraded")
        p.wait_for(lambda: p.client("portfolio").get("/health").json()["status"]
                   == "degraded", what="portfolio degraded")  # it notices on its next read
        assert p.client("portfolio").get("/health").json()["bus"]["ok"] is False
        refused = p.client("trading-engine").post("/orders", json={
            **ORDER, "client_order_id": "during-outage"})
        assert refused.status_code == 503
        assert "Redis" in refused.json()["message"]
        assert p.client("trading-engine").get(
            "/orders", params={"client_order_id": "during-outage"}).status_code == 404
        redis.start()  # an empty Redis: streams and groups are gone
        p.wait_for(lambda: all(p.client(s).get("/health").json()["status"] == "healthy"
                               for s in ("trading-engine", "portfolio", "orders")),
                   timeout=60, what="services healthy again")
        _place(p, "after-outage")
        p.wait_for(lambda: _positions(p, "portfolio") == _positions(p, "trading-engine"),
                   what="portfolio in step after the outage")
        assert Decimal(_positions(p, "portfolio")["SPY"]) == 4
    finally:
        redis.stop()


def test_database_connections_cut_under_load_lose_no_acknowledged_order(
        distributed_factory: Any) -> None:
    """PostgreSQL dropping every connection (what a restart does to its clients): the engine
    retries the same batch, replicas reconnect; every acknowledged order is kept once."""
    import threading

    import httpx
    import psycopg
    from tests.conftest import TEST_DATABASE_URL

    p: DistributedPlatform = distributed_factory()
    p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"] == "healthy")
    database = p.env["DATABASE_URL"].rsplit("/", 1)[1]
    acked: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=p.url("trading-engine"), timeout=10.0) as client:
            for i in range(100_000):
                if stop.is_set():
                    return
                side = "buy" if i % 2 else "sell"
                try:
                    r = client.post("/orders", json={**ORDER, "qty": "1", "side": side,
                                                     "client_order_id": f"pg-{i}"})
                except httpx.HTTPError:
                    continue
                if r.status_code == 200:
                    acked.append(f"pg-{i}")

    worker = threading.Thread(target=load)
    worker.start()
    try:
        p.wait_for(lambda: len(acked) >= 30, what="orders flowing")
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
            for _ in range(5):  # cut every connection of the platform's database, repeatedly
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
                threading.Event().wait(0.3)
        count = len(acked)
        p.wait_for(lambda: len(acked) >= count + 30, timeout=60, what="orders flowing again")
    finally:
        stop.set()
        worker.join()
    assert p.client("trading-engine").get("/health").json()["journal"]["ok"] is True
    engine = p.client("trading-engine")
    for coid in acked:
        assert engine.get("/orders", params={"client_order_id": coid}).status_code == 200, coid
    p.wait_for(lambda: _positions(p, "portfolio") == _positions(p, "trading-engine")
               and _cash(p, "portfolio") == _cash(p, "trading-engine"), what="portfolio in step")


def test_a_postgresql_restart_refuses_orders_meanwhile_and_loses_none(
        distributed_factory: Any) -> None:
    from tests.pg_server import PgServer, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL's server binaries are not installed; this test restarts its own")
    pg = PgServer()
    pg.start()
    try:
        p: DistributedPlatform = distributed_factory(database_server=pg.url)
        try:
            p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"]
                       == "healthy", what="engine healthy")
            _place(p, "before-restart")
            pg.stop()
            first = p.client("trading-engine").post("/orders", json={
                **ORDER, "client_order_id": "during-1"})
            assert first.status_code == 503  # not acknowledged; it says it may exist
            assert "may or may not" in first.json()["message"]
            p.wait_for(lambda: p.client("trading-engine").get("/health").json()["status"]
                       == "degraded", what="engine degraded")
            second = p.client("trading-engine").post("/orders", json={
                **ORDER, "client_order_id": "during-2"})
            assert second.status_code == 503
            assert "database" in second.json()["message"]
            pg.start()
            p.wait_for(lambda: all(p.client(s).get("/health").json()["status"] == "healthy"
                                   for s in ("trading-engine", "portfolio", "orders")),
                       timeout=60, what="healthy again after the restart")
            engine = p.client("trading-engine")
            assert engine.get("/orders", params={"client_order_id": "during-2"}).status_code == 404
            # the unacknowledged one was decided before the outage showed: journaled once back
            assert engine.get("/orders", params={"client_order_id": "during-1"}).status_code == 200
            _place(p, "after-restart")
            for coid in ("before-restart", "after-restart"):
                assert engine.get("/orders", params={"client_order_id": coid}).status_code == 200
            p.wait_for(lambda: _positions(p, "portfolio") == _positions(p, "trading-engine"),
                       what="portfolio in step after the restart")
        finally:
            p.stop()  # before its database server goes
    finally:
        pg.remove()
