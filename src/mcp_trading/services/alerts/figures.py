"""The figures the alert rules watch (rules.METRICS), measured once per evaluation.

Host figures come from psutil; the store, bus and feed from the platform's cached health;
the reject rate from this process's order counters (in distributed mode the engine's
process counts orders, so the alerts service sees none: the figure stays unknown there);
/health latency from probing every service's `/health` over HTTP, as an operator would
(one client, kept across evaluations: a new one builds a TLS context, ~40 ms of the event
loop's CPU, and leaves a connection graph for the cyclic collector each time);
the backup age from the last verified backup (read at most once a minute).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING

import httpx
import psutil

from mcp_trading.services import registry

if TYPE_CHECKING:
    from mcp_trading.platform.platform import Platform

__all__ = ["Figures"]

_WINDOW_S = 300.0  # the reject rate's window
_MIN_ORDERS = 20  # fewer orders in the window: the rate says nothing yet
_PROBE_TIMEOUT_S = 5.0
_BACKUP_EVERY_S = 60.0


class Figures:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._orders: deque[tuple[float, float, float]] = deque()
        self._backup: tuple[float, float | None] = (-_BACKUP_EVERY_S, None)
        self._client: httpx.AsyncClient | None = None
        psutil.cpu_percent(interval=None)  # the first reading is meaningless: prime it

    async def collect(self) -> dict[str, float | None]:
        p = self.platform
        h = p.health
        figures: dict[str, float | None] = {
            "cpu_percent": psutil.cpu_percent(interval=None),
            "memory_percent": psutil.virtual_memory().percent,
            "disk_percent": _disk_percent(p),
            "store_down": 1.0 if (h.store_error is not None or not h.journal_ok) else 0.0,
            "bus_down": None if h.bus_ok is None else (0.0 if h.bus_ok else 1.0),
            "feed_age_s": h.feed_age_s,
            "order_reject_percent": self._reject_percent(time.monotonic()),
        }
        figures["health_latency_ms"] = await self._health_latency_ms()
        figures["backup_age_h"] = await self._backup_age_h(time.monotonic())
        return figures

    def _reject_percent(self, now: float) -> float | None:
        registry_ = self.platform.metrics.registry
        accepted = registry_.get_sample_value("mcp_trading_orders_total",
                                              {"outcome": "accepted"}) or 0.0
        rejected = registry_.get_sample_value("mcp_trading_orders_total",
                                              {"outcome": "rejected"}) or 0.0
        self._orders.append((now, accepted, rejected))
        while self._orders and now - self._orders[0][0] > _WINDOW_S:
            self._orders.popleft()
        _, acc0, rej0 = self._orders[0]
        acc, rej = accepted - acc0, rejected - rej0
        if acc + rej < _MIN_ORDERS:
            return None
        return 100.0 * rej / (acc + rej)

    async def _health_latency_ms(self) -> float | None:
        """The slowest answer of the services that answer (a timeout counts as its length;
        a service that refuses the connection is the health watcher's, not a latency)."""
        s = self.platform.settings
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=_PROBE_TIMEOUT_S)
        client = self._client
        results = await asyncio.gather(*(_probe(client, f"{s.service_url(name)}/health")
                                         for name in registry.names()))
        answered = [ms for ms in results if ms is not None]
        return max(answered) if answered else None

    async def close(self) -> None:
        """Close the probe's connections (the alerting task's stop)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _backup_age_h(self, now: float) -> float | None:
        last, age = self._backup
        if now - last < _BACKUP_EVERY_S:
            return age
        from mcp_trading.dataops.age import backup_check

        s = self.platform.settings
        try:
            check = await asyncio.to_thread(backup_check, s.resolved_backup_dir,
                                            s.backup_max_age_hours)
            age = check["age_h"]
        except OSError:
            age = None
        self._backup = (now, age)
        return age


async def _probe(client: httpx.AsyncClient, url: str) -> float | None:
    start = time.perf_counter()
    try:
        await client.get(url)
    except httpx.TimeoutException:
        return _PROBE_TIMEOUT_S * 1000
    except httpx.HTTPError:
        return None
    return (time.perf_counter() - start) * 1000


def _disk_percent(platform: Platform) -> float | None:
    try:
        return float(psutil.disk_usage(str(platform.settings.data_dir)).percent)
    except OSError:
        return None
