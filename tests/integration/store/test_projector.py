"""The projector folds a scripted journal into order, fill, account and position rows."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from mcp_trading.adapters.store import (
    MemoryJournalStore,
    ProjectionError,
    Projector,
    SqlJournalStore,
)
from mcp_trading.adapters.store import projector as projector_module
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.migrate import upgrade
from mcp_trading.adapters.store.schema import (
    accounts,
    fills,
    orders,
    positions,
    projection_checkpoint,
)
from mcp_trading.domain.events import (
    AccountOpened,
    Event,
    LimitsSet,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderRouted,
    OrderTriggered,
    TradingStateChanged,
)
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderType, TimeInForce
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel import codec
from mcp_trading.kernel.ports import JournalRecord

T0 = 1_767_225_600_000_000_000
D = Decimal


def accepted(order_id: str, side: OrderSide, qty: int, *, ts: int, routed: bool = True,
             limit: str | None = None, client_order_id: str | None = None,
             replaces: str | None = None) -> OrderAccepted:
    request = OrderRequest(
        symbol="AAPL", qty=D(qty), side=side,
        type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        time_in_force=TimeInForce.DAY, limit_price=None if limit is None else D(limit),
        client_order_id=client_order_id)
    return OrderAccepted(order_id, "acc-1", request, D(100), D(0), routed, ts, replaces,
                         "agent:test", ts)


def script() -> list[Event]:
    """Buy 10 @100, sell 4 @110 in two partial fills, plus every other order outcome."""
    return [
        AccountOpened("acc-1", "USD", D("100000"), False, T0),                      # 1
        accepted("o-1", OrderSide.BUY, 10, ts=T0 + 1, client_order_id="c-1"),      # 2
        OrderFilled("o-1", D(10), D(100), D(1), T0 + 2),                            # 3
        accepted("o-2", OrderSide.SELL, 4, ts=T0 + 3, routed=False, limit="110"),  # 4
        OrderRouted("o-2", T0 + 4),                                                 # 5
        OrderFilled("o-2", D(2), D(110), D("0.5"), T0 + 5),                         # 6
        OrderFilled("o-2", D(2), D(110), D("0.5"), T0 + 6),                         # 7
        OrderRejected("o-3", "acc-1", OrderRequest(
                          symbol="AAPL", qty=D(1_000_000), side=OrderSide.BUY,
                          type=OrderType.MARKET, time_in_force=TimeInForce.DAY,
                          client_order_id="c-3"),
                      "BUYING_POWER", "needs 100,000,000.00, has 99,438.00", None, T0 + 7),  # 8
        accepted("o-4", OrderSide.BUY, 5, ts=T0 + 8, limit="90"),                  # 9
        OrderReplaced("o-4", "o-5", T0 + 9),                                        # 10
        accepted("o-5", OrderSide.BUY, 5, ts=T0 + 9, limit="91", replaces="o-4"),  # 11
        OrderTriggered("o-5", T0 + 10),                                             # 12 ignored
        OrderCanceled("o-5", "user", T0 + 11),                                      # 13
        accepted("o-6", OrderSide.BUY, 1, ts=T0 + 12, limit="80"),                 # 14
        OrderExpired("o-6", T0 + 13),                                               # 15
        TradingStateChanged("acc-1", TradingState.HALTED, "drill", "operator", T0 + 14),  # 16
        TradingStateChanged(None, TradingState.HALTED, "drill", "operator", T0 + 15),     # 17
        LimitsSet(None, {"max_order_qty": "100"}, "admin", T0 + 16),               # 18
    ]


def journal(events: list[Event]) -> list[JournalRecord]:
    return [codec.record(seq, event) for seq, event in enumerate(events, start=1)]


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every projection row, in key order."""
    out = {}
    with engine.connect() as conn:
        for table in (accounts, orders, fills, positions):
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [dict(row._mapping) for row in conn.execute(query)]
    return out


@pytest.fixture
def db(sql_url: str) -> Iterator[tuple[str, Engine]]:
    """A migrated database on each SQL backend, and an engine to inspect it."""
    upgrade(sql_url)
    engine = create_store_engine(sql_url)
    yield sql_url, engine
    engine.dispose()


@pytest.fixture
def scripted(db: tuple[str, Engine]) -> tuple[str, Engine]:
    """The database with the scripted journal appended."""
    with SqlJournalStore(db[0]) as store:
        store.append(journal(script()))
    return db


def check_scripted_rows(rows: dict[str, list[dict[str, Any]]]) -> None:
    (account,) = rows["accounts"]
    assert account["cash"] == D("99438")  # 100000 - (1000 + 1) + 2 x (220 - 0.5)
    assert account["start_cash"] == D("100000")
    assert account["realized_pnl"] == D(40)
    assert account["commissions"] == D(2)
    assert account["trading_state"] == "halted"
    assert account["currency"] == "USD"

    (position,) = rows["positions"]
    assert (position["account_id"], position["symbol"]) == ("acc-1", "AAPL")
    assert position["qty"] == D(6)
    assert position["avg_entry_price"] == D(100)
    assert position["realized_pnl"] == D(40)
    assert position["updated_at"] == T0 + 6

    by_id = {row["id"]: row for row in rows["orders"]}
    assert {k: v["status"] for k, v in by_id.items()} == {
        "o-1": "filled", "o-2": "filled", "o-3": "rejected", "o-4": "replaced",
        "o-5": "canceled", "o-6": "expired"}
    assert by_id["o-1"]["filled_qty"] == D(10) and by_id["o-1"]["filled_avg_price"] == D(100)
    assert by_id["o-1"]["client_order_id"] == "c-1"
    assert by_id["o-2"]["filled_qty"] == D(4) and by_id["o-2"]["filled_avg_price"] == D(110)
    assert by_id["o-2"]["limit_price"] == D(110) and by_id["o-2"]["side"] == "sell"
    assert by_id["o-2"]["created_at"] == T0 + 3 and by_id["o-2"]["updated_at"] == T0 + 6
    assert by_id["o-3"]["reject_code"] == "BUYING_POWER"
    assert by_id["o-3"]["filled_qty"] == D(0)
    assert by_id["o-4"]["replaced_by"] == "o-5" and by_id["o-5"]["replaces"] == "o-4"
    assert by_id["o-5"]["attribution"] == "agent:test"

    assert [(f["seq"], f["order_id"], f["side"], f["qty"], f["price"], f["commission"])
            for f in rows["fills"]] == [
        (3, "o-1", "buy", D(10), D(100), D(1)),
        (6, "o-2", "sell", D(2), D(110), D("0.5")),
        (7, "o-2", "sell", D(2), D(110), D("0.5")),
    ]


def test_projector_builds_orders_fills_positions_and_cash(scripted: tuple[str, Engine]) -> None:
    url, engine = scripted
    projector = Projector(url)

    assert projector.catch_up() == len(script())

    check_scripted_rows(dump(engine))
    assert projector.checkpoint() == len(script())
    projector.close()


def test_running_again_applies_nothing_and_changes_nothing(
        scripted: tuple[str, Engine]) -> None:
    url, engine = scripted
    Projector(url).catch_up()
    before = dump(engine)

    again = Projector(url)
    assert again.run_once() == 0
    assert again.catch_up() == 0
    assert dump(engine) == before


@pytest.mark.parametrize("batch", [1, 2, 5, 7])
def test_small_batches_give_the_same_rows_as_one_batch(scripted: tuple[str, Engine],
                                                       batch: int) -> None:
    url, engine = scripted
    projector = Projector(url)

    applied = [projector.run_once(max_records=batch) for _ in range(2)]
    assert applied == [batch] * 2
    Projector(url).catch_up(max_records=batch)  # a fresh process resumes at the checkpoint

    check_scripted_rows(dump(engine))


def test_a_crash_mid_batch_writes_nothing_and_the_rerun_is_exact(
        scripted: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    url, engine = scripted
    projector = Projector(url)
    projector.run_once(max_records=4)  # o-1 bought and filled, o-2 accepted
    before = dump(engine)
    real_insert = projector_module._insert

    def crash_on_fills(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
        real_insert(conn, table, rows)
        if table is fills and rows:
            raise OSError("power cut")

    monkeypatch.setattr(projector_module, "_insert", crash_on_fills)
    with pytest.raises(OSError, match="power cut"):
        projector.run_once()
    monkeypatch.undo()

    assert dump(engine) == before
    assert projector.checkpoint() == 4
    assert projector.catch_up() == len(script()) - 4
    check_scripted_rows(dump(engine))


def test_a_second_projector_of_the_same_name_is_refused(
        scripted: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    url, engine = scripted
    projector = Projector(url)
    projector.run_once(max_records=1)
    real_load = projector_module._load

    def load_while_another_commits(conn: Any, events: Any) -> Any:
        with engine.begin() as other:
            other.execute(update(projection_checkpoint).values(seq=5))
        return real_load(conn, events)

    monkeypatch.setattr(projector_module, "_load", load_while_another_commits)
    with pytest.raises(ProjectionError, match="another projector"):
        projector.run_once()


def test_the_journal_can_come_from_the_in_memory_store(db: tuple[str, Engine]) -> None:
    url, engine = db
    source = MemoryJournalStore()
    source.append(journal(script()))

    assert Projector(url, source=source).catch_up(max_records=3) == len(script())

    check_scripted_rows(dump(engine))


def test_a_fill_for_an_unknown_order_stops_the_projector(db: tuple[str, Engine]) -> None:
    url, engine = db
    with SqlJournalStore(url) as store:
        store.append(journal([AccountOpened("acc-1", "USD", D(1000), False, T0),
                              OrderFilled("ghost", D(1), D(1), D(0), T0 + 1)]))

    with pytest.raises(ProjectionError, match="order ghost"):
        Projector(url).run_once()

    assert dump(engine)["accounts"] == []  # the batch was not half-applied


def test_projections_are_named_and_independent(scripted: tuple[str, Engine]) -> None:
    url, _ = scripted
    Projector(url, name="reports").catch_up()

    assert Projector(url, name="reports").checkpoint() == len(script())
    assert Projector(url, name="other").checkpoint() == 0
