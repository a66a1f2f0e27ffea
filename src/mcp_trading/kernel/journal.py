"""Group commit: the kernel appends events without waiting; one writer thread commits them in
batches and tells waiters which sequence number is durable.

    kernel thread:  decide -> append(seq, event) -> ... -> caller waits for durable(seq)
    writer thread:  take everything appended so far -> encode -> store.append (one transaction)
                    -> durable_seq = last -> wake waiters (threads and asyncio futures)

By default a store error breaks the journal for good: every waiter and every later wait gets
JournalError, so nothing is acknowledged that is not on disk (fail closed).

With `retry_interval_s` set (distributed mode, where PostgreSQL may restart) a store error is
an outage instead, and the writer moves between three states:

    healthy   failing is None, error is None: batches commit as they come
    failing   failing holds the last store error: the writer keeps the batch it could not
              commit and retries it with exponential backoff; waiters stay pending (their own
              timeouts answer them) and events keep queueing behind it
    failed    error is set, for good: as in the default mode; reached from `failing` when
              `close()` runs out of time, or from anywhere on an error no retry can cure

    healthy --append raises--> failing --the batch commits--> healthy
    healthy/failing --incurable error, or close() times out--> failed

Before a retry the writer asks the store for `last_seq()`: a commit whose acknowledgement was
lost is already there, and appending it again would duplicate it. Incurable errors are those
that say the batch or the code is wrong, not the connection: ValueError (the store already
holds these seqs: another writer), RuntimeError (the store is closed), TypeError,
AttributeError, LookupError, and anything that is not an Exception.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable

from mcp_trading.domain.errors import TradingError
from mcp_trading.domain.events import Event
from mcp_trading.kernel import codec
from mcp_trading.kernel.acktrace import AckTrace
from mcp_trading.kernel.ports import JournalRecord, JournalStore, Snapshot

__all__ = ["GroupCommitJournal", "JournalError"]

log = logging.getLogger(__name__)

_INCURABLE = (ValueError, RuntimeError, TypeError, AttributeError, LookupError)


class JournalError(TradingError, RuntimeError):
    """The journal could not make events durable; the kernel must stop acknowledging."""


class GroupCommitJournal:
    """Commits appended events in batches on a writer thread; see the module docstring.

    retry_interval_s: None fails closed on the first store error; a number retries instead,
    waiting that long, then twice as long each time, up to retry_max_interval_s.
    """

    def __init__(self, store: JournalStore, *, max_batch: int = 10_000,
                 on_commit: Callable[[int], None] | None = None,
                 on_record: Callable[[JournalRecord], None] | None = None,
                 retry_interval_s: float | None = None,
                 retry_max_interval_s: float = 5.0, trace: AckTrace | None = None) -> None:
        if retry_interval_s is not None and not 0 < retry_interval_s <= retry_max_interval_s:
            raise ValueError(
                f"retry_interval_s was {retry_interval_s} with retry_max_interval_s "
                f"{retry_max_interval_s}; need 0 < retry_interval_s <= retry_max_interval_s "
                "(or retry_interval_s=None to fail closed)"
            )
        self.store = store
        self._max_batch = max_batch
        self._retry_interval = retry_interval_s
        self._retry_max_interval = retry_max_interval_s
        # events only: their sequence numbers are contiguous (append checks), so the writer
        # numbers a batch from the last seq it took, with no tuple per event to allocate
        self._queue: deque[Event] = deque()
        self._snapshots: deque[tuple[Snapshot, Callable[[], None] | None]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()  # cuts a retry backoff short when close() gives up
        self._cond = threading.Condition()
        self._durable = store.last_seq()
        self._writing = self._durable  # last seq of the batch being written
        self._appended = self._durable  # last seq appended
        self._error: BaseException | None = None
        self._failing: BaseException | None = None
        self._futures: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[int]]] = []
        self._on_commit = on_commit
        self._on_record = on_record
        self._record: JournalRecord | None = None  # the batch just written, for on_record
        #: called on the writer thread with (first seq, the encoded record) of each durable
        #: batch, after the waiters are woken: the lifecycle log's hand-over
        #: (platform/lifecycle_log.py); the bytes just stored, so it encodes nothing again
        self.on_durable: Callable[[int, JournalRecord], None] | None = None
        self._running = True
        self.batches = 0
        #: opt-in stage timing (kernel/acktrace.py); None costs one test per batch
        self.trace = trace
        self._appended_at = 0.0  # traced: when the batch being queued got its first event
        self._encoded_at = 0.0  # traced: when the batch being written was encoded
        if trace is not None:
            self.append = self._append_traced  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    # ---- kernel side ----------------------------------------------------------------------
    def append(self, seq: int, event: Event) -> None:
        """Queue `event` as number `seq`, which must follow the last one appended."""
        if seq != self._appended + 1:
            raise ValueError(f"journal append of seq {seq} after {self._appended}: sequence "
                             "numbers must be contiguous")
        self._appended = seq
        self._queue.append(event)
        if not self._wake.is_set():
            self._wake.set()

    def _append_traced(self, seq: int, event: Event) -> None:
        if not self._queue:
            self._appended_at = time.perf_counter()
        GroupCommitJournal.append(self, seq, event)

    def save_snapshot(self, snapshot: Snapshot, on_saved: Callable[[], None] | None = None
                      ) -> None:
        """Store a snapshot once every event up to its sequence number is durable; `on_saved`
        runs on the writer's thread once the store holds it (not if saving failed)."""
        self._snapshots.append((snapshot, on_saved))
        self._wake.set()

    # ---- waiting --------------------------------------------------------------------------
    @property
    def durable_seq(self) -> int:
        return self._durable

    @property
    def error(self) -> BaseException | None:
        """Why the journal failed for good; None while it can still make events durable."""
        return self._error

    @property
    def failing(self) -> BaseException | None:
        """The store error the writer is retrying past (retry mode); None when healthy."""
        return self._failing

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
        """Wait until everything appended so far is durable, including a batch in flight."""
        return self.wait_durable(self._appended, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Flush, stop the writer and close the store.

        In retry mode an outage that outlasts `timeout` s ends the wait: the journal fails for
        good (`error` is set, waiters get JournalError) and close returns without raising.
        """
        if self._running:
            if self._error is None:
                if self._retry_interval is None:
                    self.flush(timeout)
                else:
                    self._flush_or_give_up(timeout)
            self._running = False
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=10)
            self.store.close()

    def _flush_or_give_up(self, timeout: float) -> None:
        try:
            self.flush(timeout)
        except JournalError:
            pass  # failed for good meanwhile; `error` says why
        except TimeoutError as exc:
            cause = self._failing or exc
            log.error("journal closed with events after seq %d not durable (%s); they may or "
                      "may not be stored", self._durable, _describe(cause))
            self._fail(cause)

    # ---- writer thread --------------------------------------------------------------------
    def _run(self) -> None:
        queue = self._queue
        wake = self._wake
        trace = self.trace
        appended = picked = 0.0
        while (self._running or queue) and self._error is None:
            if not queue:
                # clear only when idle, so a busy writer costs the kernel no signalling
                wake.clear()
                if not queue and not self._snapshots:
                    wake.wait(0.05)
            while queue and self._error is None:
                if trace is not None:
                    appended, picked = self._appended_at, time.perf_counter()
                count = min(len(queue), self._max_batch)
                first = self._writing + 1
                batch = [queue.popleft() for _ in range(count)]
                self._writing = first + count - 1
                if not self._write(first, batch):
                    return
                self.batches += 1
                if trace is not None:
                    self._committed_traced(trace, first, appended, picked)
                else:
                    self._committed(self._writing)
                if self._on_record is not None and self._record is not None:
                    self._on_record(self._record)  # durable: safe to hand on (e.g. publish)
                if self.on_durable is not None and self._record is not None:
                    self._hand_on(first, self._record)
            # snapshots wait behind the batches, so an outage delays them and never reorders
            while self._snapshots and self._snapshots[0][0].seq <= self._durable:
                started = time.perf_counter()
                snapshot, on_saved = self._snapshots.popleft()
                try:
                    self.store.save_snapshot(snapshot)
                except Exception:  # a failed snapshot only costs restart time
                    log.warning("snapshot could not be saved", exc_info=True)
                else:
                    if on_saved is not None:
                        on_saved()
                if trace is not None:
                    trace.mark("snapshot-save", started)

    def _hand_on(self, first: int, record: JournalRecord) -> None:
        try:
            self.on_durable(first, record)  # type: ignore[misc]
        except Exception:  # a log hand-over must never stop the journal
            log.warning("on_durable failed for seq %d..", first, exc_info=True)

    def _write(self, first: int, batch: list[Event]) -> bool:
        """Make one batch (numbered from `first`) durable; False when the journal has failed
        for good."""
        try:
            record = self._record = codec.segment_of(first, batch)
            if self.trace is not None:
                self._encoded_at = time.perf_counter()
            self.store.append([record])
        except BaseException as exc:
            if self._retry_interval is None or not _curable(exc):
                self._fail(exc)  # any failure breaks the journal: fail closed
                return False
            return self._retry(record, exc, self._retry_interval)
        return True

    def _retry(self, record: JournalRecord, exc: BaseException, delay: float) -> bool:
        """Retry a batch the store refused until it is durable; False if the journal fails."""
        self._set_failing(exc)
        log.warning("journal store unavailable (%s); retrying, events wait until it is back",
                    _describe(exc))
        started, attempts = time.monotonic(), 0
        while True:
            if self._stop.wait(delay):  # close() gave up on the outage
                return False
            delay = min(delay * 2, self._retry_max_interval)
            attempts += 1
            try:
                # the failed attempt may have committed and lost only its acknowledgement
                if self.store.last_seq() < record.seq:
                    self.store.append([record])
                break
            except BaseException as error:
                if not _curable(error):
                    self._fail(error)
                    return False
                self._set_failing(error)
        self._failing = None
        log.info("journal store back after %.1f s and %d retries",
                 time.monotonic() - started, attempts)
        return True

    def _set_failing(self, exc: BaseException) -> None:
        with self._cond:
            if self._error is None:  # close() may have just given up: failed beats failing
                self._failing = exc

    def _committed_traced(self, trace: AckTrace, first: int, appended: float,
                          picked: float) -> None:
        stored = time.perf_counter()
        index = len(trace.batches)
        self._committed(self._writing, trace, index)
        trace.batch((first, self._writing, min(appended, picked), picked, self._encoded_at,
                     stored, time.perf_counter()))

    def _committed(self, seq: int, trace: AckTrace | None = None, index: int = 0) -> None:
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
                if trace is None:
                    loop.call_soon_threadsafe(_resolve_all, futures, seq)
                else:
                    loop.call_soon_threadsafe(_resolve_traced, futures, seq, trace, index)
        if self._on_commit is not None:
            self._on_commit(seq)

    def _fail(self, exc: BaseException) -> None:
        with self._cond:
            if self._error is None:  # the first error is the cause; later ones are its echo
                self._error = exc
            self._failing = None
            self._cond.notify_all()
            ready, self._futures = self._futures, []
        for _, loop, future in ready:
            loop.call_soon_threadsafe(_reject, future, JournalError(f"journal write failed: {exc}"))


def _curable(exc: BaseException) -> bool:
    """Whether retrying could help: the connection is at fault, not the batch or the code."""
    return isinstance(exc, Exception) and not isinstance(exc, _INCURABLE)


_CREDENTIALS = (
    (re.compile(r"(://[^:/@\s]*:)[^@\s]*@"), r"\1***@"),  # scheme://user:password@host
    (re.compile(r"(password\s*=\s*)\S+", re.IGNORECASE), r"\1***"),  # key=value DSNs
)


def _describe(exc: BaseException) -> str:
    """The error's type and first line, shortened and without credentials: fit for a log."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _resolve_all(futures: list[asyncio.Future[int]], seq: int) -> None:
    for future in futures:
        if not future.done():
            future.set_result(seq)


def _resolve_traced(futures: list[asyncio.Future[int]], seq: int, trace: AckTrace,
                    index: int) -> None:
    trace.resolve(index)
    _resolve_all(futures, seq)


def _reject(future: asyncio.Future[int], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
