"""The engine's side of the event stream: every durable journal record, published in order.

The journal writer hands each record over right after its group commit (`submit`; it never
waits on Redis); a publisher thread publishes what has accumulated, one bus entry per record.
Only durable events are ever published. While the bus is down the publisher keeps the records
and retries with backoff, reporting `failing` (the engine refuses new orders meanwhile, so the
backlog stays small). Records it never got to publish — the engine was killed — are not lost
to anyone: consumers fill any gap from the journal store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from mcp_trading.adapters.bus import EventBus
from mcp_trading.kernel.ports import JournalRecord
from mcp_trading.processes.distributed.wire import EVENTS, encode_record

__all__ = ["EventPublisher"]

log = logging.getLogger("mcp_trading.publisher")

_MAX_RECORDS = 200  # per bus call
_LINGER_S = 0.002  # after waking for a lone record (bounded added lag)


class EventPublisher:
    """Publishes journal records, in the order they are submitted, from its own thread."""

    def __init__(self, bus: EventBus, *, retry_s: float = 0.2, retry_max_s: float = 5.0) -> None:
        self._bus = bus
        self._pending: deque[JournalRecord] = deque()
        self.published_seq = 0
        self._retry_s = retry_s
        self._retry_max_s = retry_max_s
        self._cond = threading.Condition()
        self._running = True
        self.failing: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self._thread.start()

    def submit(self, record: JournalRecord) -> None:
        """A durable record to publish (called by the journal writer after each commit)."""
        with self._cond:
            self._pending.append(record)
            self._cond.notify()

    def wait_published(self, timeout: float) -> bool:
        """Wait until everything submitted so far is published; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Publish what was submitted (for up to `timeout` s), then stop."""
        self.wait_published(timeout)
        with self._cond:
            self._running = False
            self._cond.notify_all()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        delay = self._retry_s
        while True:
            with self._cond:
                while self._running and not self._pending:
                    self._cond.wait()
                if not self._running:
                    return
                lone = len(self._pending) == 1
            if lone:
                # under load the next commits are a moment away: one bus call then carries
                # them all (a call costs the engine's GIL far more than an entry does)
                time.sleep(_LINGER_S)
            with self._cond:
                batch = [self._pending[i] for i in range(min(len(self._pending), _MAX_RECORDS))]
            try:
                self._bus.publish(EVENTS, [encode_record(r) for r in batch])
            except Exception as exc:  # the bus: keep the records, retry, never die
                if self.failing is None:
                    log.warning("cannot publish events (%s); retrying", type(exc).__name__)
                self.failing = exc
                time.sleep(delay)
                delay = min(delay * 2, self._retry_max_s)
                continue
            with self._cond:
                for _ in batch:
                    self._pending.popleft()
                self.published_seq = batch[-1].seq
                self._cond.notify_all()
            if self.failing is not None:
                log.warning("publishing events again")
            self.failing = None
            delay = self._retry_s
