"""A service's read-only copy of the kernel's state, kept current from the event stream.

In distributed mode only the trading engine writes. Every other service recovers the state
from the journal store (snapshot + journal, read-only) and then folds the events the engine
publishes, with the same `KernelState.apply` the engine uses — so its views (orders,
exposures, portfolio) are the engine's, a few milliseconds later. Quotes re-mark positions
here as in the engine, without matching.

The follower is idempotent by sequence number: an entry it already holds is skipped, a gap
(an entry lost, or published before this consumer existed) is filled from the store, and
when the bus is down it keeps converging by polling the store. Its consumer group is the
service's name, so a restarted service resumes from its last acknowledged entry.

A replica that fell behind across an archive run finds the events it needs next gone from
the hot journal (moved into archived segment files, which may be on another host). The
archive run only moves what a snapshot covers, so the replica reloads: the latest snapshot
plus the hot journal after it, checked to cover the gap, becomes its state (the quotes it
held are re-applied); a gap that no snapshot covers is logged and reported as a store error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import NoReturn

from mcp_trading.adapters.bus import BusEntry, BusError, EventBus
from mcp_trading.domain.errors import TradingError
from mcp_trading.domain.events import (
    EVENT_TYPES,
    AccountOpened,
    Event,
    LimitsSet,
    MaintenanceChanged,
    TradingDayStarted,
    TradingStateChanged,
)
from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.market import Quote
from mcp_trading.domain.sessions import SessionCalendar
from mcp_trading.kernel import codec
from mcp_trading.kernel.kernel import Kernel, KernelConfig
from mcp_trading.kernel.ports import Clock, JournalRecord, JournalStore
from mcp_trading.kernel.runtime import RecoveryReport, load_state
from mcp_trading.kernel.state import KernelState
from mcp_trading.processes.distributed.wire import EVENTS, decode_record

__all__ = ["CONTROL_KINDS", "ReadOnlyReplicaError", "ReplicaJournal", "ReplicaRuntime", "apply_quote",
           "open_replica"]

log = logging.getLogger("mcp_trading.replica")

_IDLE_POLL_S = 1.0  # how often an idle follower checks the store for events it missed
_BUS_RETRY_S = 1.0
_LINGER_S = 0.010  # after a busy read: let more commits arrive (bounded added lag)
_BUSY = 2  # entries in one read that mean the stream is busy

#: The control plane: accounts, trading states, limits, sessions, maintenance. A service that
#: reads nothing else (alerts) folds only these and skips order and fill events undecoded;
#: its orders, positions and cash stay as they were at start and must not be served.
CONTROL_KINDS = frozenset(kind for kind, cls in EVENT_TYPES.items() if cls in (
    AccountOpened, TradingStateChanged, LimitsSet, TradingDayStarted, MaintenanceChanged))


class ReadOnlyReplicaError(TradingError, RuntimeError):
    """A command reached a replica; commands go to the trading engine (a wiring bug)."""


def _refuse(_seq: int, _event: Event) -> NoReturn:
    raise ReadOnlyReplicaError("this service holds a read-only replica; commands are executed "
                               "by the trading engine")


class ReplicaJournal:
    """Stands where the engine's journal stands: everything a replica holds is durable."""

    error: BaseException | None = None
    batches = 0

    def __init__(self, state: KernelState, store: JournalStore) -> None:
        self._state = state
        self.store = store  # read-only here: order history, the limits audit

    @property
    def durable_seq(self) -> int:
        return self._state.seq

    def durable(self, seq: int) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        future.set_result(self._state.seq)
        return future

    def flush(self, timeout: float | None = None) -> int:
        return self._state.seq

    def close(self) -> None:
        return None


class ReplicaRuntime:
    """The replica's kernel (reads only), its follower, and the waiters for a sequence number."""

    def __init__(self, kernel: Kernel, store: JournalStore, report: RecoveryReport, *,
                 kinds: frozenset[int] | None = None,
                 reload: Callable[[], tuple[Kernel, RecoveryReport]] | None = None) -> None:
        self.kernel = kernel
        self._reload = reload  # a fresh kernel from the store's snapshot + journal
        # the event kinds folded (default: all); see CONTROL_KINDS
        self.kinds = frozenset(EVENT_TYPES) if kinds is None else kinds
        self.journal = ReplicaJournal(kernel.state, store)
        self.report = report
        self.store = store
        self.bus_ok = True
        self.bus_error: str | None = None
        self.store_error: str | None = None  # the journal's database, when it is away
        self._waiters: list[tuple[int, asyncio.Future[int]]] = []

    @property
    def seq(self) -> int:
        return self.kernel.state.seq

    def maybe_snapshot(self) -> bool:
        return False  # the engine takes snapshots

    def close(self) -> None:
        self.store.close()

    # ---- catching up ----------------------------------------------------------------------
    async def caught_up(self, seq: int, timeout: float) -> bool:
        """Wait until the replica holds event `seq` (read-your-writes after a forwarded
        command); False on timeout."""
        if self.seq >= seq:
            return True
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append((seq, future))
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not future]
        return True

    def apply_records(self, records: Iterable[JournalRecord]) -> int | None:
        """Fold the records' new events; returns the sequence number a gap starts after
        (the caller fills it from the store and calls again), else None."""
        state = self.kernel.state
        for seq, event in codec.events_of_kinds(records, state.seq, self.kinds):
            if seq != state.seq + 1:
                return state.seq
            if event is None:
                state.seq = seq  # an event of a kind this service does not hold
            else:
                state.apply(seq, event)
        self._wake()
        return None

    async def fill_from_store(self) -> None:
        """Apply every journaled event the replica does not hold yet."""
        records = await asyncio.to_thread(lambda: list(self.store.read(after_seq=self.seq)))
        self._store_state(None)
        if records and self.apply_records(records) is not None:
            # the first event the store holds (a group-commit record holds several)
            first, _ = next(codec.events_of_kinds(records[:1], 0, frozenset()))
            await self._past_archived(first)

    async def _past_archived(self, first_hot: int) -> None:
        """The store's journal starts at `first_hot`, after the next event this replica needs:
        an archive run moved the events between into segments. Take the snapshot covering
        them (and the hot journal after it) as the state."""
        if self._reload is None:
            return
        held = self.seq
        kernel, report = await asyncio.to_thread(self._reload)
        if report.snapshot_seq < first_hot - 1 or kernel.state.seq < self.seq:
            self._store_state(LookupError(
                f"events {held + 1}..{first_hot - 1} are neither in the journal nor in a "
                f"snapshot (latest {report.snapshot_seq})"))
            return
        for book in self.kernel.state.venue.books.values():
            if book.quote is not None and book.quote.symbol in kernel.state.instruments:
                apply_quote(kernel.state, book.quote)
        self.kernel = kernel
        self.journal._state = kernel.state  # the same object: others may hold it
        log.warning("replica was at seq %d, behind an archive run (journal now starts at %d): "
                    "reloaded from the snapshot at %d, now at seq %d", held, first_hot,
                    report.snapshot_seq, kernel.state.seq)
        self._wake()

    def _wake(self) -> None:
        if not self._waiters:
            return
        seq = self.seq
        for wanted, future in self._waiters:
            if wanted <= seq and not future.done():
                future.set_result(seq)

    async def follow(self, bus: EventBus, group: str, consumer: str) -> None:
        """Fold the event stream forever (a background task of the service).

        One thread hop per cycle: acknowledge what was applied, then read what is new. After
        a busy read (several entries) it lingers a moment, so under load one read carries many
        group commits; a lone entry is followed at once, so a quiet stream stays fresh.
        """
        last_poll = time.monotonic()

        def pull(done: list[str]) -> list[BusEntry]:
            if done:
                bus.ack(EVENTS, group, done)
            return bus.read_group(EVENTS, group, consumer, count=1000,
                                  block_ms=int(_IDLE_POLL_S * 1000))

        while True:
            done: list[str] = []
            try:
                await asyncio.to_thread(bus.ensure_group, EVENTS, group, start="$")
                while True:
                    entries = await asyncio.to_thread(pull, done)
                    self._bus_state(None)
                    done = [e.id for e in entries]
                    if entries:
                        records = [decode_record(e.payload) for e in entries]
                        if self.apply_records(records) is not None:
                            await self.fill_from_store()  # missed entries: the store has all
                            self.apply_records(records)
                        if len(entries) >= _BUSY:
                            await asyncio.sleep(_LINGER_S)
                    elif time.monotonic() - last_poll >= _IDLE_POLL_S:
                        last_poll = time.monotonic()
                        await self.fill_from_store()  # a lost publication still converges
            except BusError as exc:  # BusUnavailableError included: follow the store meanwhile
                self._bus_state(exc)
                await self._fill_quietly()
                await asyncio.sleep(_BUS_RETRY_S)
            except Exception as exc:  # the store (a database restart): wait it out, never die
                self._store_state(exc)
                await asyncio.sleep(_BUS_RETRY_S)

    async def _fill_quietly(self) -> None:
        try:
            await self.fill_from_store()
        except Exception as exc:  # both the bus and the store are away
            self._store_state(exc)

    def _store_state(self, exc: BaseException | None) -> None:
        if exc is None:
            if self.store_error is not None:
                log.warning("journal store reachable again")
            self.store_error = None
            return
        if self.store_error is None:
            log.warning("journal store unavailable (%s); retrying", exc if isinstance(
                exc, LookupError) else type(exc).__name__)
        self.store_error = type(exc).__name__

    def _bus_state(self, exc: BaseException | None) -> None:
        if exc is None:
            if not self.bus_ok:
                log.warning("event bus reachable again; following the stream")
            self.bus_ok, self.bus_error = True, None
            return
        if self.bus_ok:
            log.warning("event bus unavailable (%s); following the journal store instead",
                        type(exc).__name__)
        self.bus_ok, self.bus_error = False, str(exc)


def apply_quote(state: KernelState, quote: Quote) -> None:
    """A quote in a replica: the book's quote and every holder re-marked, no matching; the
    day's equity peak follows the marks as in the engine."""
    state.venue.book(quote.symbol).quote = quote
    holders = state.remark(quote.symbol, quote.mark)
    if holders:
        for account in holders:
            equity = account.cash + account.position_value
            if equity > account.day_peak_equity:
                account.day_peak_equity = equity
                account.refresh_floor()
    state.platform_day_peak = max(state.platform_day_peak, state.equity)


def open_replica(store: JournalStore, *, instruments: dict[str, Instrument], clock: Clock,
                 calendar: SessionCalendar, config: KernelConfig,
                 on_refused: Callable[[int, Event], NoReturn] = _refuse,
                 kinds: frozenset[int] | None = None) -> ReplicaRuntime:
    """Recover the state from the store (snapshot + journal after it), read-only; then fold
    only events of `kinds` (None: all)."""
    def reload() -> tuple[Kernel, RecoveryReport]:
        state, report = load_state(store, instruments, config)
        return Kernel(instruments=instruments, clock=clock, calendar=calendar,
                      journal=on_refused, config=config, state=state), report

    kernel, report = reload()
    return ReplicaRuntime(kernel, store, report, kinds=kinds, reload=reload)
