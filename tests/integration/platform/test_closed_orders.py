"""Closed orders leave the kernel's memory; every read of them answers as before.

Each test captures what the services answer while the kernel still holds the closed orders,
releases them (the projector caught up first, as the platform's release loop requires), and
asserts the answers are the same JSON — also after a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mcp_trading.config import Settings
from mcp_trading.domain.errors import DuplicateClientOrderIdError, OrderStateError
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.kernel import snapshot
from mcp_trading.platform.platform import Platform
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.orders.service import OrdersService
from mcp_trading.services.trading_engine.service import TradingService

VIEWER = Principal(Role.VIEWER, key_id="k-viewer", account_id=None, name="viewer")
TRADER = Principal(Role.TRADER, key_id="k-trader", account_id=None, name="trader")


def _open(data_dir: Path) -> Platform:
    plat = Platform(Settings(data_dir=data_dir, projection="thread",
                             projection_interval_s=30))  # projected by hand below
    plat.open()
    plat.accepting = True
    return plat


def _close(plat: Platform) -> None:
    plat.accepting = False
    assert plat.runtime is not None
    plat.runtime.journal.flush()
    if plat.projector is not None:
        plat.projector.stop()
    plat.runtime.close()
    if plat.order_reads is not None:
        plat.order_reads.close()


@pytest.fixture
def plat(tmp_path: Path) -> Iterator[Platform]:
    p = _open(tmp_path)
    try:
        yield p
    finally:
        _close(p)


def _quote(plat: Platform, symbol: str = "AAPL") -> None:
    plat.kernel_runtime.kernel.on_quote(Quote(symbol, Decimal("100.00"), Decimal("100.02"),
                                              Decimal(10_000), Decimal(10_000), None,
                                              time.time_ns()))


def _place(plat: Platform, **fields: Any) -> str:
    fields.setdefault("symbol", "AAPL")
    fields.setdefault("side", "buy")
    fields.setdefault("qty", 1)
    order = plat.kernel_runtime.kernel.submit("paper", OrderRequest.parse(**fields))
    return order.id


def _release(plat: Platform) -> int:
    plat.kernel_runtime.journal.flush()
    assert plat.projector is not None and plat.order_reads is not None
    plat.projector.projector.catch_up()
    return plat.release_closed(plat.order_reads.watermark())


def _book(plat: Platform) -> dict[str, str]:
    """One order of every closing kind, and a working one."""
    _quote(plat)
    kernel = plat.kernel_runtime.kernel
    ids = {
        "filled": _place(plat, client_order_id="c-filled"),
        "canceled": _place(plat, type="limit", limit_price="90.00", client_order_id="c-cancel"),
        "rejected": _place(plat, qty=900_000, client_order_id="c-reject"),
        "replaced": _place(plat, type="limit", limit_price="91.00", extended_hours=False),
        "working": _place(plat, type="limit", limit_price="92.00", client_order_id="c-work"),
        "nocoid": _place(plat),
    }
    kernel.cancel(ids["canceled"])
    ids["replacement"] = kernel.replace(ids["replaced"], limit_price=Decimal("91.50")).id
    plat.kernel_runtime.journal.flush()
    return ids


def _reads(plat: Platform, ids: dict[str, str]) -> dict[str, Any]:
    trading, orders = TradingService(plat.core), OrdersService(plat.core)
    pages: list[Any] = []
    params: dict[str, Any] = {"status": "all", "limit": 2}
    while True:
        page = orders.list_orders(VIEWER, **params)
        pages.append(page["orders"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    return {
        "one": {name: trading.get_order(VIEWER, order_id) for name, order_id in ids.items()},
        "by_coid": {coid: trading.get_order_by_client_id(VIEWER, coid)
                    for coid in ("c-filled", "c-cancel", "c-reject", "c-work")},
        "closed": orders.list_orders(VIEWER, status="closed")["orders"],
        "open": orders.list_orders(VIEWER)["orders"],
        "filled": orders.list_orders(VIEWER, status="filled")["orders"],
        "paged": [o for page in pages for o in page],
        "history": {name: asyncio.run(orders.history(VIEWER, order_id))
                    for name, order_id in ids.items()},
    }


def test_reads_of_closed_orders_are_the_same_once_they_leave_memory(plat: Platform) -> None:
    ids = _book(plat)
    before = _reads(plat, ids)
    assert len(before["paged"]) == len(ids)
    released = _release(plat)
    state = plat.kernel_runtime.kernel.state
    assert released == 5  # filled, canceled, rejected, replaced, nocoid (filled)
    assert set(state.orders) == {ids["working"], ids["replacement"]}
    assert _reads(plat, ids) == before


def test_retry_of_a_released_order_answers_it_and_a_changed_one_is_refused(plat: Platform
                                                                            ) -> None:
    ids = _book(plat)
    trading = TradingService(plat.core)
    view = trading.get_order(VIEWER, ids["filled"])
    _release(plat)
    again, accepted = asyncio.run(trading.submit_order(
        TRADER, {"symbol": "AAPL", "side": "buy", "qty": "1.0", "client_order_id": "c-filled"}))
    assert (again, accepted) == (view, True)
    rejected, accepted = asyncio.run(trading.submit_order(
        TRADER, {"symbol": "AAPL", "side": "buy", "qty": 900_000,
                 "client_order_id": "c-reject"}))
    assert not accepted and rejected["id"] == ids["rejected"]
    with pytest.raises(DuplicateClientOrderIdError, match=ids["filled"]):
        asyncio.run(trading.submit_order(
            TRADER, {"symbol": "AAPL", "side": "buy", "qty": 2, "client_order_id": "c-filled"}))
    with pytest.raises(DuplicateClientOrderIdError, match=ids["canceled"]):
        plat.kernel_runtime.kernel.replace(ids["working"], limit_price=Decimal("92.5"),
                                           client_order_id="c-cancel")
    assert plat.kernel_runtime.kernel.seq == plat.kernel_runtime.journal.durable_seq


@pytest.mark.parametrize("name", ["filled", "canceled", "replaced"])
def test_cancel_and_replace_of_a_released_order_are_refused_as_before(plat: Platform,
                                                                       name: str) -> None:
    ids = _book(plat)
    trading = TradingService(plat.core)

    def refusals() -> list[str]:
        messages = []
        for call in (lambda: trading.cancel_order(TRADER, ids[name]),
                     lambda: trading.replace_order(TRADER, ids[name], {"qty": "2"})):
            with pytest.raises(OrderStateError) as info:
                asyncio.run(call())
            messages.append(str(info.value))
        return messages

    before = refusals()
    _release(plat)
    assert refusals() == before


def test_restart_keeps_the_small_state_and_the_reads(tmp_path: Path) -> None:
    first = _open(tmp_path)
    ids = _book(first)
    _release(first)
    before = _reads(first, ids)
    state = first.kernel_runtime.kernel.state
    shape = (set(state.orders), state.dedupe.as_dict())
    assert len(state.dedupe) == 3  # c-filled, c-cancel, c-reject
    first.kernel_runtime.journal.save_snapshot(snapshot.dump(state))  # what 100k events would do
    _close(first)
    second = _open(tmp_path)
    try:
        again = second.kernel_runtime.kernel.state
        assert second.kernel_runtime.report.snapshot_seq > 0
        assert (set(again.orders), again.dedupe.as_dict()) == shape
        assert _reads(second, ids) == before
    finally:
        _close(second)


def test_entries_past_the_memory_window_are_checked_against_the_store(plat: Platform) -> None:
    ids = _book(plat)
    trading = TradingService(plat.core)
    view = trading.get_order(VIEWER, ids["filled"])
    _release(plat)
    state = plat.kernel_runtime.kernel.state
    state.dedupe.seal(time.time_ns())  # what a snapshot does
    later = time.time_ns() + int(2 * 86_400e9)  # past the 1-day window
    assert asyncio.run(plat.age_dedupe(later)) == 3
    assert len(state.dedupe) == 0 and state.dedupe.archived
    asked: list[str] = []
    reader = plat.order_reads
    assert reader is not None
    by_client_id = reader.by_client_id
    reader.by_client_id = lambda a, c: asked.append(c) or by_client_id(a, c)  # type: ignore[method-assign]
    again, _ = asyncio.run(trading.submit_order(
        TRADER, {"symbol": "AAPL", "side": "buy", "qty": 1, "client_order_id": "c-filled"}))
    assert again == view and asked == ["c-filled"]
    with pytest.raises(DuplicateClientOrderIdError, match=ids["canceled"]):
        asyncio.run(trading.submit_order(
            TRADER, {"symbol": "AAPL", "side": "buy", "qty": 3, "client_order_id": "c-cancel"}))
    assert trading.get_order_by_client_id(VIEWER, "c-reject")["id"] == ids["rejected"]
    asked.clear()
    for i in range(50):  # new ids: no store query (a ~1 % false positive at most)
        asyncio.run(trading.submit_order(
            TRADER, {"symbol": "AAPL", "side": "buy", "qty": 1, "client_order_id": f"n-{i}"}))
    assert len(asked) <= 2
