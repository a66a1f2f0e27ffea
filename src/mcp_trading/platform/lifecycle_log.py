"""The order lifecycle and the platform's control changes as INFO lines, off the writer's path.

    journal writer thread   a batch is durable -> `submit(first_seq, record)`: one frame
                            holding the batch's encoded segment (the bytes the journal just
                            stored) written straight into the lifecycle writer's pipe
                            (non-blocking os.write, which releases the GIL; 1 MiB of pipe
                            for bursts); what a full pipe does not take waits in a bounded
                            queue (`log_queue` frames), beyond that it is dropped and its
                            events counted — the journal never waits
    flusher thread          wakes only when frames wait (writes them once the pipe has room)
                            and once a second to let the log file rotate by size or age
                            (internal rotation)
    lifecycle writer        a child process (platform/lifecycle_writer.py): decodes the
                            segments, renders one line per event of interest (JSON or
                            console), masks secrets, and appends them to the same log file,
                            following its renames (rotation) like WatchedFileHandler

Why a process: rendering and masking a line costs more CPU than the kernel's whole decision
for an order (measured on the shared 2-core box: ~75-100 us per line against ~20 us per
kernel submit), and in this process every microsecond of it would hold the GIL the event
loop serves requests with. Here the writer thread pays one frame and one pipe write per
group commit, whatever the batch's size, and no other thread is woken for it (a queue and a
listener thread cost a thread switch per commit, which the API benchmark measured).

Lines say what is durable: an accepted order is in the journal when its line is written.
Fills, cancels and replacements name only the order: its account, symbol, side and client
order id come from the accepted event seen before (or, for an order accepted before this
process started, from the kernel's book, sent to the writer once at start).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import select
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from mcp_trading.domain import events as ev
from mcp_trading.domain.events import Event
from mcp_trading.domain.orders import Order, OrderRequest
from mcp_trading.kernel.ports import JournalRecord

__all__ = ["FRAME", "LOGGER", "Book", "Known", "LifecycleLog", "open_orders_frame", "render_event"]

LOGGER = "mcp_trading.lifecycle"


class Known:
    """What a fill or cancel line needs to know about its order."""

    __slots__ = ("account", "attribution", "filled", "request")

    def __init__(self, account: str, request: OrderRequest, attribution: str | None) -> None:
        self.account, self.request, self.attribution = account, request, attribution
        self.filled = Decimal(0)


def _order_fields(order_id: str, known: Known | None) -> dict[str, Any]:
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


class Book:
    """The orders the lifecycle lines have seen accepted and not yet closed (the writer's)."""

    def __init__(self) -> None:
        self.open: dict[str, Known] = {}

    def get(self, order_id: str) -> Known | None:
        return self.open.get(order_id)

    def close(self, order_id: str) -> Known | None:
        return self.open.pop(order_id, None)


def _accepted(e: ev.OrderAccepted, book: Book) -> tuple[str, dict[str, Any]]:
    book.open[e.order_id] = Known(e.account_id, e.request, e.attribution)
    fields = {"order_id": e.order_id, "account": e.account_id, **_request_fields(e.request),
              "attribution": e.attribution}
    if e.replaces:
        fields["replaces"] = e.replaces
    return "order accepted", fields


def _rejected(e: ev.OrderRejected, _book: Book) -> tuple[str, dict[str, Any]]:
    return "order rejected", {"order_id": e.order_id, "account": e.account_id,
                              **_request_fields(e.request), "attribution": e.attribution,
                              "code": e.code, "reason": e.reason}


def _filled(e: ev.OrderFilled, book: Book) -> tuple[str, dict[str, Any]]:
    known = book.get(e.order_id)
    fields = {**_order_fields(e.order_id, known), "qty": str(e.qty), "price": str(e.price),
              "commission": str(e.commission)}
    if known is not None:
        known.filled += e.qty
        fields["filled_qty"] = str(known.filled)
        if known.filled >= known.request.qty:
            book.open.pop(e.order_id, None)
    return "order filled", fields


def _canceled(e: ev.OrderCanceled, book: Book) -> tuple[str, dict[str, Any]]:
    return "order canceled", {**_order_fields(e.order_id, book.close(e.order_id)),
                              "reason": e.reason}


def _expired(e: ev.OrderExpired, book: Book) -> tuple[str, dict[str, Any]]:
    return "order expired", _order_fields(e.order_id, book.close(e.order_id))


def _replaced(e: ev.OrderReplaced, book: Book) -> tuple[str, dict[str, Any]]:
    return "order replaced", {**_order_fields(e.order_id, book.close(e.order_id)),
                              "replaced_by": e.replaced_by}


def _triggered(e: ev.OrderTriggered, book: Book) -> tuple[str, dict[str, Any]]:
    return "order triggered", _order_fields(e.order_id, book.get(e.order_id))


def _state(e: ev.TradingStateChanged, _book: Book) -> tuple[str, dict[str, Any]]:
    word = {"halted": "trading halted", "halted_new_orders": "trading halted",
            "active": "trading resumed"}.get(e.state.value, f"trading {e.state.value}")
    return word, {"account": e.account_id or "platform", "state": e.state.value,
                  "reason": e.reason, "actor": e.actor}


def _limits(e: ev.LimitsSet, _book: Book) -> tuple[str, dict[str, Any]]:
    return "limits changed", {"account": e.account_id or "global", "limits": e.limits,
                              "actor": e.actor}


def _maintenance(e: ev.MaintenanceChanged, _book: Book) -> tuple[str, dict[str, Any]]:
    return ("maintenance on" if e.active else "maintenance off"), {"reason": e.reason,
                                                                   "actor": e.actor}


def _account(e: ev.AccountOpened, _book: Book) -> tuple[str, dict[str, Any]]:
    return "account opened", {"account": e.account_id, "cash": str(e.cash),
                              "currency": e.currency}


def _instance_started(e: ev.StrategyInstanceStarted, _book: Book) -> tuple[str, dict[str, Any]]:
    return "strategy started", {"instance_id": e.instance_id, "strategy": e.strategy,
                                "account": e.account_id, "symbols": list(e.symbols),
                                "actor": e.started_by}


def _instance_stopped(e: ev.StrategyInstanceStopped, _book: Book) -> tuple[str, dict[str, Any]]:
    return "strategy stopped", {"instance_id": e.instance_id, "reason": e.reason,
                                "actor": e.actor}


_RENDER: dict[type, Callable[[Any, Book], tuple[str, dict[str, Any]]]] = {
    ev.OrderAccepted: _accepted, ev.OrderRejected: _rejected, ev.OrderFilled: _filled,
    ev.OrderCanceled: _canceled, ev.OrderExpired: _expired, ev.OrderReplaced: _replaced,
    ev.OrderTriggered: _triggered, ev.TradingStateChanged: _state, ev.LimitsSet: _limits,
    ev.MaintenanceChanged: _maintenance, ev.AccountOpened: _account,
    ev.StrategyInstanceStarted: _instance_started,
    ev.StrategyInstanceStopped: _instance_stopped,
}


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1e6):06d}Z"


def render_event(event: Event, book: Book, *, ts: float, seq: int, service: str,
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


#: a frame on the writer's pipe: kind (b"S" a journal segment, b"O" the open orders as JSON),
#: when it became durable (epoch s: the lines' `ts`), payload length; then the payload
FRAME = struct.Struct("<cdI")
_RESPAWNS = 3  # a writer that keeps dying is given up on: its lines are counted as dropped
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_PIPE_BYTES = 1 << 20
log = logging.getLogger(__name__)


def open_orders_frame(orders: Mapping[str, Order]) -> bytes:
    """The kernel's working orders, for the writer's book (JSON; sent once, at start)."""
    rows = [{"order_id": o.id, "account": o.account_id, "attribution": o.attribution,
             "filled": str(o.filled_qty), "request": {
                 "symbol": o.request.symbol, "qty": str(o.request.qty),
                 "side": o.request.side.value, "type": o.request.type.value,
                 "time_in_force": o.request.time_in_force.value,
                 "client_order_id": o.request.client_order_id}}
            for o in list(orders.values()) if not o.is_terminal]
    return json.dumps(rows).encode()


class _PipeSender:
    """Frames to the writer process's pipe: written straight from the caller's thread
    (os.write on a non-blocking pipe releases the GIL; no thread is woken), the rest of a
    frame the full pipe did not take queued (at most `capacity` frames, then dropped and
    counted) and written by the flusher thread when the pipe has room again. The flusher
    also lets the log file rotate by size or age once a second (internal rotation)."""

    def __init__(self, args: list[str], rotating: logging.Handler | None, capacity: int) -> None:
        self.args, self.rotating, self.capacity = args, rotating, capacity
        self.proc: subprocess.Popen[bytes] | None = None
        self.fd = -1
        self.lost = 0  # events dropped: the queue was full, or the writer died
        self.respawns = 0
        #: the open-orders frame a restarted writer is told first (LifecycleLog.watch)
        self.greeting: Callable[[], bytes] | None = None
        #: frames not (wholly) written yet: (frame, bytes of it written, its events)
        self._pending: deque[tuple[bytes, int, int]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def spawn(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "mcp_trading.platform.lifecycle_writer",
                                      *self.args], stdin=subprocess.PIPE, close_fds=True)
        assert self.proc.stdin is not None
        self.fd = self.proc.stdin.fileno()
        os.set_blocking(self.fd, False)
        with contextlib.suppress(OSError):  # Linux: room for bursts (up to pipe-max-size)
            fcntl.fcntl(self.fd, _F_SETPIPE_SZ, _PIPE_BYTES)

    def start(self) -> None:
        self.spawn()
        self._stopping = False
        self._thread = threading.Thread(target=self._flusher, name="lifecycle-log", daemon=True)
        self._thread.start()
        self.offer(b"", 0)  # what was queued before the writer ran

    def offer(self, frame: bytes, events: int) -> None:
        """Queue one frame and write what the pipe takes now; never waits, never raises."""
        with self._lock:
            if frame:
                if len(self._pending) >= self.capacity:
                    self.lost += events
                    return
                self._pending.append((frame, 0, events))
            if self.proc is not None:
                self._drain()
            if self._pending:
                self._wake.set()

    def _drain(self) -> None:
        """Write queued frames until the pipe is full (call with the lock held)."""
        pending = self._pending
        while pending:
            frame, offset, events = pending[0]
            try:
                written = os.write(self.fd, memoryview(frame)[offset:])
            except BlockingIOError:
                return
            except OSError:  # the writer is gone: start it again, resend this frame whole
                pending[0] = (frame, 0, events)
                if not self._respawn():
                    self.lost += sum(e for _, _, e in pending)
                    pending.clear()
                    return
                continue
            pending[0] = (frame, offset + written, events)
            if offset + written == len(frame):
                pending.popleft()

    def _respawn(self) -> bool:
        if self.proc is None or self.respawns >= _RESPAWNS:
            self.proc = None
            return False
        code = self.proc.poll()
        self.respawns += 1
        log.warning("the lifecycle log writer exited (code %s); starting it again (%d of %d)",
                    code, self.respawns, _RESPAWNS)
        self.spawn()
        if self.greeting is not None:
            self._pending.appendleft((_frame(b"O", self.greeting()), 0, 0))
        return True

    def _flusher(self) -> None:
        checked = time.monotonic()
        while not self._stopping:
            if self._wake.wait(1.0):
                self._wake.clear()
                if self.fd >= 0 and self._pending:
                    with contextlib.suppress(OSError, ValueError):
                        select.select([], [self.fd], [], 1.0)
                    self.offer(b"", 0)
            now = time.monotonic()
            if self.rotating is not None and now - checked >= 1.0:
                checked = now
                _rotate_if_due(self.rotating)

    def finish(self, timeout: float = 10.0) -> None:
        """Write what is queued (waiting up to `timeout`), close the pipe; the writer
        writes what it holds and exits."""
        deadline = time.monotonic() + timeout
        while self._pending and self.proc is not None and time.monotonic() < deadline:
            self.offer(b"", 0)
            with contextlib.suppress(OSError, ValueError):
                select.select([], [self.fd], [], 0.1)
        self._stopping = True
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            self.lost += sum(e for _, _, e in self._pending)
            self._pending.clear()
            proc, self.proc, self.fd = self.proc, None, -1
        if proc is None or proc.stdin is None:
            return
        proc.stdin.close()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _frame(kind: bytes, payload: bytes) -> bytes:
    return FRAME.pack(kind, time.time(), len(payload)) + payload


def _rotate_if_due(handler: logging.Handler) -> None:
    should = getattr(handler, "shouldRollover", None)
    if should is None:
        return
    with handler.lock or threading.RLock():
        if should(None):
            handler.doRollover()  # type: ignore[attr-defined]


class LifecycleLog:
    """The writer process, its pipe and the counters (module docstring); `submit` is the
    journal's `on_durable`."""

    def __init__(self, path: Path, *, capacity: int, service: str, json_lines: bool,
                 rotating: logging.Handler | None = None) -> None:
        args = [str(path), service, "json" if json_lines else "console"]
        self.sender = _PipeSender(args, rotating, capacity)
        self.running = False

    @property
    def dropped(self) -> int:
        """Events whose lines were dropped: the queue was full, or the writer gone."""
        return self.sender.lost

    def watch(self, kernel_orders: Mapping[str, Order]) -> None:
        """Start (if not yet) and tell the writer the kernel's working orders, so a fill of
        an order accepted before this process started names its symbol and account."""
        self.start()
        self.sender.greeting = lambda: open_orders_frame(kernel_orders)
        self.sender.offer(_frame(b"O", open_orders_frame(kernel_orders)), 0)

    def submit(self, first_seq: int, record: JournalRecord) -> None:
        """Hand a durable batch over (journal writer thread): never blocks, never raises."""
        self.sender.offer(_frame(b"S", record.payload), record.seq - first_seq + 1)

    def start(self) -> None:
        if not self.running:
            self.sender.start()
            self.running = True

    def stop(self) -> None:
        """Send what is queued, let the writer write it and exit."""
        if self.running:
            self.sender.finish()
            self.running = False
