"""providers :8093 — the providers in use, their status, circuits and quotas; failover.

The registry (`registry.py`) keeps each provider's score, circuit and on/off state; the
failover chains (`failover.py`) pick the provider per data kind; `history.py` stores what a
provider fetched so a stored range is never fetched twice. This module is the service over
them: the GET /providers view, enable/disable, the health rule, the poller, and the wiring
from settings (`for_platform`).

Health counts only the live feed: the active providers that serve quotes. A provider that
serves only history (daily, intraday) never makes the service degraded or down, so it can
never stand between an operator and a resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from mcp_trading.adapters.history.contract import HistoryStore
from mcp_trading.adapters.providers.base import DATA_KINDS, QUOTES, Outcome, Provider
from mcp_trading.adapters.providers.files import FilesProvider
from mcp_trading.clocks import WallClock
from mcp_trading.domain.errors import ConflictError
from mcp_trading.platform.alert_center import Severity
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.providers.failover import Failover, Switch
from mcp_trading.services.providers.fetch import fetch_history, parse_fetch
from mcp_trading.services.providers.files_watch import watch_files
from mcp_trading.services.providers.history import HistoryFetcher
from mcp_trading.services.providers.live import (
    ReplayProvider,
    SimulatorProvider,
    live_feed_provider,
)
from mcp_trading.services.providers.registry import ProviderRegistry, ProviderStatus
from mcp_trading.services.providers.replay_control import ReplayControls
from mcp_trading.services.providers.setup import chains_of, history_providers
from mcp_trading.services.views import iso

__all__ = [
    "STATUS_TO_HEALTH",
    "Outcome",
    "Provider",
    "ProviderRegistry",
    "ProviderStatus",
    "ProvidersService",
    "ReplayProvider",
    "SimulatorProvider",
    "background",
    "build_providers",
]

log = logging.getLogger(__name__)

#: providers_status -> the service's overall status.
STATUS_TO_HEALTH = {"ok": "healthy", "degraded": "degraded", "down": "down"}


def build_providers(platform: Platform, registry: ProviderRegistry) -> dict[str, list[str]]:
    """Register the providers the settings configure; the chains, per data kind."""
    settings = platform.settings
    chains = chains_of(settings)
    registry.register(live_feed_provider(platform))
    for provider in history_providers(settings, clock=registry.clock,
                                      store=platform.history.store, chains=chains):
        registry.register(provider)
    for kind, names in chains.items():
        for name in names:
            if name not in registry.names():
                log.warning("providers: MCP_TRADING_PROVIDER_CHAIN_%s names %r, which is not "
                            "configured (known: %s); it is skipped", kind.upper(), name,
                            ", ".join(registry.names()))
    return chains


_services: weakref.WeakKeyDictionary[Platform, ProvidersService] = weakref.WeakKeyDictionary()


class ProvidersService:
    def __init__(self, core: ServiceCore, registry: ProviderRegistry, *,
                 poll_interval_s: float = 1.0, clock: Any = None,
                 chains: dict[str, list[str]] | None = None,
                 history: HistoryStore | Callable[[], HistoryStore] | None = None,
                 quote_max_age_s: float = 900.0, replay: ReplayControls | None = None) -> None:
        self.core = core
        self.clock = clock or registry.clock or WallClock()
        self.registry = registry
        self.poll_interval_s = poll_interval_s
        self.failover = Failover(registry, chains or {QUOTES: registry.names()},
                                 on_switch=self._on_switch, quote_max_age_s=quote_max_age_s)
        self.history = None if history is None else HistoryFetcher(self.failover, history)
        self.replay = replay or ReplayControls(None, distributed=False)
        self._active: asyncio.Task[None] | None = None

    @classmethod
    def for_platform(cls, platform: Platform) -> ProvidersService:
        """The one service of this platform (REST, MCP and its task share it): the providers
        the settings configure, the simulator polled no faster than the feed quotes (or a
        healthy feed would look like failures)."""
        svc = _services.get(platform)
        if svc is None:
            s = platform.settings
            registry = ProviderRegistry(failure_threshold=s.provider_failure_threshold,
                                        cool_down_s=s.provider_cool_down_s)
            chains = build_providers(platform, registry)
            svc = _services[platform] = cls(
                platform.core, registry, chains=chains,
                poll_interval_s=max(1.0, 2 * s.feed_interval_ms / 1000),
                quote_max_age_s=s.provider_quote_max_age_s, history=platform.history.store,
                replay=ReplayControls(platform.feed, distributed=platform.role != "embedded"))
        return svc

    # ---- reads ----------------------------------------------------------------------------
    def providers(self, principal: Principal | None) -> dict[str, Any]:
        require(principal, Role.VIEWER)
        now = self.clock.now_ns()
        failover = self.failover
        return {"active_providers": self.registry.active(),
                "live_providers": self.registry.live(),
                "providers": [s.to_wire() for s in self.registry.statuses(now)],
                "chains": {kind: failover.chains[kind] for kind in DATA_KINDS},
                "serving": dict(failover.serving),
                "switches": [s.to_wire() for s in reversed(failover.switches)],
                "checked_at": iso(now)}

    def providers_status(self) -> str:
        """Of the live feed only: ok when every active quote provider is ok, down when none
        is up, else degraded."""
        now = self.clock.now_ns()
        states = [s.status for s in self.registry.statuses(now) if s.active and s.live]
        if not states or all(s == "down" for s in states):
            return "down"
        return "ok" if all(s == "ok" for s in states) else "degraded"

    def health(self) -> dict[str, Any]:
        status = self.providers_status()
        return {"status": STATUS_TO_HEALTH[status], "providers_status": status,
                "active_providers": self.registry.active(),
                "live_providers": self.registry.live(), "polling": self._active is not None}

    # ---- commands -------------------------------------------------------------------------
    def enable(self, principal: Principal | None, name: str) -> dict[str, Any]:
        """Operators: put a provider back into its chains."""
        caller = require(principal, Role.OPERATOR)
        before = self.registry.set_active(name, True)
        if not before:
            self._record("provider_enabled", f"provider {name} enabled by {caller.actor}", name)
        return self._one(name, changed=not before)

    def disable(self, principal: Principal | None, name: str) -> dict[str, Any]:
        """Operators: take a provider out of every chain. The last live quote provider stays
        while trading accepts new orders (halt first)."""
        caller = require(principal, Role.OPERATOR)
        reg = self.registry
        if reg.is_active(name) and reg.live() == [name] and self._trading():
            raise ConflictError(
                f"{name} is the last live quote provider and trading is active: disabling it "
                "would leave the venue without quotes; enable another quote provider or halt "
                "trading first", code="LAST_LIVE_PROVIDER", field="name")
        before = reg.set_active(name, False)
        if before:
            self._record("provider_disabled", f"provider {name} disabled by {caller.actor}",
                         name)
        return self._one(name, changed=before)

    async def fetch(self, principal: Principal | None, symbol: str, *,
                    timeframe: str | None = None, start: str | None = None,
                    end: str | None = None) -> dict[str, Any]:
        """Operators: fetch history the store lacks from the chain, store it (see fetch.py)."""
        require(principal, Role.OPERATOR)
        request = parse_fetch(symbol, timeframe=timeframe, start=start, end=end)
        return await fetch_history(self.history, request)

    def replay_status(self, principal: Principal | None) -> dict[str, Any]:
        """Operators: the replay's state, time, speed, symbols, sources, range, bars left."""
        require(principal, Role.OPERATOR)
        return self.replay.status()

    def replay_control(self, principal: Principal | None, action: str, *, n: int | None = None,
                       day: str | None = None) -> dict[str, Any]:
        """Operators: step, pause, resume or seek the replay; its status after."""
        caller = require(principal, Role.OPERATOR)
        out = self.replay.control(action, n=n, day=day)
        log.info("providers: replay %s by %s (now %s at %s)", action, caller.actor,
                 out["state"], out["replay_time"])
        return out

    def _trading(self) -> bool:
        runtime = self.core.runtime
        return runtime is not None and runtime.kernel.state.platform_state.accepts_new_orders

    def _one(self, name: str, *, changed: bool) -> dict[str, Any]:
        return {"provider": self.registry.status(name, self.clock.now_ns()).to_wire(),
                "changed": changed, "active_providers": self.registry.active()}

    def _record(self, kind: str, message: str, name: str) -> None:
        log.warning("providers: %s", message)
        self.core.alerts.raise_alert(kind, message, severity=Severity.INFO, source="providers",
                                     details={"provider": name})

    def _on_switch(self, switch: Switch) -> None:
        self.core.alerts.raise_alert(
            "provider_failover", f"{switch.kind} now served by {switch.current} instead of "
            f"{switch.previous}: {switch.reason}"[:500], severity=Severity.WARNING,
            source="providers", details={"kind": switch.kind, "from": switch.previous,
                                         "to": switch.current})

    # ---- the poller -----------------------------------------------------------------------
    async def run(self) -> None:
        """Poll the providers until cancelled; a second concurrent run returns at once."""
        if self._active is not None:
            return
        self._active = asyncio.current_task()
        watchers = [asyncio.create_task(watch_files(p, self.registry, self.core.alerts))
                    for p in self._files()]
        try:
            warming_up = True
            while True:
                # until the first quote, look often, so a fresh start reports healthy promptly
                await asyncio.sleep(0.05 if warming_up else self.poll_interval_s)
                self.registry.poll(self.clock.now_ns())
                warming_up = warming_up and self.core.last_quote_ns == 0
        finally:
            for task in watchers:
                task.cancel()
            self._active = None

    def _files(self) -> list[FilesProvider]:
        reg = self.registry
        return [p for p in map(reg.provider, reg.names()) if isinstance(p, FilesProvider)]

    async def stop(self) -> None:
        task = self._active
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def background(platform: Platform) -> ProvidersService:
    """The spec's task: the platform's one providers service polls its providers."""
    return ProvidersService.for_platform(platform)
