"""The provider registry: each provider's score (successes, failures), circuit and on/off state.

A provider adapter (`adapters/providers/base.py`) declares what it is; adapters that call out
(Alpha Vantage) have each call's outcome recorded with `record_success` / `record_failure`
(the failover chain does it); the simulator has no calls to count, so its `poll` reports
whether the quote pump delivered new quotes since the last poll.

Status of one provider:
    ok        a success within `stale_after_s` and an error rate below 10 % over the window
    degraded  no success for `stale_after_s`, or an error rate of 10 % or more
    down      no success yet, or none for `down_after_s`

Each provider also has a circuit breaker (`adapters/providers/breaker.py`) that the failover
chain consults, and an `active` flag: an operator disables and enables providers, and a
disabled one is skipped by every chain. Nothing secret is ever kept: failure reasons pass
through `security.redact` and are cut short.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from mcp_trading.adapters.providers.base import QUOTES, Outcome, Provider
from mcp_trading.adapters.providers.breaker import CircuitBreaker
from mcp_trading.adapters.providers.ratelimit import Clock
from mcp_trading.clocks import WallClock
from mcp_trading.domain.errors import NotFoundError
from mcp_trading.security.redact import redact
from mcp_trading.services.views import iso

__all__ = ["Outcome", "ProviderRegistry", "ProviderStatus", "UnknownProviderError"]

_NS = 1_000_000_000
_DEGRADED_ERROR_RATE = 0.10
_MAX_ERROR_CHARS = 200
_MAX_SAMPLES = 10_000


class UnknownProviderError(NotFoundError, KeyError):
    """No provider of that name is registered (404; a KeyError for older callers)."""

    code = "UNKNOWN_PROVIDER"

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


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
    serves: tuple[str, ...] = ()
    circuit: str = "closed"  # closed | open | half_open
    calls_left: dict[str, int | None] | None = None  # minute / day windows; None: no limit

    @property
    def live(self) -> bool:
        """Can it be the live feed (it serves quotes)?"""
        return QUOTES in self.serves

    def to_wire(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "active": self.active, "status": self.status,
                "last_success": iso(self.last_success), "last_failure": iso(self.last_failure),
                "last_error": self.last_error, "error_rate": self.error_rate,
                "samples": self.samples, "window_s": self.window_s,
                "rate_limit": self.rate_limit_per_min, "serves": list(self.serves),
                "circuit": self.circuit, "calls_left": self.calls_left}


class _Score:
    __slots__ = ("active", "breaker", "last_error", "last_failure", "last_success", "outcomes",
                 "provider")

    def __init__(self, provider: Provider, active: bool, breaker: CircuitBreaker) -> None:
        self.provider = provider
        self.active = active
        self.breaker = breaker
        self.outcomes: deque[tuple[int, bool]] = deque(maxlen=_MAX_SAMPLES)
        self.last_success: int | None = None
        self.last_failure: int | None = None
        self.last_error: str | None = None


class ProviderRegistry:
    """Providers in priority order, each with its recent outcomes (time is passed in; the
    breakers read `clock`)."""

    def __init__(self, *, window_s: float = 300.0, clock: Clock | None = None,
                 failure_threshold: int = 3, cool_down_s: float = 60.0) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s was {window_s}; must be > 0")
        self.window_s = window_s
        self.clock: Clock = clock or WallClock()
        self.failure_threshold = failure_threshold
        self.cool_down_s = cool_down_s
        self._scores: dict[str, _Score] = {}

    def register(self, provider: Provider, *, active: bool = True) -> None:
        if provider.name in self._scores:
            raise ValueError(f"provider {provider.name!r} is already registered")
        breaker = CircuitBreaker(failure_threshold=self.failure_threshold,
                                 cool_down_s=self.cool_down_s, clock=self.clock)
        self._scores[provider.name] = _Score(provider, active, breaker)

    def names(self) -> list[str]:
        return list(self._scores)

    def active(self) -> list[str]:
        """The providers in use, in priority order."""
        return [name for name, score in self._scores.items() if score.active]

    def live(self) -> list[str]:
        """The active providers that serve quotes: the live feed's candidates."""
        return [name for name in self.active() if QUOTES in self._scores[name].provider.serves]

    def _score(self, name: str) -> _Score:
        try:
            return self._scores[name]
        except KeyError:
            raise UnknownProviderError(f"provider {name!r} is not registered; known: "
                                       f"{', '.join(self._scores) or 'none'}",
                                       field="name") from None

    def provider(self, name: str) -> Provider:
        return self._score(name).provider

    def breaker(self, name: str) -> CircuitBreaker:
        return self._score(name).breaker

    def is_active(self, name: str) -> bool:
        return self._score(name).active

    def set_active(self, name: str, active: bool) -> bool:
        """Enable or disable a provider; returns whether it was active before."""
        score = self._score(name)
        before, score.active = score.active, active
        return before

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
                              provider.rate_limit_per_min, tuple(sorted(provider.serves)),
                              score.breaker.state.value, provider.calls_left())

    def statuses(self, now_ns: int) -> list[ProviderStatus]:
        return [self.status(name, now_ns) for name in self._scores]
