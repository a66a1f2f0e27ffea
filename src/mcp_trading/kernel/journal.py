"""Group commit: the kernel appends events without waiting; one writer thread commits them in
batches and tells waiters which sequence number is durable.

    kernel thread:  decide -> append(seq, event) -> ... -> caller waits for durable(seq)
    writer thread:  take everything appended so far -> encode -> store.append (one transaction)
                    -> durable_seq = last -> wake waiters (threads and asyncio futures)

If the store fails, the journal is broken for good: every waiter and every later wait gets
JournalError, so nothing is acknowledged that is not on disk (fail closed).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable

from mcp_trading.domain.events import Event
from mcp_trading.kernel import codec
from mcp_trading.kernel.ports import JournalStore, Snapshot

__all__ = ["GroupCommitJournal", "JournalError"]

log = logging.getLogger(__name__)


class JournalError(RuntimeError):
    """The journal could not make events durable; the kernel must stop acknowledging."""


class GroupCommitJournal:
    def __init__(self, store: JournalStore, *, max_batch: int = 10_000,
                 on_commit: Callable[[int], None] | None = None) -> None:
        self.store = store
        self._max_batch = max_batch
        self._queue: deque[tuple[int, Event]] = deque()
        self._snapshots: deque[Snapshot] = deque()
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._durable = store.last_seq()
        self._error: BaseException | None = None
        self._futures: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[int]]] = []
        self._on_commit = on_commit
        self._running = True
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    # ---- kernel side ----------------------------------------------------------------------
    def append(self, seq: int, event: Event) -> None:
        self._queue.append((seq, event))
        if not self._wake.is_set():
            self._wake.set()

    def save_snapshot(self, snapshot: Snapshot) -> None:
        """Store a snapshot once every event up to its sequence number is durable."""
        self._snapshots.append(snapshot)
        self._wake.set()

    # ---- waiting --------------------------------------------------------------------------
    @property
    def durable_seq(self) -> int:
        return self._durable

    @property
    def error(self) -> BaseException | None:
        return self._error

    def wait_durable(self, seq: int, timeout: float | None = None) -> int:
        """Block until `seq` is durable; raise JournalError if it never will be."""
        with self._cond:
            ok = self._cond.wait_for(lambda: self._durable >= seq or self._error is not None, timeout)
        if self._error is not None:
            raise JournalError(f"journal write failed: {self._error}") from self._error
        if not ok:
            raise TimeoutError(f"event {seq} not durable after {timeout} s")
        return self._durable

    def durable(self, seq: int) -> asyncio.Future[int]:
        """An asyncio future resolved when `seq` is durable (for the service faces)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        with self._cond:
            if self._error is not None:
                future.set_exception(JournalError(f"journal write failed: {self._error}"))
            elif self._durable >= seq:
                future.set_result(self._durable)
            else:
                self._futures.append((seq, loop, future))
        return future

    def flush(self, timeout: float | None = 30.0) -> int:
        """Wait until everything appended so far is durable."""
        target = self._queue[-1][0] if self._queue else self._durable
        return self.wait_durable(target, timeout)

    def close(self) -> None:
        if self._running:
            if self._error is None:
                self.flush()
            self._running = False
            self._wake.set()
            self._thread.join(timeout=10)
            self.store.close()

    # ---- writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        queue = self._queue
        segment = codec.segment
        wake = self._wake
        while self._running or queue:
            if not queue:
                # clear only when idle, so a busy writer costs the kernel no signalling
                wake.clear()
                if not queue and not self._snapshots:
                    wake.wait(0.05)
            while queue and self._error is None:
                count = min(len(queue), self._max_batch)
                batch = [queue.popleft() for _ in range(count)]
                try:
                    self.store.append([segment(batch)])
                except BaseException as exc:  # any failure breaks the journal: fail closed
                    self._fail(exc)
                    return
                self.batches += 1
                self._committed(batch[-1][0])
            while self._snapshots and self._snapshots[0].seq <= self._durable:
                try:
                    self.store.save_snapshot(self._snapshots.popleft())
                except Exception:  # a failed snapshot only costs restart time
                    log.warning("snapshot could not be saved", exc_info=True)

    def _committed(self, seq: int) -> None:
        with self._cond:
            self._durable = seq
            self._cond.notify_all()
            if self._futures:
                ready = [f for f in self._futures if f[0] <= seq]
                self._futures = [f for f in self._futures if f[0] > seq]
            else:
                ready = []
        if ready:
            # one wake-up per event loop per commit, however many waiters it resolves
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[int]]] = {}
            for _, loop, future in ready:
                by_loop.setdefault(loop, []).append(future)
            for loop, futures in by_loop.items():
                loop.call_soon_threadsafe(_resolve_all, futures, seq)
        if self._on_commit is not None:
            self._on_commit(seq)

    def _fail(self, exc: BaseException) -> None:
        with self._cond:
            self._error = exc
            self._cond.notify_all()
            ready, self._futures = self._futures, []
        for _, loop, future in ready:
            loop.call_soon_threadsafe(_reject, future, JournalError(f"journal write failed: {exc}"))


def _resolve_all(futures: list[asyncio.Future[int]], seq: int) -> None:
    for future in futures:
        if not future.done():
            future.set_result(seq)


def _reject(future: asyncio.Future[int], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
