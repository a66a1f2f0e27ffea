"""The platform's upkeep, mixed into `Platform` (platform/platform.py).

Background work run from `Platform.start`: the supervisor that restarts a failed background
coroutine, the half-second housekeeping (the kernel's timer, snapshots off the loop, the
cached health), the event-loop lag probe, and the memory bounds: closed orders leave the
kernel once the projections hold them, old duplicate-check entries go behind a Bloom
filter, and glibc's malloc is tuned before the platform's threads start.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import shutil
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from mcp_trading.adapters.store.order_reads import OrderReader, request_of
from mcp_trading.kernel.dedupe import DAY_NS, DedupeIndex, pack, request_digest
from mcp_trading.kernel.runtime import KernelRuntime, freeze_survivors
from mcp_trading.platform.alert_center import Severity

if TYPE_CHECKING:
    from mcp_trading.adapters.bus import EventBus
    from mcp_trading.adapters.store import BackgroundProjector
    from mcp_trading.adapters.store.projector_process import ProjectorProcess
    from mcp_trading.config import Settings
    from mcp_trading.kernel.acktrace import AckTrace
    from mcp_trading.platform.alert_center import AlertCenter
    from mcp_trading.platform.metrics import Metrics
    from mcp_trading.platform.platform import Health, Role, Runtime
    from mcp_trading.processes.distributed.publisher import EventPublisher

__all__ = ["PlatformUpkeep"]

log = logging.getLogger("mcp_trading.platform")

_NS = 1_000_000_000
_RELEASE_EVERY_S = 1.0  # how often closed orders the projections hold leave the kernel
# closed orders released per slice of the event loop. Releasing a second's worth (~700 at the
# soak's 500 orders/s) in one callback held the loop 17-28 ms (a watchdog thread's stack
# samples during soak stalls, calib 1.2: state.release -> request_digest/pack); 100 is ~3 ms.
_RELEASE_SLICE = 100
_AGE_EVERY_S = 60.0  # how often duplicate-check entries past the memory window are archived
_LAG_TICK_S = 0.01  # the loop-lag probe's timer
_LAG_WINDOW_S = 5.0


class PlatformUpkeep:
    """The background upkeep of `Platform`; a mixin, never used alone."""

    if TYPE_CHECKING:  # what the upkeep uses of the Platform it is mixed into
        settings: Settings
        role: Role
        accepting: bool
        runtime: Runtime | None
        order_reads: OrderReader | None
        health: Health
        metrics: Metrics
        alerts: AlertCenter
        bus: EventBus | None
        publisher: EventPublisher | None
        projector: BackgroundProjector | None
        projector_process: ProjectorProcess | None
        last_quote_ns: int
        loop_lag_max: float
        ack_trace: AckTrace | None
        _snapshot_task: asyncio.Task[bool] | None
        _quotes_bus_error: BaseException | None

        @property
        def kernel_runtime(self) -> Runtime: ...
        def _journal_failed(self, exc: BaseException) -> None: ...

    # ---- background work ------------------------------------------------------------------
    async def _supervised(self, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a service's background coroutine; if it fails, alert and restart it."""
        while True:
            try:
                await factory()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("background task %s failed; restarting", factory)
                self.alerts.raise_alert("background", f"background task failed: {type(exc).__name__}",
                                        severity=Severity.WARNING, source="platform")
                await asyncio.sleep(1.0)

    async def _housekeeping(self) -> None:
        runtime = self.kernel_runtime
        while True:
            await asyncio.sleep(0.5)
            if self.accepting:
                if self.role != "replica":  # replicas hold what the engine decided
                    runtime.kernel.tick()
                    if (isinstance(runtime, KernelRuntime) and runtime.snapshot_due()
                            and (self._snapshot_task is None or self._snapshot_task.done())):
                        # encoded on a worker thread: the writer goes on meanwhile
                        self._snapshot_task = asyncio.create_task(
                            runtime.snapshot_off_loop(self.ack_trace))
                # what survived half a second is long-lived (orders, positions): exempt it
                # from the cyclic collector, so collections stay short (request latency)
                freeze_survivors()
            self._refresh_health()

    async def _watch_loop(self) -> None:
        """The engine's event-loop lag: how late a 10 ms timer fires (/metrics)."""
        loop = asyncio.get_running_loop()
        window_max, window_end = 0.0, loop.time() + _LAG_WINDOW_S
        trace = self.ack_trace
        cpu = (0.0, 0.0)
        while True:
            start = loop.time()
            if trace is not None:
                cpu = (time.thread_time(), time.process_time())
            await asyncio.sleep(_LAG_TICK_S)
            now = loop.time()
            lag = max(0.0, now - start - _LAG_TICK_S)
            if trace is not None and lag > 0.005:
                trace.lag(start + _LAG_TICK_S, now, time.thread_time() - cpu[0],
                          time.process_time() - cpu[1])
            window_max = max(window_max, lag)
            if lag > self.loop_lag_max:
                self.loop_lag_max = lag
                self.metrics.loop_lag_max.set(lag)
            if now >= window_end:
                self.metrics.loop_lag.set(window_max)
                window_max, window_end = 0.0, now + _LAG_WINDOW_S

    # ---- health ---------------------------------------------------------------------------
    def _refresh_health(self) -> None:
        h = self.health
        now = time.time_ns()
        s = self.settings
        if self.last_quote_ns:
            age = (now - self.last_quote_ns) / _NS
            h.feed_age_s = round(age, 3)
            h.feed_status = "streaming" if age <= s.feed_stale_s else "stale"
            self.metrics.feed_age.set(age)
        else:
            h.feed_status, h.feed_age_s = "down", None
        runtime = self.runtime
        if runtime is not None:
            error = runtime.journal.error
            if error is not None:
                self._journal_failed(error)
            if not isinstance(runtime, KernelRuntime):  # a replica
                h.store_error = runtime.store_error
            else:
                failing = runtime.journal.failing
                h.store_error = None if failing is None else type(failing).__name__
            self.metrics.journal_seq.set(runtime.journal.durable_seq)
            self.metrics.journal_commits.set(runtime.journal.batches)
            self.metrics.open_orders.set(sum(len(a.open_orders)
                                             for a in runtime.kernel.state.accounts.values()))
        if self.bus is not None:
            problem = self._bus_problem()
            h.bus_ok, h.bus_error = problem is None, problem
        h.projection_ok = self.projector is None or self.projector.error is None
        if self.projector_process is not None and self.accepting:
            h.projection_ok = self.projector_process.check() and h.projection_ok
        try:
            free = shutil.disk_usage(s.data_dir).free // (1024 * 1024)
            h.disk_free_mb, h.disk_ok = free, free >= s.min_free_disk_mb
        except OSError:
            h.disk_free_mb, h.disk_ok = None, False
        h.checked_at = now
        self._watch_backup_age()

    def _watch_backup_age(self) -> None:
        """One alert when the last verified backup gets too old (the engine's, not replicas')."""
        if self.role == "replica":
            return
        watch = getattr(self, "_backup_watch", None)
        if watch is None:
            from mcp_trading.dataops.age import BackupAgeWatch

            s = self.settings
            watch = self._backup_watch = BackupAgeWatch(s.resolved_backup_dir,
                                                        s.backup_max_age_hours)
        message = watch.poll()
        if message is not None:
            self.alerts.raise_alert("backup_age", message, severity=Severity.WARNING,
                                    source="platform")
        self._watch_certificate()

    def _watch_certificate(self) -> None:
        """One alert per certificate when it gets within MCP_TRADING_TLS_WARN_DAYS of expiry."""
        watch = getattr(self, "_cert_watch", None)
        if watch is None:
            from mcp_trading.security.cert_health import CertificateWatch

            watch = self._cert_watch = CertificateWatch(self.settings)
        message = watch.poll()
        if message is not None:
            self.alerts.raise_alert("certificate_expiry", message, severity=Severity.WARNING,
                                    source="platform")

    def _bus_problem(self) -> str | None:
        runtime = self.runtime
        if runtime is not None and not isinstance(runtime, KernelRuntime) and not runtime.bus_ok:
            return f"events: {runtime.bus_error}"
        if self.publisher is not None and self.publisher.failing is not None:
            return f"publishing: {type(self.publisher.failing).__name__}"
        if self._quotes_bus_error is not None:
            return f"quotes: {self._quotes_bus_error}"
        return None

    # ---- memory: closed orders, duplicate-check entries, malloc ---------------------------
    def _open_order_reads(self) -> None:
        """Closed orders are read from the projections once the kernel releases them; release
        what the projections already hold now, before the GC freezes the recovered state."""
        s = self.settings
        if s.projection == "off" or s.projection_interval_s <= 0:
            return
        self.order_reads = OrderReader(s.resolved_reports_url, archive_dir=s.data_dir / "archive")
        self.kernel_runtime.kernel.archive_lookup = self._archived_entry
        try:
            self.release_closed(self.order_reads.watermark())
        except Exception:  # a missing reports database only delays the release
            log.warning("projection watermark unreadable; closed orders stay in memory for now",
                        exc_info=True)

    def _archived_entry(self, account_id: str, client_order_id: str) -> bytes | None:
        """The duplicate-check entry of an order aged out of memory, from the projections
        (a synchronous primary-index read, asked only on an archive-filter hit)."""
        assert self.order_reads is not None
        row = self.order_reads.by_client_id(account_id, client_order_id)
        return None if row is None else pack(row["id"], request_digest(request_of(row)))

    def release_closed(self, watermark: int, limit: int | None = None) -> int:
        """Drop closed orders the projections hold (up to `watermark`, at most `limit`)."""
        runtime = self.kernel_runtime
        released = runtime.kernel.state.release(min(watermark, runtime.journal.durable_seq),
                                                limit)
        state = runtime.kernel.state
        if released and self._rolls():
            state.dedupe.roll(time.time_ns())  # at SEAL_AT entries: O(1)
        self.metrics.hot_orders.set(len(state.orders))
        self.metrics.dedupe_entries.set(len(state.dedupe))
        return released

    def _rolls(self) -> bool:
        """Whether generations are sealed here: no snapshot on a thread seals them (forked
        snapshots, or none), so they are sealed by size and at the end of each UTC day."""
        runtime = self.kernel_runtime
        return isinstance(runtime, KernelRuntime) and (runtime.forks or not runtime.snapshot_every)

    async def age_dedupe(self, now_ns: int | None = None) -> int:
        """Archive duplicate-check entries older than `dedupe_memory_days` behind a Bloom
        filter (their orders are in the projections); returns how many left memory."""
        runtime = self.kernel_runtime
        index = runtime.kernel.state.dedupe
        now = time.time_ns() if now_ns is None else now_ns
        if self._rolls():
            index.roll(now)
        cutoff = now - int(self.settings.dedupe_memory_days * DAY_NS)
        old = [g for g in index.sealed if g.sealed_at < cutoff]
        if not old:
            return 0
        bloom = await asyncio.to_thread(DedupeIndex.bloom_of, old)
        gone = index.expire(cutoff)
        if [id(g) for g in gone] != [id(g) for g in old]:  # merged meanwhile (rare)
            bloom = DedupeIndex.bloom_of(gone)
        index.archived.append(bloom)
        return sum(len(d) for g in gone for d in g.entries.values())

    async def _release_loop(self) -> None:
        """Drop closed orders the projections hold from the kernel's memory (kernel.dedupe)."""
        reader = self.order_reads
        assert reader is not None
        loop = asyncio.get_running_loop()
        next_aging = loop.time() + _AGE_EVERY_S
        while True:
            await asyncio.sleep(_RELEASE_EVERY_S)
            if self.role != "replica" and loop.time() >= next_aging:
                next_aging = loop.time() + _AGE_EVERY_S
                archived = await self.age_dedupe()
                if archived:
                    log.info("%d duplicate-check entries archived to the store", archived)
            try:
                watermark = await asyncio.to_thread(reader.watermark)
            except Exception:  # the reports database is away: closed orders wait in memory
                log.debug("projection watermark unreadable", exc_info=True)
                continue
            while self._release_slice(watermark) == _RELEASE_SLICE:
                await asyncio.sleep(0)  # the orders and acks waiting behind go first

    def _release_slice(self, watermark: int) -> int:
        if self.ack_trace is None:
            return self.release_closed(watermark, _RELEASE_SLICE)
        started = time.perf_counter()
        released = self.release_closed(watermark, _RELEASE_SLICE)
        self.ack_trace.mark("release", started)
        return released

    @staticmethod
    def _tune_malloc() -> None:
        """glibc: buffers of 1 MiB and more always get their own mapping, returned at free;
        one malloc arena for all threads. Called first in `open`, before our threads start.

        By default glibc raises its mmap threshold (up to 32 MiB) after the first large free,
        so a snapshot's transient buffers (the payload, the merged duplicate-check tables,
        growing with the entries) then come from the heap, whose high-water mark stays in
        RSS. Measured in one process (kernel, release every 600 orders, a snapshot every 20k
        events, 100k orders with client_order_ids): RSS +352 B per closed order by default,
        +177 B with the fixed threshold (tracemalloc: ~170 B live). Worker threads (snapshot
        encoding, journal, reads) each got an arena of their own, fragmented alike: the
        2-minute soak at 500 orders/s grew 870 B per closed order with the threshold alone,
        358 B with one arena as well (objects under 512 B come from pymalloc, under the GIL,
        so one arena adds little lock contention).
        """
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
            libc.mallopt(-8, 1)  # M_ARENA_MAX
        except (OSError, AttributeError):  # not glibc: nothing to tune
            pass
