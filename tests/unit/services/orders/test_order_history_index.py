"""The journal index behind /orders/{id}/history stays bounded and still finds old orders."""

from __future__ import annotations

from decimal import Decimal

from mcp_trading.adapters.store import MemoryJournalStore
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel.kernel import KernelConfig
from mcp_trading.kernel.runtime import recover
from mcp_trading.services.orders.service import OrderEventIndex

from ...conftest import instruments


def test_an_order_pushed_out_of_the_bounded_index_still_has_its_history() -> None:
    store = MemoryJournalStore()
    clock = ManualClock()
    runtime = recover(store, instruments=instruments(), clock=clock, calendar=AlwaysOpen(),
                      config=KernelConfig(id_base=1), snapshot_every=0)
    kernel = runtime.kernel
    kernel.on_quote(Quote("AAPL", Decimal("100.00"), Decimal("100.02"), Decimal(1000),
                          Decimal(1000), None, clock.now_ns()))
    ids = []
    for _ in range(20):
        order = kernel.submit("paper", OrderRequest.parse(symbol="AAPL", side="buy", qty=1))
        runtime.journal.flush()  # one record per order
        ids.append(order.id)
    index = OrderEventIndex(capacity=5)
    newest = index.events(store, ids[-1])
    assert [type(e).__name__ for _, e in newest] == ["OrderAccepted", "OrderFilled"]
    assert len(index._where) == 5
    oldest = index.events(store, ids[0])
    assert [type(e).__name__ for _, e in oldest] == ["OrderAccepted", "OrderFilled"]
    assert all(getattr(e, "order_id", None) == ids[0] for _, e in oldest)
    runtime.close()
