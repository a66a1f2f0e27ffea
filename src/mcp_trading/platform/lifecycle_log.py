"""The order lifecycle and the platform's control changes as INFO lines, off the writer's path.

    journal writer thread   a batch is durable -> `submit(first_seq, batch)`: one LogRecord
                            holding the batch, put without waiting into a bounded queue (a
                            QueueHandler); a full queue drops the batch and counts its events
    listener thread         (QueueListener) renders each event of interest as one line (JSON
                            or console), masks secrets once over the batch's text, and hands
                            it to the log file's handler in one write

The kernel's event loop pays nothing; the writer thread pays one record per batch (not per
event). Lines say what is durable: an accepted order is in the journal when its line is
written. Fills, cancels and replacements name only the order: its account, symbol, side and
client order id come from the accepted event seen before (or, for an order accepted before
this process started, from the kernel's book).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from mcp_trading.domain import events as ev
from mcp_trading.domain.events import Event
from mcp_trading.domain.orders import Order, OrderRequest
from mcp_trading.security.redact import redact

__all__ = ["LOGGER", "LifecycleLog", "render_event"]

LOGGER = "mcp_trading.lifecycle"


class _Known:
    """What a fill or cancel line needs to know about its order."""

    __slots__ = ("account", "attribution", "filled", "request")

    def __init__(self, account: str, request: OrderRequest, attribution: str | None) -> None:
        self.account, self.request, self.attribution = account, request, attribution
        self.filled = Decimal(0)


def _order_fields(order_id: str, known: _Known | None) -> dict[str, Any]:
    out: dict[str, Any] = {"order_id": order_id}
    if known is not None:
        r = known.request
        out.update(client_order_id=r.client_order_id, account=known.account, symbol=r.symbol,
                   side=r.side.value, attribution=known.attribution)
    return out


def _request_fields(request: OrderRequest) -> dict[str, Any]:
    return {"client_order_id": request.client_order_id, "symbol": request.symbol,
            "side": request.side.value, "qty": str(request.qty), "type": request.type.value,
            "price": None if request.limit_price is None else str(request.limit_price),
            "stop_price": None if request.stop_price is None else str(request.stop_price)}


class _Book:
    """The orders the lifecycle lines have seen accepted and not yet closed."""

    def __init__(self, kernel_orders: Mapping[str, Order] | None) -> None:
        self.open: dict[str, _Known] = {}
        self.kernel_orders = kernel_orders

    def get(self, order_id: str) -> _Known | None:
        known = self.open.get(order_id)
        if known is None and self.kernel_orders is not None:
            order = self.kernel_orders.get(order_id)  # a dict read: safe from this thread
            if order is not None:
                known = self.open[order_id] = _Known(order.account_id, order.request,
                                                     order.attribution)
                known.filled = order.filled_qty
        return known

    def close(self, order_id: str) -> _Known | None:
        known = self.get(order_id)
        self.open.pop(order_id, None)
        return known


def _accepted(e: ev.OrderAccepted, book: _Book) -> tuple[str, dict[str, Any]]:
    book.open[e.order_id] = _Known(e.account_id, e.request, e.attribution)
    fields = {"order_id": e.order_id, "account": e.account_id, **_request_fields(e.request),
              "attribution": e.attribution}
    if e.replaces:
        fields["replaces"] = e.replaces
    return "order accepted", fields


def _rejected(e: ev.OrderRejected, _book: _Book) -> tuple[str, dict[str, Any]]:
    return "order rejected", {"order_id": e.order_id, "account": e.account_id,
                              **_request_fields(e.request), "attribution": e.attribution,
                              "code": e.code, "reason": e.reason}


def _filled(e: ev.OrderFilled, book: _Book) -> tuple[str, dict[str, Any]]:
    known = book.get(e.order_id)
    fields = {**_order_fields(e.order_id, known), "qty": str(e.qty), "price": str(e.price),
              "commission": str(e.commission)}
    if known is not None:
        known.filled += e.qty
        fields["filled_qty"] = str(known.filled)
        if known.filled >= known.request.qty:
            book.open.pop(e.order_id, None)
    return "order filled", fields


def _canceled(e: ev.OrderCanceled, book: _Book) -> tuple[str, dict[str, Any]]:
    return "order canceled", {**_order_fields(e.order_id, book.close(e.order_id)),
                              "reason": e.reason}


def _expired(e: ev.OrderExpired, book: _Book) -> tuple[str, dict[str, Any]]:
    return "order expired", _order_fields(e.order_id, book.close(e.order_id))


def _replaced(e: ev.OrderReplaced, book: _Book) -> tuple[str, dict[str, Any]]:
    return "order replaced", {**_order_fields(e.order_id, book.close(e.order_id)),
                              "replaced_by": e.replaced_by}


def _triggered(e: ev.OrderTriggered, book: _Book) -> tuple[str, dict[str, Any]]:
    return "order triggered", _order_fields(e.order_id, book.get(e.order_id))


def _state(e: ev.TradingStateChanged, _book: _Book) -> tuple[str, dict[str, Any]]:
    word = {"halted": "trading halted", "halted_new_orders": "trading halted",
            "active": "trading resumed"}.get(e.state.value, f"trading {e.state.value}")
    return word, {"account": e.account_id or "platform", "state": e.state.value,
                  "reason": e.reason, "actor": e.actor}


def _limits(e: ev.LimitsSet, _book: _Book) -> tuple[str, dict[str, Any]]:
    return "limits changed", {"account": e.account_id or "global", "limits": e.limits,
                              "actor": e.actor}


def _maintenance(e: ev.MaintenanceChanged, _book: _Book) -> tuple[str, dict[str, Any]]:
    return ("maintenance on" if e.active else "maintenance off"), {"reason": e.reason,
                                                                   "actor": e.actor}


def _account(e: ev.AccountOpened, _book: _Book) -> tuple[str, dict[str, Any]]:
    return "account opened", {"account": e.account_id, "cash": str(e.cash),
                              "currency": e.currency}


def _instance_started(e: ev.StrategyInstanceStarted, _book: _Book) -> tuple[str, dict[str, Any]]:
    return "strategy started", {"instance_id": e.instance_id, "strategy": e.strategy,
                                "account": e.account_id, "symbols": list(e.symbols),
                                "actor": e.started_by}


def _instance_stopped(e: ev.StrategyInstanceStopped, _book: _Book) -> tuple[str, dict[str, Any]]:
    return "strategy stopped", {"instance_id": e.instance_id, "reason": e.reason,
                                "actor": e.actor}


_RENDER: dict[type, Callable[[Any, _Book], tuple[str, dict[str, Any]]]] = {
    ev.OrderAccepted: _accepted, ev.OrderRejected: _rejected, ev.OrderFilled: _filled,
    ev.OrderCanceled: _canceled, ev.OrderExpired: _expired, ev.OrderReplaced: _replaced,
    ev.OrderTriggered: _triggered, ev.TradingStateChanged: _state, ev.LimitsSet: _limits,
    ev.MaintenanceChanged: _maintenance, ev.AccountOpened: _account,
    ev.StrategyInstanceStarted: _instance_started,
    ev.StrategyInstanceStopped: _instance_stopped,
}


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}Z"


def render_event(event: Event, book: _Book, *, ts: float, seq: int, service: str,
                 json_lines: bool) -> str | None:
    """One event's line (None for an event that gets none: routed, trail moves, ...)."""
    render = _RENDER.get(type(event))
    if render is None:
        return None
    name, fields = render(event, book)
    fields = {k: v for k, v in fields.items() if v is not None}
    if json_lines:
        return json.dumps({"ts": _iso(ts), "level": "info", "logger": LOGGER, "service": service,
                           "event": name, "seq": seq, **fields}, default=str)
    pairs = " ".join(f"{k}={v}" for k, v in fields.items())
    return f"{_iso(ts)} [info     ] {name:<30} seq={seq} {pairs} [{LOGGER}] service={service}"


class _BatchRecord(logging.LogRecord):
    """One durable batch of events, carried to the listener unformatted."""

    def __init__(self, first_seq: int, batch: list[Event]) -> None:
        super().__init__(LOGGER, logging.INFO, "", 0, "batch", None, None)
        self.first_seq, self.batch = first_seq, batch


class _BoundedQueueHandler(logging.handlers.QueueHandler):
    """Never waits: a full queue drops the batch and counts its events."""

    def __init__(self, q: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(q)
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record  # formatted in the listener thread, not here

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += len(record.batch) if isinstance(record, _BatchRecord) else 1


class _BatchWriter(logging.Handler):
    """The listener's handler: a batch of events -> its lines -> the file, in one write."""

    def __init__(self, targets: list[logging.Handler], book: _Book, *, service: str,
                 json_lines: bool) -> None:
        super().__init__()
        self.targets, self.book = targets, book
        self.service, self.json_lines = service, json_lines
        self.lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        if not isinstance(record, _BatchRecord):
            return
        lines = []
        for offset, event in enumerate(record.batch):
            line = render_event(event, self.book, ts=record.created, seq=record.first_seq + offset,
                                service=self.service, json_lines=self.json_lines)
            if line is not None:
                lines.append(line)
        if not lines:
            return
        self.lines += len(lines)
        text = redact("\n".join(lines))  # one pass over the batch, not one per value
        out = logging.LogRecord(LOGGER, logging.INFO, "", 0, text, None, None)
        out.rendered = text  # the platform's formatter writes it as is
        for target in self.targets:
            target.handle(out)


class LifecycleLog:
    """The queue, its listener and the counters; `submit` is the journal's `on_events`."""

    def __init__(self, targets: list[logging.Handler], *, capacity: int, service: str,
                 json_lines: bool) -> None:
        self.queue: queue.Queue[logging.LogRecord] = queue.Queue(capacity)
        self.handler = _BoundedQueueHandler(self.queue)
        self.book = _Book(None)
        self.writer = _BatchWriter(targets, self.book, service=service, json_lines=json_lines)
        self.listener = logging.handlers.QueueListener(self.queue, self.writer)
        self.running = False

    @property
    def dropped(self) -> int:
        """Events whose lines were dropped because the queue was full."""
        return self.handler.dropped

    def watch(self, kernel_orders: Mapping[str, Order]) -> None:
        """Look up orders accepted before this process started in the kernel's book."""
        self.book.kernel_orders = kernel_orders

    def submit(self, first_seq: int, batch: list[Event]) -> None:
        """Hand a durable batch over (journal writer thread): never blocks, never raises."""
        self.handler.handle(_BatchRecord(first_seq, batch))

    def start(self) -> None:
        if not self.running:
            self.listener.start()
            self.running = True

    def stop(self) -> None:
        """Write what is queued, then stop the listener thread."""
        if self.running:
            self.listener.stop()
            self.running = False
