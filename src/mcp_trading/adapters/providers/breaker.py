"""A circuit breaker per provider: stop calling a failing source, probe it again after a rest.

    closed     calls pass; consecutive failures are counted (a success resets the count)
    open       calls are refused without reaching the provider until `cool_down_s` (or the
               provider's own retry-after, when longer) has passed since it opened
    half_open  the cool-down has passed: exactly one probe call passes, the rest are refused
               until the probe's outcome is known

    closed    --success-->                      closed (count = 0)
    closed    --failure, count < threshold-->   closed (count + 1)
    closed    --failure, count reaches N-->     open
    closed    --throttle-->                     open  (a quota answer will not change soon)
    open      --cool-down over (on asking)-->   half_open
    half_open --probe succeeds-->               closed
    half_open --probe fails or throttles-->     open  (the cool-down starts again)
    half_open --probe abandoned (`release`)-->  half_open (the next call probes)

Time is passed in (a clock), so the states are tested without sleeping.
"""

from __future__ import annotations

from enum import StrEnum

from mcp_trading.adapters.providers.ratelimit import Clock

__all__ = ["CircuitBreaker", "CircuitState"]

_NS = 1_000_000_000


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """closed -> open -> half_open -> closed | open (see the module docstring)."""

    def __init__(self, *, failure_threshold: int = 3, cool_down_s: float = 60.0,
                 clock: Clock) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold was {failure_threshold}; must be >= 1")
        if cool_down_s <= 0:
            raise ValueError(f"cool_down_s was {cool_down_s}; must be > 0")
        self.failure_threshold = failure_threshold
        self.cool_down_s = cool_down_s
        self.clock = clock
        self._state = CircuitState.CLOSED
        self.failures = 0  # consecutive, while closed
        self.opened_at: int | None = None
        self._reopen_at = 0
        self._probing = False
        self.last_reason: str | None = None  # why it last opened

    @property
    def state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self.clock.now_ns() >= self._reopen_at:
            self._state = CircuitState.HALF_OPEN
            self._probing = False
        return self._state

    def retry_in_s(self) -> float:
        """Seconds until the next probe may pass (0 unless open)."""
        if self.state is not CircuitState.OPEN:
            return 0.0
        return (self._reopen_at - self.clock.now_ns()) / _NS

    def allow(self) -> bool:
        """May a call go out now? In half_open, True once: that call is the probe."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        self._state = CircuitState.CLOSED
        self.failures = 0
        self._probing = False

    def record_failure(self, reason: str) -> None:
        if self._state is CircuitState.HALF_OPEN:
            self._open(reason, 0.0)
            return
        self.failures += 1
        if self.failures >= self.failure_threshold:
            self._open(reason, 0.0)

    def record_throttle(self, reason: str, retry_after_s: float | None = None) -> None:
        self._open(reason, retry_after_s or 0.0)

    def release(self) -> None:
        """The probe was abandoned without an outcome (cancelled): let the next call probe."""
        self._probing = False

    def _open(self, reason: str, retry_after_s: float) -> None:
        now = self.clock.now_ns()
        self._state = CircuitState.OPEN
        self.opened_at = now
        self._reopen_at = now + int(max(self.cool_down_s, retry_after_s) * _NS)
        self.failures = 0
        self._probing = False
        self.last_reason = reason
