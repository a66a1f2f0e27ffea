"""A running kernel keeps the projection tables in step, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import select

from mcp_trading.adapters.store import BackgroundProjector, Projector, open_store, upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import accounts, fills, orders, positions
from mcp_trading.clocks import ManualClock
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.orders import OrderRequest
from mcp_trading.domain.sessions import AlwaysOpen
from mcp_trading.kernel.runtime import recover

D = Decimal


def _wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("projection did not catch up in time")


def test_orders_fills_positions_and_cash_are_projected_while_trading(sql_url: str) -> None:
    upgrade(sql_url)
    worker = BackgroundProjector(Projector(sql_url), interval=0.05)
    clock = ManualClock()
    runtime = recover(open_store(sql_url), instruments={"AAPL": Instrument(symbol="AAPL")},
                      clock=clock, calendar=AlwaysOpen(), on_commit=worker.notify)
    kernel = runtime.kernel
    kernel.on_quote(Quote("AAPL", D("100.00"), D("100.02"), D(500), D(500), D("100.01"),
                          clock.now_ns()))
    buy = kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty=10, side="buy",
                                                    type="market", client_order_id="b-1"))
    rest = kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty=5, side="sell",
                                                     type="limit", limit_price="150",
                                                     time_in_force="gtc"))
    runtime.journal.wait_durable(kernel.seq)
    engine = create_store_engine(sql_url)
    try:
        def projected() -> bool:
            with engine.connect() as conn:
                return len(conn.execute(select(orders)).all()) == 2
        _wait_for(projected)
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(orders))}
            assert rows[buy.id].status == "filled" and rows[buy.id].client_order_id == "b-1"
            assert rows[rest.id].status == "new"
            (fill,) = conn.execute(select(fills)).all()
            assert (D(fill.qty), D(fill.price)) == (D(10), D("100.02"))
            (pos,) = conn.execute(select(positions)).all()
            assert (pos.account_id, pos.symbol, D(pos.qty)) == ("paper", "AAPL", D(10))
            (acct,) = conn.execute(select(accounts)).all()
            assert D(acct.cash) == D(100_000) - D("1000.20")
    finally:
        engine.dispose()
        runtime.close()
        worker.stop()


def test_projection_lag_never_blocks_acknowledgement(sql_url: str) -> None:
    """The projector is behind the journal, never in front of the acknowledgement path."""
    upgrade(sql_url)
    clock = ManualClock()
    runtime = recover(open_store(sql_url), instruments={"AAPL": Instrument(symbol="AAPL")},
                      clock=clock, calendar=AlwaysOpen())
    try:
        kernel = runtime.kernel
        kernel.submit("paper", OrderRequest.parse(symbol="AAPL", qty=1, side="buy", type="limit",
                                                  limit_price="10", time_in_force="gtc"))
        assert runtime.journal.wait_durable(kernel.seq, timeout=5) >= kernel.seq
        projector = Projector(sql_url)
        try:
            assert projector.checkpoint() == 0  # nothing projected: no worker was started
            assert projector.catch_up() >= 1
            assert projector.checkpoint() == kernel.seq
        finally:
            projector.close()
    finally:
        runtime.close()
