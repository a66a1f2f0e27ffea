"""The platform object: settings, the recovered kernel, the feed and everything around them.

One Platform per process, in one of three roles:

- embedded: every service face over one kernel, fed by the simulator in this process;
- engine (distributed): the kernel, the single writer; quotes arrive from the bus and every
  durable journal record is published to the bus;
- replica (distributed, every other service): a read-only copy of the kernel's state folded
  from the published events; the market-data replica also runs the feed and publishes it.

The kernel (or replica) is only ever touched from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import shutil
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

from mcp_trading.adapters.bus import EventBus
from mcp_trading.adapters.calendars import calendar_by_name
from mcp_trading.adapters.feeds.simulator import SimulatedFeed
from mcp_trading.adapters.feeds.universe import default_instruments
from mcp_trading.adapters.store import BackgroundProjector, Projector, open_store, upgrade
from mcp_trading.adapters.store.order_reads import OrderReader, request_of
from mcp_trading.adapters.store.projector_process import ProjectorProcess
from mcp_trading.clocks import WallClock
from mcp_trading.config import Settings
from mcp_trading.domain.errors import UnavailableError
from mcp_trading.domain.market import Quote
from mcp_trading.kernel.acktrace import AckTrace, current_request, dump_memory
from mcp_trading.kernel.dedupe import DAY_NS, DedupeIndex, pack, request_digest
from mcp_trading.kernel.journal import JournalError
from mcp_trading.kernel.ports import Clock, JournalStore
from mcp_trading.kernel.runtime import KernelRuntime, recover, tune_gc_for_kernel
from mcp_trading.platform.alert_center import AlertCenter, EmergencyLog, Severity
from mcp_trading.platform.metrics import Metrics
from mcp_trading.security.principal import Authenticates
from mcp_trading.services import registry
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.spec import Background, Distributed, ServiceSpec, load

if TYPE_CHECKING:  # distributed mode's parts are imported where its roles use them
    from mcp_trading.processes.distributed.publisher import EventPublisher
    from mcp_trading.processes.distributed.replica import ReplicaRuntime

__all__ = ["NOT_RUNNING", "Feed", "Health", "Platform", "PlatformUnavailableError", "Role",
           "Runtime"]

Role = Literal["embedded", "engine", "replica"]
NOT_RUNNING = "the platform is stopping or not started; retry once it is healthy"
Runtime: TypeAlias = "KernelRuntime | ReplicaRuntime"


class Feed(Protocol):
    """A quote source (the simulator by default; a replay for backtests)."""

    @property
    def name(self) -> str: ...

    def next_quotes(self, ts: int) -> list[Quote]:
        """The quotes due at `ts` (ns since the epoch); empty when none are."""
        ...

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


class PlatformUnavailableError(UnavailableError, RuntimeError):
    """The platform cannot take the command now (stopping, journal failed, timeout)."""


@dataclass(slots=True)
class Health:
    """Cached health, refreshed in the background so /health never waits on anything."""

    feed_status: str = "down"  # streaming | stale | down
    feed_age_s: float | None = None
    journal_ok: bool = True
    journal_error: str | None = None
    projection_ok: bool = True
    store_error: str | None = None  # the journal's database is away (retried, not failed)
    bus_ok: bool | None = None  # None: no bus (embedded)
    bus_error: str | None = None
    disk_free_mb: int | None = None
    disk_ok: bool = True
    checked_at: int = 0
    checks: dict[str, Any] = field(default_factory=dict)


class Platform:
    def __init__(self, settings: Settings, *, role: Role = "embedded", service: str | None = None,
                 bus: EventBus | None = None, quote_bus: EventBus | None = None,
                 store: JournalStore | None = None, feed: Feed | None = None,
                 clock: Clock | None = None) -> None:
        """Prefer `platform.bootstrap.bootstrap`, the one place that wires a platform."""
        if role != "embedded" and bus is None:
            raise ValueError(f"the {role} role needs an event bus (REDIS_URL)")
        if role != "embedded" and service is None:
            raise ValueError(f"the {role} role serves one service: name it")
        #: quotes are a cache (latest value wins, republished every tick): they may live
        #: under the cache prefix, which `mcp-trading cache clear` empties
        self.quote_bus = quote_bus or bus
        self.settings = settings
        self.role: Role = role
        self.service = service  # the one service this process serves (distributed)
        #: the services this process runs (their background tasks start with it)
        self.specs: tuple[ServiceSpec, ...] = (
            registry.specs() if service is None else (registry.get(service),))
        #: which services answer (set by the runner; the comprehensive check reads it)
        self.services_up: Callable[[], dict[str, bool]] = dict
        self.clock: Clock = clock or WallClock()
        self._store = store  # None: the store DATABASE_URL names
        self.bus = bus
        self.publisher: EventPublisher | None = None
        self._quotes_bus_error: BaseException | None = None
        self.started_at = time.time_ns()
        self.metrics = Metrics()
        self.alerts = AlertCenter(webhooks=settings.webhook_urls)
        self.emergency_log = EmergencyLog(settings.resolved_log_dir / "emergency.log")
        #: what the service classes receive; late-bound, as the runtime appears at open() (and
        #: a test may stand in for one of the platform's methods)
        self.core = ServiceCore(
            runtime=lambda: self.runtime, started_runtime=lambda: self.kernel_runtime,
            durable=lambda timeout: self.durable(timeout),  # noqa: PLW0108
            unavailable_reason=lambda: self.unavailable_reason(),  # noqa: PLW0108
            accepting=lambda: self.accepting, order_reads=lambda: self.order_reads,
            health=lambda: self.health, last_quote_ns=lambda: self.last_quote_ns,
            alerts=self.alerts, emergency_log=self.emergency_log, metrics=self.metrics,
            default_account=settings.default_account)
        self.instruments = default_instruments()
        self.calendar = calendar_by_name(settings.calendar)
        self.feed: Feed = feed or SimulatedFeed(list(self.instruments), seed=settings.feed_seed,
                                                interval_ms=settings.feed_interval_ms)
        self.health = Health()
        self.accepting = False  # False until started, and again once stop begins
        self.last_quote_ns = 0
        self.quote_listeners: list[asyncio.Queue[Quote]] = []
        self._tasks: list[asyncio.Task[None]] = []
        #: the process's own background coroutines (peer probes, alert relay); run from
        #: start(), beside the tasks the services' specs declare
        self.background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._services_work: list[Background] = []
        self.runtime: Runtime | None = None
        self.projector: BackgroundProjector | None = None
        self.projector_process: ProjectorProcess | None = None
        #: reads of closed orders the kernel released; None when nothing projects orders
        #: (`projection = off`), and then the kernel keeps every order (nothing is released)
        self.order_reads: OrderReader | None = None
        self.loop_lag_max = 0.0  # seconds, since start (also in /metrics)
        self._snapshot_task: asyncio.Task[bool] | None = None
        self.authenticator: Authenticates | None = None
        #: stage timing of acknowledgements, written to this file at stop (a debug aid for
        #: benchmarks/soak.py; off unless MCP_TRADING_ACK_TRACE names a file)
        self.ack_trace_file = os.environ.get("MCP_TRADING_ACK_TRACE") or None
        self.ack_trace: AckTrace | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    def open(self) -> None:
        """Recover the kernel (or the replica) from the journal; start projections.

        Embedded mode applies migrations; distributed processes require the schema at head
        (`mcp-trading db upgrade`), so no two processes race to migrate.
        """
        self._tune_malloc()
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        url = s.resolved_database_url
        if self.role == "replica":
            from mcp_trading.processes.distributed.replica import CONTROL_KINDS, open_replica

            self.runtime = open_replica(
                self._open_store(url), instruments=self.instruments, clock=self.clock,
                calendar=self.calendar, config=s.kernel_config(),
                kinds=CONTROL_KINDS if self.folds == "control" else None)
            report = self.runtime.report
            log.info("replica recovered: last seq %d (%d events replayed in %.3f s)",
                     report.last_seq, report.replayed, report.seconds)
            self._open_order_reads()
            tune_gc_for_kernel()  # a replica holds the same long-lived book as the kernel
            return
        reports = s.resolved_reports_url
        given = self._store is not None  # a store of the caller's: not ours to migrate
        if self.role == "embedded":
            if not given:
                upgrade(url)
            if reports != url and not (given and s.projection == "off"):
                upgrade(reports)
        interval = s.projection_interval_s
        store = self._open_store(url)
        if s.projection == "thread" and interval > 0:
            # its own reader of the journal: the kernel's store closes on its own schedule
            source = open_store(url) if reports != url else None
            self.projector = BackgroundProjector(Projector(reports, source=source),
                                                 interval=interval)
        elif s.projection == "process" and interval > 0:
            s.resolved_log_dir.mkdir(parents=True, exist_ok=True)
            self.projector_process = ProjectorProcess(
                reports, interval, str(s.resolved_log_dir / "projector.log"), journal_url=url)
            self.projector_process.start()
        if self.role == "engine":
            from mcp_trading.processes.distributed.publisher import EventPublisher

            assert self.bus is not None
            self.publisher = EventPublisher(self.bus)
        if self.ack_trace_file is not None:
            self.ack_trace = AckTrace()
            self.ack_trace.watch_gc()
        self.runtime = recover(store, instruments=self.instruments, clock=self.clock,
                               calendar=self.calendar, config=s.kernel_config(),
                               snapshot_every=s.snapshot_every,
                               on_commit=self.projector.notify if self.projector else None,
                               on_record=self.publisher.submit if self.publisher else None,
                               # distributed: a database restart is waited out, not fatal
                               journal_retry_s=0.1 if self.role == "engine" else None,
                               trace=self.ack_trace)
        report = self.runtime.report
        log.info("kernel recovered: last seq %d (snapshot %d, %d events replayed in %.3f s)",
                 report.last_seq, report.snapshot_seq, report.replayed, report.seconds)
        self._open_order_reads()
        tune_gc_for_kernel()

    def _open_store(self, url: str) -> JournalStore:
        store, self._store = self._store, None  # a given store serves one open()
        return store if store is not None else open_store(url)

    @property
    def folds(self) -> Distributed:
        """What this process does in distributed mode (its service's spec)."""
        return self.specs[0].distributed if self.role != "embedded" else "engine"

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

    def _open_order_reads(self) -> None:
        """Closed orders are read from the projections once the kernel releases them; release
        what the projections already hold now, before the GC freezes the recovered state."""
        s = self.settings
        if s.projection == "off" or s.projection_interval_s <= 0:
            return
        self.order_reads = OrderReader(s.resolved_reports_url)
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

    async def age_dedupe(self, now_ns: int | None = None) -> int:
        """Archive duplicate-check entries older than `dedupe_memory_days` behind a Bloom
        filter (their orders are in the projections); returns how many left memory."""
        runtime = self.kernel_runtime
        index = runtime.kernel.state.dedupe
        now = time.time_ns() if now_ns is None else now_ns
        if isinstance(runtime, KernelRuntime) and not runtime.snapshot_every:
            # no snapshots seal generations: seal and merge here (both off the loop's path)
            sealed = index.seal(now)
            index.swap(sealed, await asyncio.to_thread(DedupeIndex.compact, sealed))
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

    def release_closed(self, watermark: int, limit: int | None = None) -> int:
        """Drop closed orders the projections hold (up to `watermark`, at most `limit`)."""
        runtime = self.kernel_runtime
        released = runtime.kernel.state.release(min(watermark, runtime.journal.durable_seq),
                                                limit)
        state = runtime.kernel.state
        self.metrics.hot_orders.set(len(state.orders))
        self.metrics.dedupe_entries.set(len(state.dedupe))
        return released

    async def start(self) -> None:
        if self.runtime is None:
            self.open()
        self.accepting = True
        self._refresh_health()
        if self.ack_trace_file is not None:  # debug aid: SIGUSR1 dumps memory figures
            dumps = iter(range(1, 1000))
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGUSR1, lambda: dump_memory(f"{self.ack_trace_file}.mem{next(dumps)}"))
        tasks = [self._housekeeping(), self._watch_loop()]
        if self.order_reads is not None:
            tasks.append(self._release_loop())
        runtime = self.runtime
        if self.role == "embedded":
            tasks.append(self._pump_quotes())
        else:
            from mcp_trading.processes.distributed.quotes import follow_quotes

            assert self.bus is not None and self.quote_bus is not None
            assert self.service is not None and runtime is not None
            if not isinstance(runtime, KernelRuntime):  # a replica
                if self.folds in ("replica", "control"):
                    tasks.append(runtime.follow(self.bus, group=self.service,
                                                consumer=self.service))
                tasks.append(self._publish_feed() if self.folds == "feed"
                             else follow_quotes(self.quote_bus, self._replica_quotes,
                                                self._quotes_bus))
            else:
                tasks.append(follow_quotes(self.quote_bus, self._engine_quotes,
                                           self._quotes_bus))
        self._tasks = [asyncio.create_task(t) for t in tasks]
        self._tasks += [asyncio.create_task(self._supervised(factory)) for factory in self.background]
        # each service's declared background work, whatever face serves it
        for spec in self.specs:
            for task in spec.tasks:
                work: Background = load(task.factory)(self)
                self._services_work.append(work)
                self._tasks.append(asyncio.create_task(self._supervised(work.run),
                                                       name=f"{spec.name}:{task.name}"))

    async def stop(self) -> None:
        """Refuse new commands, let the journal flush, stop the background work."""
        self.accepting = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for work in self._services_work:
            await work.stop()
        self._services_work = []
        if self.runtime is not None:
            await asyncio.to_thread(self.runtime.journal.flush)
        if self.publisher is not None:  # what is durable reaches the bus before we go
            await asyncio.to_thread(self.publisher.close)
        # projections drain everything journaled, then the journal closes
        if self.projector is not None:
            await asyncio.to_thread(self.projector.stop)
        if self.projector_process is not None:
            await asyncio.to_thread(self.projector_process.stop)
        if self._snapshot_task is not None:
            with contextlib.suppress(Exception):
                await self._snapshot_task
        if self.runtime is not None:
            await asyncio.to_thread(self.runtime.close)
        if self.order_reads is not None:
            self.order_reads.close()
        if self.ack_trace is not None and self.ack_trace_file is not None:
            self.ack_trace.write(self.ack_trace_file)
        close = getattr(self.authenticator, "close", None)
        if close is not None:
            close()

    @property
    def kernel_runtime(self) -> Runtime:
        if self.runtime is None:
            raise PlatformUnavailableError("the platform is not started")
        return self.runtime

    # ---- acknowledgement ------------------------------------------------------------------
    async def durable(self, timeout: float = 5.0) -> None:
        """Wait until everything decided so far is in the journal (the acknowledgement)."""
        runtime = self.kernel_runtime
        timed = current_request.get() if self.ack_trace is not None else None
        try:
            async with asyncio.timeout(timeout):
                if timed is None:
                    await runtime.journal.durable(runtime.kernel.seq)
                else:
                    timed += (runtime.kernel.seq, time.perf_counter())
                    await runtime.journal.durable(runtime.kernel.seq)
                    timed.append(time.perf_counter())
        except JournalError as exc:
            self._journal_failed(exc)
            raise PlatformUnavailableError(
                "the journal cannot store events; the command was not acknowledged") from exc
        except TimeoutError:
            raise PlatformUnavailableError(
                f"the journal did not confirm within {timeout} s; the command may or may not "
                "have been recorded: query before retrying") from None

    def _journal_failed(self, exc: BaseException) -> None:
        if self.health.journal_ok:
            self.health.journal_ok = False
            self.health.journal_error = type(exc).__name__
            self.alerts.raise_alert("journal", f"journal write failed ({type(exc).__name__}); "
                                    "orders are refused", severity=Severity.CRITICAL,
                                    source="trading-engine")

    # ---- background -----------------------------------------------------------------------
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

    async def _pump_quotes(self) -> None:
        """Embedded: the simulator feeds the kernel directly."""
        kernel = self.kernel_runtime.kernel
        interval = self.settings.feed_interval_ms / 1000
        while True:
            quotes = self.feed.next_quotes(time.time_ns())
            if quotes and self.accepting:
                for quote in quotes:
                    kernel.on_quote(quote)
                    self._heard(quote)
                    await asyncio.sleep(0)  # let waiting requests in between quotes
                self.last_quote_ns = quotes[-1].ts
                self.metrics.quotes.inc(len(quotes))
            await asyncio.sleep(interval)

    def _heard(self, quote: Quote) -> None:
        for queue in self.quote_listeners:
            if queue.full():
                queue.get_nowait()  # latest value wins for slow consumers
            queue.put_nowait(quote)

    async def _publish_feed(self) -> None:
        """market-data (distributed): run the feed, publish it, keep the local view current."""
        from mcp_trading.processes.distributed.quotes import publish_quotes

        assert self.quote_bus is not None
        interval = self.settings.feed_interval_ms / 1000
        while True:
            quotes = self.feed.next_quotes(time.time_ns())
            if quotes and self.accepting:
                try:
                    await asyncio.to_thread(publish_quotes, self.quote_bus, quotes)
                    self._quotes_bus(None)
                except Exception as exc:  # the bus: health says so, the feed goes on locally
                    self._quotes_bus(exc)
                self._replica_quotes(quotes)
            await asyncio.sleep(interval)

    def _engine_quotes(self, quotes: list[Quote]) -> None:
        if not self.accepting:
            return
        kernel = self.kernel_runtime.kernel
        for quote in quotes:
            kernel.on_quote(quote)
            self._heard(quote)
        self.last_quote_ns = max(self.last_quote_ns, quotes[-1].ts)
        self.metrics.quotes.inc(len(quotes))

    def _replica_quotes(self, quotes: list[Quote]) -> None:
        from mcp_trading.processes.distributed.replica import apply_quote

        state = self.kernel_runtime.kernel.state
        marks = self.folds != "control"  # those hold no positions to re-mark
        for quote in quotes:
            if marks:
                apply_quote(state, quote)
            self._heard(quote)
        self.last_quote_ns = max(self.last_quote_ns, quotes[-1].ts)
        self.metrics.quotes.inc(len(quotes))

    def _quotes_bus(self, exc: BaseException | None) -> None:
        self._quotes_bus_error = exc

    def unavailable_reason(self) -> str | None:
        """Why new commands are refused right now (None: they are taken)."""
        if not self.accepting:
            return NOT_RUNNING
        runtime = self.runtime
        if isinstance(runtime, KernelRuntime) and runtime.journal.failing is not None:
            return ("the journal's database is unreachable; orders are refused until it is "
                    "back (nothing was placed)")
        if self.role == "engine" and self._bus_problem() is not None:
            return ("the event bus (Redis) is unreachable, so quotes and the other services' "
                    "views are stale; orders are refused until it is back (nothing was placed)")
        return None

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
                gc.freeze()
            self._refresh_health()

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

    def _bus_problem(self) -> str | None:
        runtime = self.runtime
        if runtime is not None and not isinstance(runtime, KernelRuntime) and not runtime.bus_ok:
            return f"events: {runtime.bus_error}"
        if self.publisher is not None and self.publisher.failing is not None:
            return f"publishing: {type(self.publisher.failing).__name__}"
        if self._quotes_bus_error is not None:
            return f"quotes: {self._quotes_bus_error}"
        return None
