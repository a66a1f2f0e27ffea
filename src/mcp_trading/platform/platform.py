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
import logging
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
from mcp_trading.adapters.store.order_reads import OrderReader
from mcp_trading.adapters.store.projector_process import ProjectorProcess
from mcp_trading.clocks import WallClock
from mcp_trading.config import Settings
from mcp_trading.domain.errors import UnavailableError
from mcp_trading.domain.market import Quote
from mcp_trading.kernel.acktrace import AckTrace, current_request, dump_memory
from mcp_trading.kernel.journal import JournalError
from mcp_trading.kernel.ports import Clock, JournalStore
from mcp_trading.kernel.runtime import KernelRuntime, recover, tune_gc_for_kernel
from mcp_trading.platform.alert_center import AlertCenter, EmergencyLog, Severity
from mcp_trading.platform.deadlines import Deadlines
from mcp_trading.platform.history import PlatformHistory
from mcp_trading.platform.intake import QuoteIntake
from mcp_trading.platform.logs import attach_lifecycle
from mcp_trading.platform.metrics import Metrics
from mcp_trading.platform.projector_main import projector_child
from mcp_trading.platform.service_work import ServiceWork
from mcp_trading.platform.upkeep import PlatformUpkeep
from mcp_trading.security.principal import Authenticates
from mcp_trading.services import registry
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.spec import Background, Distributed, ServiceSpec, TaskSpec

if TYPE_CHECKING:  # distributed mode's parts are imported where its roles use them
    from mcp_trading.adapters.history.contract import HistoryStore
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


class Platform(PlatformUpkeep, QuoteIntake, ServiceWork):
    def __init__(self, settings: Settings, *, role: Role = "embedded", service: str | None = None,
                 bus: EventBus | None = None, quote_bus: EventBus | None = None,
                 store: JournalStore | None = None, feed: Feed | None = None,
                 clock: Clock | None = None, history: HistoryStore | None = None) -> None:
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
        #: stored history bars (opened on first use; `history` given: that store)
        self.history = PlatformHistory(settings.resolved_history_url, store=history)
        self.alerts = AlertCenter(webhooks=settings.webhook_urls)
        self.emergency_log = EmergencyLog(settings.resolved_log_dir / "emergency.log")
        self.core = self._service_core()
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
        self._service_work: dict[str, list[tuple[Background, asyncio.Task[None]]]] = {}
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
        self.ack_trace_file = str(settings.ack_trace) if settings.ack_trace else None
        self.ack_trace: AckTrace | None = None
        self._deadlines: Deadlines | None = None  # the acknowledgements' timeouts (one loop)

    # ---- lifecycle ------------------------------------------------------------------------
    def open(self) -> None:
        """Recover the kernel (or the replica) from the journal; start projections. Embedded
        mode applies migrations; distributed processes require the schema at head (`mcp-trading
        db upgrade`), so no two processes race to migrate."""
        self._tune_malloc()
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        url = s.resolved_database_url
        if self.role == "replica":
            self._open_replica(url)
            return
        reports = s.resolved_reports_url
        given = self._store is not None  # a store of the caller's: not ours to migrate
        if self.role == "embedded":
            if not given:
                upgrade(url)
            if reports != url and not (given and s.projection == "off"):
                upgrade(reports)
        store = self._open_store(url)
        self._open_projection(url, reports)
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
                               snapshot_mode=s.snapshot_mode,
                               on_commit=self.projector.notify if self.projector else None,
                               on_record=self.publisher.submit if self.publisher else None,
                               # distributed: a database restart is waited out, not fatal
                               journal_retry_s=0.1 if self.role == "engine" else None,
                               trace=self.ack_trace)
        attach_lifecycle(self.runtime, own_store=not given)  # logged off the writer's path
        report = self.runtime.report
        log.info("kernel recovered: last seq %d (snapshot %d, %d events replayed in %.3f s)",
                 report.last_seq, report.snapshot_seq, report.replayed, report.seconds)
        self._open_order_reads()
        tune_gc_for_kernel()

    def _open_replica(self, url: str) -> None:
        from mcp_trading.processes.distributed.replica import CONTROL_KINDS, open_replica

        self.runtime = open_replica(
            self._open_store(url), instruments=self.instruments, clock=self.clock,
            calendar=self.calendar, config=self.settings.kernel_config(),
            kinds=CONTROL_KINDS if self.folds == "control" else None)
        report = self.runtime.report
        log.info("replica recovered: last seq %d (%d events replayed in %.3f s)",
                 report.last_seq, report.replayed, report.seconds)
        self._open_order_reads()
        tune_gc_for_kernel()  # a replica holds the same long-lived book as the kernel

    def _open_projection(self, url: str, reports: str) -> None:
        """The projector the settings ask for: a thread of this process, or its own process."""
        s = self.settings
        interval = s.projection_interval_s
        if s.projection == "thread" and interval > 0:
            # its own reader of the journal: the kernel's store closes on its own schedule
            source = open_store(url) if reports != url else None
            self.projector = BackgroundProjector(Projector(reports, source=source),
                                                 interval=interval)
        elif s.projection == "process" and interval > 0:
            self.projector_process = projector_child(s, reports, url)  # the file's login too
            self.projector_process.start()

    def _open_store(self, url: str) -> JournalStore:
        store, self._store = self._store, None  # a given store serves one open()
        return store if store is not None else open_store(url)

    @property
    def folds(self) -> Distributed:
        """What this process does in distributed mode (its service's spec)."""
        return self.specs[0].distributed if self.role != "embedded" else "engine"

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
        self._start_service_work()  # each service's declared work, whatever face serves it

    def _declared_tasks(self) -> list[tuple[ServiceSpec, TaskSpec]]:
        """The services' tasks this process runs: embedded, all of them; distributed, its
        service's own, except those `in_engine`, which the engine's process runs for every
        service."""
        if self.role == "embedded":
            return [(spec, task) for spec in self.specs for task in spec.tasks]
        mine = [(spec, task) for spec in self.specs for task in spec.tasks if not task.in_engine]
        if self.role == "engine":
            mine += [(spec, task) for spec in registry.specs() if spec not in self.specs
                     for task in spec.tasks if task.in_engine]
        return mine

    async def stop(self) -> None:
        """Refuse new commands, let the journal flush, stop the background work."""
        self.accepting = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._stop_service_work()
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
        await asyncio.to_thread(self.history.close)
        close = getattr(self.authenticator, "close", None)
        if close is not None:
            close()

    def _service_core(self) -> ServiceCore:
        """What the service classes receive; late-bound, as the runtime appears at open() (and
        a test may stand in for one of the platform's methods)."""
        return ServiceCore(
            runtime=lambda: self.runtime, started_runtime=lambda: self.kernel_runtime,
            durable=lambda timeout: self.durable(timeout),  # noqa: PLW0108
            unavailable_reason=lambda: self.unavailable_reason(),  # noqa: PLW0108
            accepting=lambda: self.accepting, order_reads=lambda: self.order_reads,
            health=lambda: self.health, last_quote_ns=lambda: self.last_quote_ns,
            alerts=self.alerts, emergency_log=self.emergency_log, metrics=self.metrics,
            default_account=self.settings.default_account, history=self.history)

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
            future = runtime.journal.durable(runtime.kernel.seq)
            if timed is not None:
                timed += (runtime.kernel.seq, time.perf_counter())
            if future.done() or self._deadline(future, timeout):
                await future
            else:
                async with asyncio.timeout(timeout):
                    await future
            if timed is not None:
                timed.append(time.perf_counter())
        except JournalError as exc:
            self._journal_failed(exc)
            raise PlatformUnavailableError(
                "the journal cannot store events; the command was not acknowledged") from exc
        except TimeoutError:
            raise PlatformUnavailableError(
                f"the journal did not confirm within {timeout} s; the command may or may not "
                "have been recorded: query before retrying") from None

    def _deadline(self, future: asyncio.Future[int], timeout: float) -> bool:
        """Time `future` out with the shared timer of this loop (deadlines.py); False when
        the caller must time it itself."""
        deadlines = self._deadlines
        loop = asyncio.get_running_loop()
        if deadlines is None or deadlines.loop is not loop:
            deadlines = self._deadlines = Deadlines(loop)
        return deadlines.add(future, timeout)

    def _journal_failed(self, exc: BaseException) -> None:
        if self.health.journal_ok:
            self.health.journal_ok = False
            self.health.journal_error = type(exc).__name__
            self.alerts.raise_alert("journal", f"journal write failed ({type(exc).__name__}); "
                                    "orders are refused", severity=Severity.CRITICAL,
                                    source="trading-engine")

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
