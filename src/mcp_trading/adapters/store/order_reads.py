"""Reads of orders from the projection tables: closed orders live here, not in the kernel.

The kernel drops a closed order from memory once the projector's checkpoint has passed the
event that closed it (`KernelState.release`), so every order not in the kernel's memory is
in the `orders` table in its final state — or, once `mcp-trading archive` moved it, in
`orders_archive` (point reads fall back to it and mark the row `archived`; pages do not
reach it, and `archive_horizon` says from when they would have to). Blocking calls: run
them off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, not_, or_, select

from mcp_trading.adapters.store.engine import create_store_engine
from mcp_trading.adapters.store.schema import (
    archive_horizons,
    orders,
    orders_archive,
    projection_checkpoint,
)
from mcp_trading.domain.orders import OrderRequest, OrderSide, OrderType, TimeInForce

__all__ = ["OrderReader", "request_of"]

Row = dict[str, Any]
_O = orders.c


class OrderReader:
    """Point and page reads of projected orders, and the projector's durable watermark."""

    def __init__(self, target: str | Engine, *, projector: str = "projections",
                 archive_dir: Path | None = None) -> None:
        #: where `mcp-trading archive` keeps the archived journal segments (on this host)
        self.archive_dir = archive_dir
        self._owns_engine = isinstance(target, str)
        self._engine = create_store_engine(target) if isinstance(target, str) else target
        self._projector = projector
        # get() on the driver connection with SQL written once: SQLAlchemy's statement
        # building, compilation cache lookup and BEGIN/ROLLBACK cost ~10x the primary-key
        # read itself (profiled in the soak: 125 reads/s took a fifth of the event loop)
        dialect = self._engine.dialect
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self._names = [c.name for c in orders.columns]
        self._get_sql = (f"SELECT {', '.join(self._names)} FROM orders WHERE id = {mark}")
        self._processors: list[tuple[int, Callable[[Any], Any]]] = [
            (i, proc) for i, c in enumerate(orders.columns)
            if (proc := c.type.result_processor(dialect, None)) is not None]

    def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()

    def watermark(self) -> int:
        """The last journal seq the projections hold (0 before the projector's first batch)."""
        c = projection_checkpoint.c
        with self._engine.connect() as conn:
            seq = conn.execute(select(c.seq).where(c.name == self._projector)).scalar()
        return int(seq or 0)

    def get(self, order_id: str) -> Row | None:
        """The order's row, from `orders` or else `orders_archive` (then `archived` is true)."""
        conn = self._engine.raw_connection()
        try:
            cursor = conn.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(self._get_sql, (order_id,))
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            conn.close()
        if row is None:
            return self._first(lambda t: select(t).where(t.c.id == order_id), (orders_archive,))
        values = list(row)
        for i, proc in self._processors:
            values[i] = proc(values[i])
        return {**dict(zip(self._names, values, strict=True)), "archived": False}

    def by_client_id(self, account_id: str, client_order_id: str) -> Row | None:
        return self._first(lambda t: select(t).where(t.c.account_id == account_id,
                                                     t.c.client_order_id == client_order_id))

    def _first(self, query: Callable[[Table], Any],
               tables: tuple[Table, ...] = (orders, orders_archive)) -> Row | None:
        with self._engine.connect() as conn:
            for table in tables:
                row = conn.execute(query(table)).first()
                if row is not None:
                    return {**row._mapping, "archived": table is orders_archive}
        return None

    def archive_horizon(self) -> int | None:
        """Closed orders last updated before this time (ns) were archived (None: none were)."""
        h = archive_horizons.c
        with self._engine.connect() as conn:
            before = conn.execute(select(h.before_ns).where(h.name == "orders")).scalar()
        return None if before is None else int(before)

    def page(self, *, statuses: Collection[str] | None, symbol: str | None,
             account_id: str | None, after: int | None, until: int | None,
             before: tuple[int, str] | None, limit: int) -> list[Row]:
        """Orders newest first by (created_at, id), strictly before `before` when given.

        `account_id` None lists every account but the internal ones (ids starting "_").
        """
        where = []
        if account_id is not None:
            where.append(_O.account_id == account_id)
        else:
            where.append(not_(_O.account_id.startswith("_", autoescape=True)))
        if statuses is not None:
            # `status || ''`: not the status index (a listing of "closed" then sorts every
            # closed order per page) but the created_at one, which serves the order and limit
            where.append(_O.status.concat("").in_(sorted(statuses)))
        if symbol is not None:
            where.append(_O.symbol == symbol)
        if after is not None:
            where.append(_O.created_at >= after)
        if until is not None:
            where.append(_O.created_at <= until)
        if before is not None:
            ts, order_id = before
            # a plain range on created_at, so the index serves it (an OR of the two cases
            # alone made SQLite scan: every page of a long listing cost a full scan)
            where.append(_O.created_at <= ts)
            where.append(or_(_O.created_at < ts, _O.id < order_id))
        query = (select(orders).where(*where).order_by(_O.created_at.desc(), _O.id.desc())
                 .limit(limit))
        with self._engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]


def request_of(row: Row) -> OrderRequest:
    """The request an order row was created from (a trailing stop's stop_price is the
    trailed one, not part of its request)."""
    kind = OrderType(row["type"])
    return OrderRequest(
        symbol=row["symbol"], qty=row["qty"], side=OrderSide(row["side"]), type=kind,
        time_in_force=TimeInForce(row["time_in_force"]), limit_price=row["limit_price"],
        stop_price=None if kind is OrderType.TRAILING_STOP else row["stop_price"],
        trail_price=row["trail_price"], trail_percent=row["trail_percent"],
        client_order_id=row["client_order_id"], extended_hours=bool(row["extended_hours"]))
