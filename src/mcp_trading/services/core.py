"""What a service class receives: the narrow parts of the platform it uses, nothing else.

    kernel_runtime / kernel   the process's kernel (or its read-only replica); before start
                              PlatformUnavailableError
    durable()                 wait until what was decided is journaled (the acknowledgement)
    unavailable_reason()      why commands are refused now (None: taken); `accepting`
    order_reads               reads of closed orders from the projections (None: off)
    health, last_quote_ns     the platform's cached health and newest quote time (read views)
    alerts, emergency_log,    where a command leaves its trace
    metrics
    default_account           the account a request names by default
    history                   the platform's history bar store (reads off the event loop)

The composition root builds one per platform (`Platform.core`); a service never sees the
settings, the feed, the bus, the runners or the faces.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from mcp_trading.adapters.store.order_reads import OrderReader
    from mcp_trading.kernel.kernel import Kernel
    from mcp_trading.kernel.runtime import KernelRuntime
    from mcp_trading.platform.alert_center import AlertCenter, EmergencyLog
    from mcp_trading.platform.history import PlatformHistory
    from mcp_trading.platform.metrics import Metrics
    from mcp_trading.platform.platform import Health
    from mcp_trading.processes.distributed.replica import ReplicaRuntime

__all__ = ["ServiceCore"]

Runtime: TypeAlias = "KernelRuntime | ReplicaRuntime"


class ServiceCore:
    __slots__ = ("_accepting", "_durable", "_health", "_last_quote", "_order_reads", "_runtime",
                 "_started", "_unavailable", "alerts", "default_account", "emergency_log",
                 "history", "metrics")

    def __init__(self, *, runtime: Callable[[], Runtime | None],
                 started_runtime: Callable[[], Runtime],
                 durable: Callable[[float], Awaitable[None]],
                 unavailable_reason: Callable[[], str | None], accepting: Callable[[], bool],
                 order_reads: Callable[[], OrderReader | None], health: Callable[[], Health],
                 last_quote_ns: Callable[[], int], alerts: AlertCenter,
                 emergency_log: EmergencyLog, metrics: Metrics, default_account: str,
                 history: PlatformHistory) -> None:
        self._runtime = runtime
        self._started = started_runtime
        self._durable = durable
        self._unavailable = unavailable_reason
        self._accepting = accepting
        self._order_reads = order_reads
        self._health = health
        self._last_quote = last_quote_ns
        self.alerts = alerts
        self.emergency_log = emergency_log
        self.metrics = metrics
        self.default_account = default_account
        self.history = history

    @property
    def runtime(self) -> Runtime | None:
        """The kernel's runtime, None before the platform opened."""
        return self._runtime()

    @property
    def kernel_runtime(self) -> Runtime:
        """The kernel's runtime; PlatformUnavailableError before the platform opened."""
        return self._started()

    @property
    def kernel(self) -> Kernel:
        return self._started().kernel

    def durable(self, timeout: float = 5.0) -> Awaitable[None]:
        return self._durable(timeout)  # the platform's coroutine itself: no extra frame

    def unavailable_reason(self) -> str | None:
        return self._unavailable()

    @property
    def accepting(self) -> bool:
        return self._accepting()

    @property
    def order_reads(self) -> OrderReader | None:
        return self._order_reads()

    @property
    def health(self) -> Health:
        return self._health()

    @property
    def last_quote_ns(self) -> int:
        return self._last_quote()
