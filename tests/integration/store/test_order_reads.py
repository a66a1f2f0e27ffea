"""OrderReader.get (plain SQL on the driver connection) reads what SQLAlchemy's select does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from mcp_trading.adapters.store import upgrade
from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.order_reads import OrderReader
from mcp_trading.adapters.store.schema import orders


def _row(order_id: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": order_id, "account_id": "paper", "client_order_id": f"c-{order_id}",
        "symbol": "AAPL", "side": "buy", "type": "limit", "time_in_force": "gtc",
        "qty": Decimal("100.5"), "limit_price": Decimal("0.000000001"), "stop_price": None,
        "trail_price": None, "trail_percent": None, "status": "filled",
        "filled_qty": Decimal("100.5"), "filled_avg_price": Decimal("100.333333333"),
        "reject_code": None, "reject_reason": None, "replaces": None, "replaced_by": None,
        "attribution": "key-1", "created_at": 1_700_000_000_000_000_000,
        "updated_at": 1_700_000_000_000_000_001, "extended_hours": True, "hwm": None}
    row.update(changes)
    return row


def test_get_agrees_with_sqlalchemy_on_every_column(sql_url: str) -> None:
    upgrade(sql_url)
    engine = create_store_engine(sql_url)
    rows = [_row("o-1"), _row("o-2", extended_hours=False, type="trailing_stop",
                              trail_percent=Decimal("2.5"), hwm=Decimal("101"), status="canceled",
                              filled_qty=Decimal(0), filled_avg_price=None)]
    with engine.begin() as conn:
        conn.execute(insert(orders), rows)
    reader = OrderReader(engine)
    try:
        for row in rows:
            with engine.connect() as conn:
                expected = dict(conn.execute(
                    select(orders).where(orders.c.id == row["id"])).one()._mapping)
            got = reader.get(row["id"])
            assert expected == row
            assert got == {**expected, "archived": False}  # a hot row, not the archive's
            assert got is not None and type(got["extended_hours"]) is bool
            assert type(got["qty"]) is Decimal
        assert reader.get("no-such-order") is None
        assert reader.get("o-1' OR '1'='1") is None  # a parameter, never SQL
    finally:
        engine.dispose()
