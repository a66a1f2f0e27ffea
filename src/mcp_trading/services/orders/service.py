"""Orders service functions: list and filter orders, an order's journaled history, cancel-all.

Framework-free: REST routes (and MCP tools) call these with a Principal and plain values.
Queries read the kernel's in-memory state, which holds working orders and the recently closed
ones; closed orders released from it are read from the projections' `orders` table
(`ServiceCore.order_reads`). The history reads the journal off the event loop.
"""

from __future__ import annotations

import asyncio
import heapq
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple

from mcp_trading.domain.errors import ForbiddenError, InvalidError, NotFoundError, OrderNotFoundError
from mcp_trading.domain.events import Event, OrderAccepted, OrderRejected
from mcp_trading.domain.numbers import to_text
from mcp_trading.domain.orders import TERMINAL, WORKING, Order, OrderRequest, OrderStatus
from mcp_trading.kernel import codec
from mcp_trading.kernel.kernel import Kernel
from mcp_trading.kernel.ports import JournalStore
from mcp_trading.platform.alert_center import Severity
from mcp_trading.security.access import parse_time, require, require_running
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.orders.archived import archived_events, order_of
from mcp_trading.services.views import iso, order_row_view, order_view

__all__ = ["MAX_PAGE", "STATUS_FILTERS", "OrderEventIndex", "OrdersService", "closed_order_row",
           "find_order_view", "parse_time"]

MAX_PAGE = 500
#: `status=` accepts these groups or any exact order status
STATUS_FILTERS = ("open", "closed", "all")
_CANCEL_ALL_FIELDS = ("account_id", "reason", "symbol")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_US = 1_000


def _status_set(status: str | None) -> frozenset[OrderStatus] | None:
    """The statuses a `status=` filter admits; None admits every order."""
    value = (status or "open").strip().lower()
    if value == "all":
        return None
    if value == "open":
        return WORKING
    if value == "closed":
        return TERMINAL
    try:
        return frozenset({OrderStatus(value)})
    except ValueError:
        allowed = ", ".join([*STATUS_FILTERS, *(s.value for s in OrderStatus)])
        raise InvalidError(f"status: {status!r} is not allowed; use one of: "
                           f"{allowed}", code="INVALID_QUERY", field="status") from None


def _non_negative(name: str, value: int | str | None, *, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidError(f"{name}: must be a whole number >= 0, got {value!r}", code="INVALID_QUERY",
                           field=name) from None
    if number < 0:
        raise InvalidError(f"{name}: must be >= 0, got {number}", code="INVALID_QUERY", field=name)
    return number


def closed_order_row(core: ServiceCore, order_id: str, account_id: str | None) -> dict[str, Any]:
    """The projected row of an order no longer in the kernel's memory, or OrderNotFoundError.

    A synchronous primary-key read (~0.1 ms on SQLite): only reads of closed orders reach it.
    """
    reader = core.order_reads
    row = None if reader is None else reader.get(order_id)
    if row is None or (account_id is not None and row["account_id"] != account_id):
        raise OrderNotFoundError(order_id)
    return row


def find_order_view(core: ServiceCore, order_id: str, account_id: str | None) -> dict[str, Any]:
    """The view of one order: the kernel's, else (closed and released) the projections'."""
    try:
        return order_view(core.kernel_runtime.kernel.get_order(order_id, account_id))
    except OrderNotFoundError:
        return order_row_view(closed_order_row(core, order_id, account_id))


def _parse_cursor(cursor: str) -> tuple[int, str]:
    ts, dot, order_id = cursor.partition(".")
    if dot and order_id and ts.isdigit():
        return int(ts), order_id
    raise InvalidError("cursor: not a cursor this service issued; pass the "
                       "next_cursor of the previous page", code="INVALID_QUERY", field="cursor")


class OrdersService:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self._history = OrderEventIndex()

    @property
    def kernel(self) -> Kernel:
        return self.core.kernel_runtime.kernel

    # ---- listing --------------------------------------------------------------------------
    def list_orders(self, principal: Principal | None, *, status: str | None = None,
                    symbol: str | None = None, account_id: str | None = None,
                    after: str | None = None, until: str | None = None, limit: int | str = 100,
                    cursor: str | None = None, offset: int | str | None = None) -> dict[str, Any]:
        """Orders newest first (by creation time, then id), filtered; `next_cursor` continues
        the listing (None at the end).

        Orders of internal accounts (ids starting with "_") are listed only when asked for by
        `account_id`. An account-bound credential sees its own account only. Working and
        recently closed orders come from the kernel; closed ones it released, from the
        projections (a synchronous read of at most a page: ~1-3 ms on SQLite for 500 rows).
        """
        caller = require(principal, Role.VIEWER)
        statuses = _status_set(status)
        if caller.account_id is not None:
            if account_id and account_id != caller.account_id:
                raise ForbiddenError(f"this credential reads account {caller.account_id!r} only",
                                     code="FORBIDDEN")
            account_id = caller.account_id
        if account_id and account_id not in self.kernel.state.accounts:
            raise NotFoundError(f"account {account_id!r} does not exist", code="UNKNOWN_ACCOUNT",
                                field="account_id")
        wanted_symbol = symbol.strip().upper() if symbol and symbol.strip() else None
        t_after, t_until = parse_time("after", after), parse_time("until", until)
        if t_after is not None and t_until is not None and t_after > t_until:
            raise InvalidError("after: must not be later than until", code="INVALID_QUERY", field="after")
        size = _non_negative("limit", limit, default=100)
        if not 1 <= size <= MAX_PAGE:
            raise InvalidError(f"limit: must be between 1 and {MAX_PAGE}, got {size}", code="INVALID_QUERY",
                               field="limit")
        skip = _non_negative("offset", offset, default=0)
        before = _parse_cursor(cursor) if cursor else None
        wanted = _Filter(statuses, wanted_symbol, account_id or None, t_after, t_until)
        need = skip + size
        orders = self.kernel.state.orders
        live = heapq.nlargest(need, (
            ((o.created_at, o.id), o) for o in orders.values()
            if wanted.matches(o) and (before is None or (o.created_at, o.id) < before)),
            key=_first)
        merged: list[tuple[tuple[int, str], Any]] = live
        reader = self.core.order_reads
        if reader is not None and (statuses is None or not statuses <= WORKING):
            stored = self._stored(reader, wanted, before, need, orders)
            merged = heapq.nlargest(need, [*live, *stored], key=_first)
        page_items = merged[skip:need]
        page = [order_view(item) if isinstance(item, Order) else order_row_view(item)
                for _, item in page_items]
        next_cursor = (f"{page_items[-1][0][0]}.{page_items[-1][0][1]}"
                       if len(page) == size else None)
        result: dict[str, Any] = {"orders": page, "next_cursor": next_cursor, "count": len(page)}
        horizon = None if reader is None or (statuses is not None and statuses <= WORKING) \
            else reader.archive_horizon()
        if horizon is not None and (t_after is None or t_after < horizon):
            result["archived"] = {
                "before": iso(horizon),
                "note": f"closed orders last updated before {iso(horizon)} were archived and "
                        "are not listed: read one by id (GET /orders/{id} finds it in the "
                        "archive, marked archived: true) or query the orders_archive table"}
        return result

    @staticmethod
    def _stored(reader: Any, wanted: _Filter, before: tuple[int, str] | None, need: int,
                live: Mapping[str, Order]) -> list[tuple[tuple[int, str], Any]]:
        """Up to `need` projected orders matching `wanted`, newest first, that the kernel no
        longer holds (the kernel's copy of an order is the current one)."""
        found: list[tuple[tuple[int, str], Any]] = []
        while len(found) < need:
            batch = need - len(found) + 16
            rows = reader.page(statuses=None if wanted.statuses is None else
                               [s.value for s in wanted.statuses],
                               symbol=wanted.symbol, account_id=wanted.account_id,
                               after=wanted.after, until=wanted.until, before=before,
                               limit=batch)
            for row in rows:
                if row["id"] not in live:
                    found.append(((row["created_at"], row["id"]), row))
            if len(rows) < batch:
                break
            before = (rows[-1]["created_at"], rows[-1]["id"])
        return found[:need]

    # ---- history --------------------------------------------------------------------------
    async def history(self, principal: Principal | None, order_id: str) -> dict[str, Any]:
        """Every journaled event of one order, oldest first. When its first events were
        moved to the archived journal segments they are read from there (only the segments
        of its lifetime) and `archived` says which; where the segments are not on this host,
        `archived` is a note saying so and the events are the hot journal's only."""
        caller = require(principal, Role.VIEWER)
        view = find_order_view(self.core, order_id, caller.account_id)
        await self.core.durable()  # what the kernel decided so far is in the store
        store = self.core.kernel_runtime.journal.store
        found = await asyncio.to_thread(self._history.events, store, view["id"])
        archived: dict[str, Any] | None = None
        if not found or not isinstance(found[0][1], (OrderAccepted, OrderRejected)):
            archived = {"note": _ARCHIVED_HISTORY}
            reader = self.core.order_reads
            directory = None if reader is None else reader.archive_dir
            if directory is not None and directory.is_dir():
                earlier, files = await asyncio.to_thread(
                    archived_events, directory, view["id"], _ns(view["created_at"]),
                    _ns(view["updated_at"]), found[0][0] if found else None)
                found = earlier + found
                archived = {"segments": files, "events": len(earlier), "note": _FROM_SEGMENTS}
        result = {"order_id": view["id"], "order": view,
                  "events": [_event_entry(seq, event) for seq, event in found]}
        if archived is not None:
            result["archived"] = archived
        return result

    # ---- emergency ------------------------------------------------------------------------
    async def cancel_all_pending(self, principal: Principal | None, body: Mapping[str, Any]
                                 ) -> dict[str, Any]:
        """Cancel every working order (optionally of one account and/or symbol), logged."""
        caller = require(principal, Role.OPERATOR)
        require_running(self.core)
        unknown = sorted(set(body) - set(_CANCEL_ALL_FIELDS))
        if unknown:
            raise InvalidError(f"{unknown[0]}: not a field of this request; "
                               f"allowed: {', '.join(_CANCEL_ALL_FIELDS)}", code="INVALID_BODY",
                               field=unknown[0])
        reason, symbol, account_id = (_optional_text(body, name) for name in
                                      ("reason", "symbol", "account_id"))
        kernel = self.kernel
        if symbol is not None:
            symbol = symbol.upper()
            if symbol not in kernel.instruments:
                raise InvalidError(f"symbol: {symbol!r} is not a known instrument", code="UNKNOWN_SYMBOL",
                                   field="symbol")
        if caller.account_id is not None:
            if account_id is not None and account_id != caller.account_id:
                raise ForbiddenError(f"this credential acts on account {caller.account_id!r} only",
                                     code="FORBIDDEN")
            account_id = caller.account_id
        if account_id is not None and account_id not in kernel.state.accounts:
            raise NotFoundError(f"account {account_id!r} does not exist", code="UNKNOWN_ACCOUNT",
                                field="account_id")
        why = reason or f"cancel all pending orders requested by {caller.actor}"
        canceled = kernel.cancel_all(account_id=account_id, symbol=symbol,
                                     reason=f"cancel-all-pending: {why}")
        await self.core.durable()
        ids = [o.id for o in canceled]
        details = {"canceled_count": len(ids), "symbol": symbol, "account_id": account_id}
        self.core.emergency_log.append("cancel-all-pending", actor=caller.actor, reason=why,
                                           **details)
        self.core.alerts.raise_alert(
            "cancel_all", f"cancel-all-pending by {caller.actor}: {len(ids)} orders canceled ({why})",
            severity=Severity.WARNING, source="orders", details=details)
        self.core.metrics.alerts.labels("cancel_all").inc()
        return {"canceled_count": len(ids), "canceled": ids, "reason": why, "symbol": symbol,
                "account_id": account_id,
                "trading_status": kernel.state.platform_state.value}

    # ---- health ---------------------------------------------------------------------------
    def open_orders(self) -> int:
        """Working orders of every non-internal account."""
        return sum(len(a.open_orders) for a in self.kernel.state.accounts.values()
                   if not a.internal)


def _first(item: tuple[tuple[int, str], Any]) -> tuple[int, str]:
    return item[0]


class _Filter(NamedTuple):
    statuses: frozenset[OrderStatus] | None  # None: any status
    symbol: str | None
    account_id: str | None  # None: every non-internal account
    after: int | None
    until: int | None

    def matches(self, order: Order) -> bool:
        if self.account_id is not None:
            if order.account_id != self.account_id:
                return False
        elif order.account_id.startswith("_"):
            return False
        if self.statuses is not None and order.status not in self.statuses:
            return False
        if self.symbol is not None and order.symbol != self.symbol:
            return False
        if self.after is not None and order.created_at < self.after:
            return False
        return self.until is None or order.created_at <= self.until


def _optional_text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidError(f"{name}: must be a string", code="INVALID_BODY", field=name)
    return value.strip() or None


# ---- the journal index behind /orders/{id}/history ---------------------------------------

class OrderEventIndex:
    """Order id -> the journal records holding its events, built by tailing the journal.

    Built on first use and extended with each later call, so a history costs a read of the
    few records that hold the order's events, not a scan of the journal. Thread-safe; called
    off the event loop. A record is one group commit, so most orders live in one or two.
    Bounded: it remembers the `capacity` orders most recently seen in the journal (~100 B
    each); an older order's history is found by a scan of the journal instead (slow, rare).
    """

    def __init__(self, capacity: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._after = 0  # the last record folded in
        self._capacity = capacity
        #: one record seq, or several; oldest-touched first
        self._where: OrderedDict[str, int | list[int]] = OrderedDict()

    def _catch_up(self, store: JournalStore) -> None:
        where = self._where
        for rec in store.read(after_seq=self._after):
            for _, event in codec.events((rec,)):
                order_id = order_of(event)
                if order_id is None:
                    continue
                seen = where.get(order_id)
                if seen is None:
                    where[order_id] = rec.seq
                else:
                    where.move_to_end(order_id)
                    if isinstance(seen, int):
                        if seen != rec.seq:
                            where[order_id] = [seen, rec.seq]
                    elif seen[-1] != rec.seq:
                        seen.append(rec.seq)
            self._after = rec.seq
            while len(where) > self._capacity:
                where.popitem(last=False)

    def events(self, store: JournalStore, order_id: str) -> list[tuple[int, Event]]:
        with self._lock:
            self._catch_up(store)
            seen = self._where.get(order_id)
            records = [seen] if isinstance(seen, int) else list(seen or ())
            upto = self._after
        if not records:  # not among the recent orders: scan what the index has passed
            return [(seq, event) for seq, event in codec.events(store.read(after_seq=0))
                    if seq <= upto and order_of(event) == order_id]
        return [(seq, event) for record_seq in records
                for seq, event in _events_in(store, record_seq) if order_of(event) == order_id]


_ARCHIVED_HISTORY = (
    "the hot journal lacks this order's first events (from its acceptance): `mcp-trading "
    "archive` moved them into the archived journal segments (<data_dir>/archive/"
    "journal-*.seg.zst, listed in journal-index.json; msgpack journal records, zstd); the "
    "events listed are the hot journal's only. The `order` member is its final state; "
    "`mcp-trading verify` checks the segments and a backup holds them")


_FROM_SEGMENTS = ("this order's first events were archived by `mcp-trading archive`; they "
                  "are read from the archived journal segments named (<data_dir>/archive)")


def _ns(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp() * 1_000_000) * 1_000


def _events_in(store: JournalStore, record_seq: int) -> Iterator[tuple[int, Event]]:
    """The events of the one record whose seq is `record_seq`."""
    yield from codec.events(store.read(after_seq=record_seq - 1, limit=1))


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_text(value)  # bounded, even for a value journaled before input bounds
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, OrderRequest):
        return {k: _plain(k, v) for k, v in value._asdict().items()}
    if isinstance(value, int) and not isinstance(value, bool) and name.endswith("_at"):
        return iso(value)
    return value


def _event_entry(seq: int, event: Event) -> dict[str, Any]:
    fields = {name: _plain(name, value) for name, value in event._asdict().items()
              if name not in ("ts", "order_id")}
    if isinstance(event, (OrderAccepted, OrderRejected)):
        fields.pop("account_id", None)  # on the order itself
    return {"seq": seq, "event": type(event).__name__, "ts": iso(event.ts), "fields": fields}
