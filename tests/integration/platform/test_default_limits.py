"""The shipped default risk limits on a fresh platform: journaled, shown, enforced, changeable.

The suite runs with the defaults off (tests/conftest.py); here the shipped values are passed
explicitly, so these tests see what a new user's platform does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mcp_trading.clocks import ManualClock
from mcp_trading.config import Settings
from mcp_trading.config_limits import LimitSettings
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest, OrderStatus
from mcp_trading.kernel.commands import DEFAULTS_ACTOR
from mcp_trading.platform.bootstrap import bootstrap
from mcp_trading.platform.platform import Platform
from mcp_trading.services.risk import rest as risk
from mcp_trading.services.trading_engine import rest as trading_engine

from .conftest import FakeAuthenticator

Auth = Callable[[str], dict[str, str]]
SHIPPED = {name: field.default for name, field in LimitSettings.model_fields.items()}


def _open(data_dir: Path, clock: ManualClock | None = None) -> Platform:
    plat = bootstrap(Settings(data_dir=data_dir, **SHIPPED), authenticator=FakeAuthenticator(),
                     clock=clock)
    plat.open()
    plat.accepting = True
    return plat


def _close(plat: Platform) -> None:
    plat.accepting = False
    if plat.runtime is not None:
        plat.runtime.close()
    if plat.projector is not None:
        plat.projector.stop()


@pytest.fixture
def shipped(tmp_path: Path) -> Iterator[Platform]:
    plat = _open(tmp_path)
    try:
        yield plat
    finally:
        _close(plat)


@pytest.fixture
def feed(shipped: Platform) -> Callable[[], None]:
    def push() -> None:
        kernel = shipped.kernel_runtime.kernel
        kernel.on_quote(Quote("AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(10_000),
                              Decimal(10_000), None, kernel.clock.now_ns()))
    return push


def test_the_defaults_are_shipped_values() -> None:
    assert {"default_price_collar_pct": Decimal(10),
                       "default_max_order_notional": Decimal(1_000_000),
                       "default_max_order_qty": Decimal(100_000),
                       "default_max_orders_per_second": 1000} == SHIPPED


def test_a_fresh_platform_shows_and_audits_its_default_limits(shipped: Platform,
                                                              auth: Auth) -> None:
    client = TestClient(risk.build(shipped))
    body = client.get("/limits", headers=auth("viewer")).json()
    glob = body["global"]
    assert (glob["price_collar_pct"], glob["max_order_notional"], glob["max_order_qty"]) == (
        "10", "1000000", "100000")
    assert body["accounts"]["paper"]["max_orders_per_second"] == "1000"
    audit = client.get("/limits/audit", headers=auth("viewer")).json()["entries"]
    assert {e["actor"] for e in audit} == {DEFAULTS_ACTOR}


def _submit(plat: Platform, **fields: object) -> Any:
    fields.setdefault("symbol", "AAPL")
    fields.setdefault("side", "buy")
    return plat.kernel_runtime.kernel.submit("paper", OrderRequest.parse(**fields))


@pytest.mark.parametrize(("fields", "code"), [
    ({"qty": 1, "type": "limit", "limit_price": "1.00"}, "RISK_PRICE_COLLAR"),
    ({"qty": 1, "type": "limit", "limit_price": "111.00"}, "RISK_PRICE_COLLAR"),
    ({"qty": 1, "type": "stop", "stop_price": "150.00"}, "RISK_PRICE_COLLAR"),
    ({"qty": 1, "type": "stop_limit", "stop_price": "101.00", "limit_price": "89.00"},
     "RISK_PRICE_COLLAR"),
    ({"qty": 100_001, "type": "limit", "limit_price": "1.00"}, "RISK_MAX_ORDER_QTY"),
    ({"qty": 20_000, "type": "limit", "limit_price": "99.00"}, "RISK_MAX_NOTIONAL"),
])
def test_a_fat_finger_is_refused_by_the_defaults(shipped: Platform, feed: Callable[[], None],
                                                 fields: dict[str, object], code: str) -> None:
    feed()
    order = _submit(shipped, **fields)
    assert (order.status, order.reject_code) == (OrderStatus.REJECTED, code)


def test_orders_within_the_defaults_are_taken(shipped: Platform, feed: Callable[[], None]) -> None:
    feed()
    assert _submit(shipped, qty=1, type="limit", limit_price="95.00").status is OrderStatus.NEW
    assert _submit(shipped, qty=1, type="stop", stop_price="105.00").status is not (
        OrderStatus.REJECTED)
    assert _submit(shipped, qty=1).status is OrderStatus.FILLED  # market


def test_the_defaults_are_changeable_and_not_reapplied_on_restart(
        tmp_path: Path, auth: Auth) -> None:
    plat = _open(tmp_path)
    try:
        client = TestClient(risk.build(plat))
        changed = client.put("/limits/global", json={"price_collar_pct": None},
                             headers=auth("operator"))
        assert changed.status_code == 200, changed.text
        seq = plat.kernel_runtime.kernel.seq
    finally:
        _close(plat)
    again = _open(tmp_path)
    try:
        assert again.kernel_runtime.kernel.seq == seq  # nothing journaled at the reopen
        assert again.kernel_runtime.kernel.state.global_limits.price_collar_pct is None
    finally:
        _close(again)


def test_a_new_account_starts_with_the_per_account_rate(shipped: Platform, auth: Auth) -> None:
    client = TestClient(trading_engine.build(shipped, failing_checks=list))
    made = client.post("/accounts", json={"account_id": "swing-1", "cash": "1000"},
                       headers=auth("operator"))
    assert made.status_code == 201, made.text
    limits = shipped.kernel_runtime.kernel.state.accounts["swing-1"].limits
    assert limits.max_orders_per_second == 1000


def test_the_thousand_and_first_order_in_a_second_is_refused(tmp_path: Path) -> None:
    clock = ManualClock(int(time.time()) * 10**9)
    plat = _open(tmp_path, clock)
    try:
        kernel = plat.kernel_runtime.kernel
        kernel.on_quote(Quote("AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(10_000),
                              Decimal(10_000), None, clock.now_ns()))
        codes = [_submit(plat, qty=1, type="limit", limit_price="95.00").reject_code
                 for _ in range(1001)]  # all within one (manual) second
        assert codes[:1000] == [None] * 1000 and codes[1000] == "RISK_RATE_LIMIT"
        clock.advance(10**9 + 1)
        assert _submit(plat, qty=1, type="limit", limit_price="95.00").reject_code is None
    finally:
        _close(plat)
