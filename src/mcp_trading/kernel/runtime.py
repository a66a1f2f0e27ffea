"""Wiring: recover a kernel from its store and run it with a group-commit journal."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from mcp_trading.domain.instruments import Instrument
from mcp_trading.domain.sessions import SessionCalendar
from mcp_trading.kernel import codec, forked, snapshot
from mcp_trading.kernel.acktrace import AckTrace
from mcp_trading.kernel.dedupe import DedupeIndex
from mcp_trading.kernel.journal import GroupCommitJournal
from mcp_trading.kernel.kernel import Kernel, KernelConfig
from mcp_trading.kernel.ports import Clock, JournalRecord, JournalStore
from mcp_trading.kernel.state import KernelState

SNAPSHOT_MODES = ("fork", "thread")
log = logging.getLogger(__name__)
_A = TypeVar("_A")
_R = TypeVar("_R")

__all__ = [
    "SNAPSHOT_MODES",
    "KernelRuntime",
    "RecoveryReport",
    "freeze_survivors",
    "load_state",
    "recover",
    "tune_gc_for_kernel",
]


def tune_gc_for_kernel() -> None:
    """Process-wide: collect the young generation less often, and exempt what exists now.

    The kernel keeps every working order in memory and creates a few objects per order; with the
    default thresholds the cyclic collector re-scans the long-lived book over and over (it cost
    ~5 µs per order in benchmarks/kernel.py). Call once, after recovery, in the kernel process.
    """
    gc.collect()
    gc.freeze()  # recovered state: never re-scanned
    gc.set_threshold(20_000, 10, 10)


def freeze_survivors() -> None:
    """Exempt what lives now from the cyclic collector, after collecting the young garbage.

    `gc.freeze()` moves every tracked object into the permanent generation, garbage too: a
    reference cycle that died since the last young collection (a finished request's objects,
    an HTTP client's connection graph) would never be freed. Collecting generations 0 and 1
    first costs what one automatic collection of them costs (only objects born since the
    last freeze), and what is frozen afterwards is only what is still reachable.
    """
    gc.collect(1)
    gc.freeze()


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    snapshot_seq: int  # 0 when no snapshot was used
    replayed: int  # events applied after the snapshot
    last_seq: int
    seconds: float


class KernelRuntime:
    """A recovered kernel, its journal, and the snapshot policy."""

    def __init__(self, kernel: Kernel, journal: GroupCommitJournal, report: RecoveryReport,
                 *, snapshot_every: int, snapshot_mode: str = "fork") -> None:
        if snapshot_mode not in SNAPSHOT_MODES:
            raise ValueError(f"snapshot_mode was {snapshot_mode!r}; use one of {SNAPSHOT_MODES}")
        self.kernel = kernel
        self.journal = journal
        self.report = report
        self.snapshot_every = snapshot_every
        #: fork: a child process encodes (kernel.forked); thread: a worker thread does
        self.forks = snapshot_mode == "fork" and forked.CAN_FORK
        self._snapshot_seq = report.snapshot_seq or report.last_seq

    def snapshot_due(self) -> bool:
        return bool(self.snapshot_every) and (
            self.kernel.seq - self._snapshot_seq >= self.snapshot_every)

    def maybe_snapshot(self) -> bool:
        """Take a snapshot when enough events have passed since the last one (blocking: the
        whole encode runs on the caller's thread; the platform uses `snapshot_off_loop`)."""
        if self.snapshot_due():
            sealed = list(self.kernel.state.dedupe.sealed)
            taken = snapshot.dump(self.kernel.state)
            self.journal.save_snapshot(taken, partial(snapshot.mark_stored, sealed, taken))
            self._snapshot_seq = self.kernel.seq
            return True
        return False

    async def snapshot_off_loop(self, trace: AckTrace | None = None) -> bool:
        """`maybe_snapshot` without stalling the writer: encoded by a forked child (or, in
        thread mode, captured here and encoded on a worker thread), then handed to the
        journal's writer thread."""
        if not self.snapshot_due():
            return False
        if self.forks:
            return await self._snapshot_forked(trace)
        state = self.kernel.state
        started = time.perf_counter()
        cap = snapshot.capture(state, self.kernel.clock.now_ns())
        if trace is not None:
            trace.mark("snapshot-capture", started)
        self._snapshot_seq = cap.state.seq
        taken = await asyncio.to_thread(_timed, trace, "snapshot-encode", snapshot.encode, cap)
        self.journal.save_snapshot(taken, partial(snapshot.mark_stored, cap.generations, taken))
        # small generations of duplicate-check entries merged (off the loop as well)
        merged = await asyncio.to_thread(_timed, trace, "dedupe-compact", DedupeIndex.compact,
                                         cap.generations)
        started = time.perf_counter()
        state.dedupe.swap(cap.generations, merged)
        if trace is not None:
            trace.mark("dedupe-swap", started)
        return True

    async def _snapshot_forked(self, trace: AckTrace | None) -> bool:
        started = time.perf_counter()
        job = forked.fork_snapshot(self.kernel.state)
        if trace is not None:
            trace.mark("snapshot-fork", started)
        previous, self._snapshot_seq = self._snapshot_seq, job.seq
        try:
            taken = await asyncio.to_thread(forked.collect, job)
        except (forked.SnapshotChildError, OSError) as exc:
            self._snapshot_seq = previous  # due again; the journal holds every event
            log.warning("snapshot skipped: %s", exc)
            return False
        self.journal.save_snapshot(taken, partial(snapshot.mark_stored, job.sealed, taken))
        return True

    def close(self) -> None:
        self.journal.close()


def _timed(trace: AckTrace | None, what: str, work: Callable[[_A], _R], arg: _A) -> _R:
    if trace is None:
        return work(arg)
    started = time.perf_counter()
    try:
        return work(arg)
    finally:
        trace.mark(what, started)


def load_state(store: JournalStore, instruments: dict[str, Instrument], config: KernelConfig,
               *, use_snapshot: bool = True) -> tuple[KernelState, RecoveryReport]:
    """The state the journal describes: the latest snapshot plus every event after it."""
    started = time.perf_counter()
    snap = store.latest_snapshot() if use_snapshot else None
    state = (snapshot.load(snap, instruments, config.slippage) if snap is not None
             else KernelState(instruments, config.slippage))
    replayed = 0
    for seq, event in codec.events(store.read(after_seq=state.seq), state.seq):
        state.apply(seq, event)
        replayed += 1
    snapshot.rebuild_books(state)
    return state, RecoveryReport(snap.seq if snap is not None else 0, replayed, state.seq,
                                 time.perf_counter() - started)


def recover(store: JournalStore, *, instruments: dict[str, Instrument], clock: Clock,
            calendar: SessionCalendar, config: KernelConfig | None = None,
            snapshot_every: int = 100_000, use_snapshot: bool = True,
            on_commit: Callable[[int], None] | None = None,
            on_record: Callable[[JournalRecord], None] | None = None,
            journal_retry_s: float | None = None,
            trace: AckTrace | None = None, snapshot_mode: str = "fork") -> KernelRuntime:
    """Rebuild the exact state from the latest snapshot plus the journal after it."""
    config = config or KernelConfig()
    state, report = load_state(store, instruments, config, use_snapshot=use_snapshot)
    journal = GroupCommitJournal(store, on_commit=on_commit, on_record=on_record,
                                 retry_interval_s=journal_retry_s, trace=trace)
    kernel = Kernel(instruments=instruments, clock=clock, calendar=calendar,
                    journal=journal.append, config=config, state=state)
    kernel.ensure_default_account()
    return KernelRuntime(kernel, journal, report, snapshot_every=snapshot_every,
                         snapshot_mode=snapshot_mode)
