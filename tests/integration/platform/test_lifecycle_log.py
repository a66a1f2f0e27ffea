"""The order lifecycle in platform.log: real orders through the REST apps of a real platform
(SQLite journal, real API keys), logged from the journal writer through the queue."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.config import Settings
from mcp_trading.domain.market import Quote
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.logs import configure_logging, shutdown_logging
from mcp_trading.platform.platform import Platform
from mcp_trading.security.keys import KeyStore
from mcp_trading.security.principal import Role
from mcp_trading.services.alerts import rest as alerts
from mcp_trading.services.risk import rest as risk
from mcp_trading.services.trading_engine import rest as trading_engine

STRONG_SECRET = "lifecycle-test-" + "k9Qx2vLm7Zp4Wn8Rb3Ty6Hc1Jd5Fg0" * 2


class Run:
    """A configured, opened platform with an operator's and a trader's real key."""

    def __init__(self, settings: Settings) -> None:
        configure_logging(settings)
        self.platform: Platform = bootstrap(settings)
        self.platform.open()
        self.platform.accepting = True
        keys = KeyStore(create_store_engine(settings.resolved_database_url),
                        hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        try:
            self.trader_key = keys.create(Role.TRADER, "paper", "lifecycle-trader")[1]
            self.operator_key = keys.create(Role.OPERATOR, None, "lifecycle-ops",
                                            all_accounts=True)[1]
        finally:
            keys.close()
        self.log = settings.resolved_log_dir / "platform.log"

    def headers(self, role: str = "trader") -> dict[str, str]:
        key = self.trader_key if role == "trader" else self.operator_key
        return {"Authorization": f"Bearer {key}"}

    def quote(self) -> None:
        quote = Quote("AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(10_000),
                      Decimal(10_000), None, time.time_ns())
        self.platform.kernel_runtime.kernel.on_quote(quote)
        self.platform.last_quote_ns = quote.ts
        self.platform.health.feed_status = "streaming"

    def finish(self) -> str:
        """Stop the platform and the logging (the queue drains); the file's text."""
        self.platform.accepting = False
        if self.platform.runtime is not None:
            self.platform.runtime.close()
        shutdown_logging()
        return self.log.read_text(encoding="utf-8")


def _settings(tmp_path: Path, profile: str) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, profile=profile,
                    jwt_secret=STRONG_SECRET, projection="off")


@pytest.fixture(params=["dev", "production"])
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    r = Run(_settings(tmp_path, request.param))
    try:
        yield r
    finally:
        shutdown_logging()


def _order(symbol: str = "AAPL", **fields: Any) -> dict[str, Any]:
    return {"symbol": symbol, "qty": "1", "side": "buy", "type": "market",
            "time_in_force": "day", **fields}


def _lines(text: str, profile: str) -> list[dict[str, Any]]:
    """Each line as fields: JSON objects in production, key=value console lines in dev."""
    out = []
    for line in text.splitlines():
        if profile == "production":
            out.append(json.loads(line))  # every line is JSON in production
            continue
        match = re.match(r"^(\S+Z) \[(\w+)\s*\] (.+?)\s{2,}(.*)$", line)
        if match is None:
            continue
        fields = dict(re.findall(r"(\w+)=(\S+)", match[4]))
        out.append({"ts": match[1], "level": match[2], "event": match[3], **fields})
    return out


def _events(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("event") == name]


def test_orders_through_rest_log_their_lifecycle_with_ids_and_no_secret(run: Run) -> None:
    engine = TestClient(trading_engine.build(run.platform, failing_checks=list))
    run.quote()
    filled = engine.post("/orders", headers=run.headers(),
                         json=_order(client_order_id="lc-market-1"))
    assert filled.status_code == 200, filled.text
    working = engine.post("/orders", headers=run.headers(),
                          json=_order(type="limit", limit_price="90.00",
                                      client_order_id="lc-limit-1"))
    assert working.status_code == 200, working.text
    assert engine.delete(f"/orders/{working.json()['id']}",
                         headers=run.headers()).status_code == 200
    refused = engine.post("/orders", headers=run.headers(),
                          json=_order(qty="100000", client_order_id="lc-big-1"))
    assert refused.status_code == 403, refused.text
    text = run.finish()
    lines = _lines(text, run.platform.settings.profile)

    accepted = {line["client_order_id"]: line for line in _events(lines, "order accepted")}
    assert set(accepted) == {"lc-market-1", "lc-limit-1"}
    market = accepted["lc-market-1"]
    assert market["order_id"] == filled.json()["id"]
    assert (market["symbol"], market["side"], market["qty"], market["account"]) == (
        "AAPL", "buy", "1", "paper")
    assert market["attribution"].startswith("key:")
    assert accepted["lc-limit-1"]["price"] == "90.00"
    fill = _events(lines, "order filled")
    assert [(f["order_id"], f["client_order_id"], f["symbol"], f["price"]) for f in fill] == [
        (filled.json()["id"], "lc-market-1", "AAPL", "100.02")]
    canceled = _events(lines, "order canceled")
    assert [(c["order_id"], c["client_order_id"], c["account"]) for c in canceled] == [
        (working.json()["id"], "lc-limit-1", "paper")]
    rejected = _events(lines, "order rejected")
    assert [(r["client_order_id"], r["code"]) for r in rejected] == [
        ("lc-big-1", "RISK_BUYING_POWER")]
    assert all(line["level"] == "info" for line in fill + canceled + rejected)
    # never a secret: neither key's secret part, nor the JWT secret
    for key in (run.trader_key, run.operator_key):
        assert key.rsplit("_", 1)[1] not in text
    assert STRONG_SECRET not in text
    assert _events(lines, "service started") and _events(lines, "stopped")[-1] is lines[-1]


def test_halts_resumes_limits_and_maintenance_are_logged(run: Run) -> None:
    engine = TestClient(trading_engine.build(run.platform, failing_checks=list))
    ops = run.headers("operator")
    assert engine.post("/emergency/halt-new-orders", headers=ops,
                       json={"reason": "drill"}).status_code == 200
    assert engine.post("/emergency/resume-trading", headers=ops,
                       json={"reason": "drill over"}).status_code == 200
    limits = TestClient(risk.build(run.platform))
    assert limits.put("/limits/accounts/paper", headers=ops,
                      json={"max_gross_exposure": 10_000}).status_code == 200
    maintenance = TestClient(alerts.build(run.platform, failing_checks=list))
    assert maintenance.post("/alerts/maintenance-start", headers=ops,
                            json={"reason": "patching"}).status_code == 200
    assert maintenance.post("/alerts/maintenance-complete", headers=ops).status_code == 200
    lines = _lines(run.finish(), run.platform.settings.profile)
    names = [line["event"] for line in lines if line.get("logger") == "mcp_trading.lifecycle"
             or line["event"] in ("trading halted", "trading resumed", "limits changed",
                                  "maintenance on", "maintenance off")]
    for name in ("trading halted", "trading resumed", "limits changed", "maintenance on",
                 "maintenance off"):
        assert name in names, (name, names)
    assert names.index("trading halted") < names.index("trading resumed")
    assert names.index("maintenance on") < names.index("maintenance off")
    halted = _events(lines, "trading halted")[0]
    assert halted["reason"] == "drill" and halted["actor"].startswith("key:")


def test_production_lines_are_json_with_timestamp_level_and_service(tmp_path: Path) -> None:
    run = Run(_settings(tmp_path, "production"))
    try:
        logging.getLogger("mcp_trading.test").warning("Authorization: Bearer abc.def-ghi plain")
        text = run.finish()
    finally:
        shutdown_logging()
    for line in text.splitlines():
        record = json.loads(line)
        assert {"ts", "level", "event", "service"} <= set(record)
        assert record["ts"].endswith("Z")
    assert "abc.def-ghi" not in text and "Bearer ***" in text


def test_an_order_accepted_before_a_restart_is_named_when_it_is_canceled_after(
        tmp_path: Path) -> None:
    first = Run(_settings(tmp_path, "production"))
    try:
        engine = TestClient(trading_engine.build(first.platform, failing_checks=list))
        first.quote()
        placed = engine.post("/orders", headers=first.headers(),
                             json=_order(type="limit", limit_price="90.00",
                                         client_order_id="before-restart"))
        assert placed.status_code == 200, placed.text
        first.finish()
        second = Run(_settings(tmp_path, "production"))  # recovers the journal
        engine = TestClient(trading_engine.build(second.platform, failing_checks=list))
        assert engine.delete(f"/orders/{placed.json()['id']}",
                             headers=second.headers()).status_code == 200
        lines = _lines(second.finish(), "production")
    finally:
        shutdown_logging()
    [canceled] = _events(lines, "order canceled")
    assert (canceled["order_id"], canceled["client_order_id"], canceled["symbol"],
            canceled["account"]) == (placed.json()["id"], "before-restart", "AAPL", "paper")
