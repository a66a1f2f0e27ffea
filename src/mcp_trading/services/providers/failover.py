"""Failover: an ordered chain of providers per data kind (quotes, daily, intraday).

A call walks its kind's chain (the settings' order; disabled providers and those that do not
serve the kind left out) and takes the first good answer:

    circuit open          skipped without a call (the breaker's cool-down is running)
    ThrottledError        the circuit opens at once; next provider
    ProviderUnavailable,  a failure (N in a row open the circuit); next provider
    PermanentError of the provider (a bad key)
    PermanentError of the call (unknown symbol)
                          the provider is fine (its circuit counts a success); next provider
    a stale quote         (older than `quote_max_age_s`) recorded as a failure of freshness,
                          kept as the fallback; next provider. When no provider has a fresh
                          quote the freshest stale one is returned, marked stale
    an answer             the circuit closes (a half-open probe succeeded); returned

The provider that serves a kind is remembered: when it changes (the first fails, a later one
answers; or the first comes back after its cool-down) the switch is logged, handed to
`on_switch` (the service raises it on the alerts service) and kept for GET /providers.
When every provider fails, UnavailableError (503) names each one's reason (also as
`providers: [{provider, reason}]` in the error body); when each merely did not know the
symbol, NotFoundError (404).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from mcp_trading.adapters.providers.base import (
    DATA_KINDS,
    QUOTES,
    DataKind,
    PermanentError,
    Provider,
    ProviderError,
    ThrottledError,
)
from mcp_trading.domain.errors import NotFoundError, TradingError, UnavailableError
from mcp_trading.domain.market import Quote
from mcp_trading.security.redact import redact
from mcp_trading.services.providers.registry import ProviderRegistry
from mcp_trading.services.views import iso

__all__ = ["Failover", "Fetched", "Switch", "reasons_view"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_NS = 1_000_000_000
_KEPT_SWITCHES = 50


class Switch(NamedTuple):
    """The provider serving a kind changed."""

    kind: str
    previous: str | None
    current: str
    reason: str  # why the previous one did not serve
    ts: int

    def to_wire(self) -> dict[str, Any]:
        return {"kind": self.kind, "from": self.previous, "to": self.current,
                "reason": self.reason, "at": iso(self.ts)}


class Fetched(NamedTuple, Generic[T]):
    provider: str
    value: T
    stale: bool = False
    skipped: tuple[str, ...] = ()  # "name: why" of each provider tried before, in order


class Failover:
    """The chains of one registry (see the module docstring)."""

    def __init__(self, registry: ProviderRegistry, chains: Mapping[str, Sequence[str]], *,
                 on_switch: Callable[[Switch], None] | None = None,
                 quote_max_age_s: float = 900.0) -> None:
        self.registry = registry
        self.chains = {kind: list(chains.get(kind, ())) for kind in DATA_KINDS}
        self.on_switch = on_switch
        self.quote_max_age_s = quote_max_age_s
        self.serving: dict[str, str | None] = dict.fromkeys(DATA_KINDS)
        self.switches: deque[Switch] = deque(maxlen=_KEPT_SWITCHES)

    def chain(self, kind: DataKind) -> list[str]:
        """The providers a call of `kind` tries now, in order."""
        reg = self.registry
        return [name for name in self.chains[kind] if name in reg.names()
                and reg.is_active(name) and kind in reg.provider(name).serves]

    async def quote(self, symbol: str) -> Fetched[Quote]:
        """The first fresh quote of the quotes chain (else the freshest stale one)."""
        return await self.call(QUOTES, lambda p: p.fetch_quote(symbol), subject=symbol,
                               fresh=self._fresh)

    def _fresh(self, quote: Quote) -> str | None:
        age_s = (self.registry.clock.now_ns() - quote.ts) / _NS
        if age_s > self.quote_max_age_s:
            return f"stale: its quote of {quote.symbol} is {age_s:.0f} s old " \
                   f"(limit {self.quote_max_age_s:.0f} s)"
        return None

    async def call(self, kind: DataKind, fetch: Callable[[Provider], Awaitable[T]], *,
                   subject: str, fresh: Callable[[T], str | None] | None = None) -> Fetched[T]:
        """Walk the chain of `kind`; `fresh` says why an answer is stale (None: fresh)."""
        reasons: list[str] = []
        unknown = 0
        fallback: tuple[str, T] | None = None
        for name in self.chain(kind):
            outcome = await self._one(name, fetch)
            if isinstance(outcome, _Failed):
                reasons.append(f"{name}: {outcome.reason}")
                unknown += outcome.unknown
                continue
            why_stale = fresh(outcome) if fresh is not None else None
            if why_stale is None:
                self._served(kind, name, reasons)
                return Fetched(name, outcome, skipped=tuple(reasons))
            self.registry.record_failure(name, self.registry.clock.now_ns(), why_stale)
            reasons.append(f"{name}: {why_stale}")
            fallback = fallback or (name, outcome)
        if fallback is not None:
            self._served(kind, fallback[0], reasons)
            return Fetched(fallback[0], fallback[1], stale=True, skipped=tuple(reasons))
        raise self._error(kind, subject, reasons, unknown)

    def _error(self, kind: DataKind, subject: str, reasons: list[str], unknown: int
               ) -> TradingError:
        extra = {"providers": reasons_view(reasons)}
        if reasons and unknown == len(reasons):
            return NotFoundError(f"no {kind} provider knows {subject!r}: " + "; ".join(reasons),
                                code="UNKNOWN_SYMBOL", field="symbol", extra=extra)
        if not reasons:
            return UnavailableError(
                f"no {kind} provider is configured and enabled; set "
                f"MCP_TRADING_PROVIDER_CHAIN_{kind.upper()} or enable one (POST "
                "/providers/{name}/enable)", code="NO_PROVIDER")
        return UnavailableError(f"every {kind} provider failed for {subject!r}: "
                               + "; ".join(reasons), code="PROVIDERS_FAILED", extra=extra)

    async def _one(self, name: str, fetch: Callable[[Provider], Awaitable[T]]) -> T | _Failed:
        """One provider's answer, its outcome recorded on its score and circuit."""
        reg = self.registry
        breaker = reg.breaker(name)
        if not breaker.allow():
            return _Failed(f"circuit {breaker.state.value} (next probe in "
                           f"{breaker.retry_in_s():.0f} s)")
        try:
            value = await fetch(reg.provider(name))
        except asyncio.CancelledError:
            breaker.release()
            raise
        except ThrottledError as exc:
            breaker.record_throttle(_why(exc), exc.retry_after_s)
            return self._failed(name, f"throttled, circuit open ({_why(exc)})")
        except PermanentError as exc:
            if exc.scope == "call":
                breaker.record_success()  # it answered: the source is up
                reg.record_success(name, reg.clock.now_ns())
                return _Failed(redact(_why(exc)), unknown=1)
            breaker.record_failure(_why(exc))
            return self._failed(name, _why(exc))
        except ProviderError as exc:
            breaker.record_failure(_why(exc))
            return self._failed(name, _why(exc))
        breaker.record_success()
        reg.record_success(name, reg.clock.now_ns())
        return value

    def _failed(self, name: str, reason: str) -> _Failed:
        self.registry.record_failure(name, self.registry.clock.now_ns(), reason)
        return _Failed(redact(reason)[:300])

    def _served(self, kind: DataKind, name: str, reasons: list[str]) -> None:
        previous = self.serving[kind]
        self.serving[kind] = name
        if previous == name:
            return
        if previous is None:
            log.info("providers: %s served by %s", kind, name)
            return
        reason = "; ".join(reasons) or f"{previous} is behind {name} in the chain"
        switch = Switch(kind, previous, name, reason, self.registry.clock.now_ns())
        self.switches.append(switch)
        log.warning("providers: %s switched from %s to %s (%s)", kind, previous, name, reason)
        if self.on_switch is not None:
            self.on_switch(switch)


def reasons_view(reasons: Sequence[str]) -> list[dict[str, str]]:
    """"name: why" texts as [{provider, reason}]."""
    out = []
    for text in reasons:
        name, _, why = text.partition(": ")
        out.append({"provider": name, "reason": why})
    return out


def _why(exc: ProviderError) -> str:
    """The error's message without the provider's name (the chain names it)."""
    return exc.message.removeprefix(f"{exc.provider}: ")


class _Failed(NamedTuple):
    reason: str
    unknown: int = 0  # 1: the provider did not know the subject (a call-scope PermanentError)
