"""The engine's side of the event stream: every durable journal record, published in order.

The journal writer calls `notify(seq)` after each group commit (it must not wait on Redis);
a publisher thread reads the new records back from the store with its own connection and
publishes them, one bus entry per record. Only durable events are ever published. While the
bus is down the publisher retries with backoff and reports `failing`; what it could not
publish, it publishes when the bus returns (consumers also fill gaps from the store, so a
publication lost in a crash still converges).
"""

from __future__ import annotations

import logging
import threading
import time

from mcp_trading.adapters.bus import EventBus
from mcp_trading.kernel.ports import JournalStore
from mcp_trading.platform.distributed.wire import EVENTS, encode_record

__all__ = ["EventPublisher"]

log = logging.getLogger("mcp_trading.publisher")

_MAX_RECORDS = 200  # per bus call


class EventPublisher:
    """Publishes journal records after `start_seq` as they become durable."""

    def __init__(self, bus: EventBus, store: JournalStore, *, start_seq: int,
                 retry_s: float = 0.2, retry_max_s: float = 5.0) -> None:
        self._bus = bus
        self._store = store
        self.published_seq = start_seq
        self._target = start_seq
        self._retry_s = retry_s
        self._retry_max_s = retry_max_s
        self._cond = threading.Condition()
        self._running = True
        self.failing: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        self._thread.start()

    def notify(self, seq: int) -> None:
        """Events up to `seq` are durable (called by the journal writer after a commit)."""
        with self._cond:
            if seq > self._target:
                self._target = seq
                self._cond.notify()

    def wait_published(self, seq: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.published_seq < seq:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Publish what is durable (for up to `timeout` s), then stop."""
        self.wait_published(self._target, timeout)
        with self._cond:
            self._running = False
            self._cond.notify_all()
        self._thread.join(timeout=timeout)
        self._store.close()

    def _run(self) -> None:
        delay = self._retry_s
        while True:
            with self._cond:
                while self._running and self.published_seq >= self._target:
                    self._cond.wait()
                if not self._running:
                    return
            try:
                self._publish_pending()
            except Exception as exc:  # the store or the bus: retry, never die
                if self.failing is None:
                    log.warning("cannot publish events (%s); retrying", type(exc).__name__)
                self.failing = exc
                time.sleep(delay)
                delay = min(delay * 2, self._retry_max_s)
                continue
            if self.failing is not None:
                log.warning("publishing events again")
            self.failing = None
            delay = self._retry_s

    def _publish_pending(self) -> None:
        records = list(self._store.read(after_seq=self.published_seq, limit=_MAX_RECORDS))
        if not records:  # notified before the store shows it (another connection): re-read
            time.sleep(0.001)
            return
        self._bus.publish(EVENTS, [encode_record(r) for r in records])
        with self._cond:
            self.published_seq = records[-1].seq
            self._cond.notify_all()
