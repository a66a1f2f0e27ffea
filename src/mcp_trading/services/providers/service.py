"""Market-data providers: a registry that keeps score of each provider's successes and failures.

A provider adapter declares what it is (`name`, `kind`, `rate_limit_per_min`, how long without
a success makes it stale or down) and may answer a periodic `poll`. Adapters that call out
(Alpha Vantage) record each call's outcome with `record_success` / `record_failure`; the
simulator has no calls to count, so its `poll` reports whether the quote pump delivered new
quotes since the last poll. Adding a provider is one adapter class plus `register`.

Status of one provider:
    ok        a success within `stale_after_s` and an error rate below 10 % over the window
    degraded  no success for `stale_after_s`, or an error rate of 10 % or more
    down      no success yet, or none for `down_after_s`

Nothing secret is ever kept: failure reasons pass through `security.redact` and are cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from abc import ABC
from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple

from mcp_trading.clocks import WallClock
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.security.redact import redact
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.views import iso

__all__ = [
    "STATUS_TO_HEALTH",
    "Outcome",
    "Provider",
    "ProviderRegistry",
    "ProviderStatus",
    "ProvidersService",
    "SimulatorProvider",
    "background",
]

_NS = 1_000_000_000
_DEGRADED_ERROR_RATE = 0.10
_MAX_ERROR_CHARS = 200
_MAX_SAMPLES = 10_000
#: providers_status -> the service's overall status.
STATUS_TO_HEALTH = {"ok": "healthy", "degraded": "degraded", "down": "down"}


class Outcome(NamedTuple):
    ok: bool
    error: str | None = None


class Provider(ABC):
    """One market-data source. Subclasses set the attributes; `poll` is an optional self-check."""

    name: str
    kind: str  # simulator | replay | alpha_vantage | ...
    rate_limit_per_min: int | None = None  # the provider's quota; None: unlimited
    stale_after_s: float = 60.0
    down_after_s: float = 300.0

    def poll(self, now_ns: int) -> Outcome | None:
        """Called every poll interval; None when there is nothing to report."""
        return None


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    name: str
    kind: str
    active: bool
    status: str  # ok | degraded | down
    last_success: int | None  # ns since the epoch
    last_failure: int | None
    last_error: str | None
    error_rate: float | None  # failures / outcomes in the window; None without outcomes
    samples: int
    window_s: float
    rate_limit_per_min: int | None

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "active": self.active, "status": self.status,
                "last_success": iso(self.last_success), "last_failure": iso(self.last_failure),
                "last_error": self.last_error, "error_rate": self.error_rate,
                "samples": self.samples, "window_s": self.window_s,
                "rate_limit": self.rate_limit_per_min}


class _Score:
    __slots__ = ("active", "last_error", "last_failure", "last_success", "outcomes", "provider")

    def __init__(self, provider: Provider, active: bool) -> None:
        self.provider = provider
        self.active = active
        self.outcomes: deque[tuple[int, bool]] = deque(maxlen=_MAX_SAMPLES)
        self.last_success: int | None = None
        self.last_failure: int | None = None
        self.last_error: str | None = None


class ProviderRegistry:
    """Providers in priority order, each with its recent outcomes (time is passed in)."""

    def __init__(self, *, window_s: float = 300.0) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s was {window_s}; must be > 0")
        self.window_s = window_s
        self._scores: dict[str, _Score] = {}

    def register(self, provider: Provider, *, active: bool = True) -> None:
        if provider.name in self._scores:
            raise ValueError(f"provider {provider.name!r} is already registered")
        self._scores[provider.name] = _Score(provider, active)

    def names(self) -> list[str]:
        return list(self._scores)

    def active(self) -> list[str]:
        """The providers in use, in priority order."""
        return [name for name, score in self._scores.items() if score.active]

    def _score(self, name: str) -> _Score:
        try:
            return self._scores[name]
        except KeyError:
            raise KeyError(f"provider {name!r} is not registered; known: "
                           f"{', '.join(self._scores) or 'none'}") from None

    def record_success(self, name: str, now_ns: int) -> None:
        score = self._score(name)
        score.outcomes.append((now_ns, True))
        score.last_success = now_ns

    def record_failure(self, name: str, now_ns: int, error: str) -> None:
        score = self._score(name)
        score.outcomes.append((now_ns, False))
        score.last_failure = now_ns
        score.last_error = redact(error)[:_MAX_ERROR_CHARS]

    def poll(self, now_ns: int) -> None:
        """Ask every provider for its self-check and record the answers."""
        for name, score in self._scores.items():
            outcome = score.provider.poll(now_ns)
            if outcome is None:
                continue
            if outcome.ok:
                self.record_success(name, now_ns)
            else:
                self.record_failure(name, now_ns, outcome.error or "failed")

    def status(self, name: str, now_ns: int) -> ProviderStatus:
        score = self._score(name)
        provider = score.provider
        horizon = now_ns - int(self.window_s * _NS)
        outcomes = score.outcomes
        while outcomes and outcomes[0][0] < horizon:
            outcomes.popleft()
        failures = sum(1 for _, ok in outcomes if not ok)
        rate = round(failures / len(outcomes), 4) if outcomes else None
        last = score.last_success
        if last is None or now_ns - last > provider.down_after_s * _NS:
            status = "down"
        elif now_ns - last > provider.stale_after_s * _NS or (
                rate is not None and rate >= _DEGRADED_ERROR_RATE):
            status = "degraded"
        else:
            status = "ok"
        return ProviderStatus(name, provider.kind, score.active, status, last, score.last_failure,
                              score.last_error, rate, len(outcomes), self.window_s,
                              provider.rate_limit_per_min)

    def statuses(self, now_ns: int) -> list[ProviderStatus]:
        return [self.status(name, now_ns) for name in self._scores]


class SimulatorProvider(Provider):
    """The built-in simulator: a success when the pump delivered quotes since the last poll."""

    kind = "simulator"

    def __init__(self, core: ServiceCore, *, name: str, stale_s: float) -> None:
        self.name = name
        self._core = core
        self.stale_after_s = stale_s
        self.down_after_s = stale_s * 12
        self._seen = core.last_quote_ns

    @classmethod
    def for_platform(cls, platform: Platform) -> SimulatorProvider:
        return cls(platform.core, name=platform.feed.name, stale_s=platform.settings.feed_stale_s)

    def poll(self, now_ns: int) -> Outcome | None:
        core = self._core
        latest = core.last_quote_ns
        if latest > self._seen:
            self._seen = latest
            return Outcome(True)
        if not core.accepting or self._seen == 0:
            return None  # not started, stopping, or no first quote yet: nothing to judge
        return Outcome(False, "no new quotes since the last poll")


_services: weakref.WeakKeyDictionary[Platform, ProvidersService] = weakref.WeakKeyDictionary()


class ProvidersService:
    def __init__(self, core: ServiceCore, registry: ProviderRegistry, *,
                 poll_interval_s: float = 1.0, clock: Any = None) -> None:
        self.core = core
        self.clock = clock or WallClock()
        self.registry = registry
        self.poll_interval_s = poll_interval_s
        self._active: asyncio.Task[None] | None = None

    @classmethod
    def for_platform(cls, platform: Platform) -> ProvidersService:
        """The one service of this platform (REST, MCP and its task share it): the simulator
        registered, polled no faster than the feed quotes (or a healthy feed would look like
        failures)."""
        svc = _services.get(platform)
        if svc is None:
            registry = ProviderRegistry()
            registry.register(SimulatorProvider.for_platform(platform))
            svc = _services[platform] = cls(
                platform.core, registry,
                poll_interval_s=max(1.0, 2 * platform.settings.feed_interval_ms / 1000))
        return svc

    def providers(self, principal: Principal | None) -> dict[str, Any]:
        require(principal, Role.VIEWER)
        now = self.clock.now_ns()
        return {"active_providers": self.registry.active(),
                "providers": [s.to_wire() for s in self.registry.statuses(now)],
                "checked_at": iso(now)}

    def providers_status(self) -> str:
        """ok when every active provider is ok, down when none is up, else degraded."""
        now = self.clock.now_ns()
        states = [s.status for s in self.registry.statuses(now) if s.active]
        if not states or all(s == "down" for s in states):
            return "down"
        return "ok" if all(s == "ok" for s in states) else "degraded"

    def health(self) -> dict[str, Any]:
        status = self.providers_status()
        return {"status": STATUS_TO_HEALTH[status], "providers_status": status,
                "active_providers": self.registry.active(), "polling": self._active is not None}

    async def run(self) -> None:
        """Poll the providers until cancelled; a second concurrent run returns at once."""
        if self._active is not None:
            return
        self._active = asyncio.current_task()
        try:
            warming_up = True
            while True:
                # until the first quote, look often, so a fresh start reports healthy promptly
                await asyncio.sleep(0.05 if warming_up else self.poll_interval_s)
                self.registry.poll(self.clock.now_ns())
                warming_up = warming_up and self.core.last_quote_ns == 0
        finally:
            self._active = None

    async def stop(self) -> None:
        task = self._active
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def background(platform: Platform) -> ProvidersService:
    """The spec's task: the platform's one providers service polls its providers."""
    return ProvidersService.for_platform(platform)
