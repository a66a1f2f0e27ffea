"""A client-side rate limit: calls per minute and per day, over sliding windows (time passed in).

A sliding window is the conservative reading of a plan's "5 calls per minute": it never lets
six calls fall inside any 60 seconds, whatever the provider's own window alignment is. A call
is counted when it is made (`acquire`), whether it then succeeds or not: the provider counts
it too.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from mcp_trading.adapters.providers.errors import ThrottledError

__all__ = ["Clock", "RateLimiter"]

_NS = 1_000_000_000
_MINUTE_NS = 60 * _NS
_DAY_NS = 86_400 * _NS


class Clock(Protocol):
    def now_ns(self) -> int: ...


class RateLimiter:
    """At most `per_minute` calls in any 60 s and `per_day` in any 24 h (None: no limit)."""

    def __init__(self, name: str, *, per_minute: int | None, per_day: int | None,
                 clock: Clock) -> None:
        for setting, value in (("per_minute", per_minute), ("per_day", per_day)):
            if value is not None and value < 1:
                raise ValueError(f"{setting} was {value}; must be >= 1 (or None for no limit)")
        self.name = name  # the provider's, for the ThrottledError error
        self.per_minute = per_minute
        self.per_day = per_day
        self.clock = clock
        self._calls: deque[int] = deque()  # call times within the longest window, ascending

    def _windows(self) -> list[tuple[str, int, int]]:
        return [(name, limit, span) for name, limit, span in
                (("minute", self.per_minute, _MINUTE_NS), ("day", self.per_day, _DAY_NS))
                if limit is not None]

    def _trim(self, now: int) -> None:
        keep = _DAY_NS if self.per_day is not None else _MINUTE_NS
        while self._calls and self._calls[0] <= now - keep:
            self._calls.popleft()

    def _used(self, now: int, span: int) -> int:
        return sum(1 for t in self._calls if t > now - span)

    def acquire(self) -> None:
        """Count one call now, or raise ThrottledError (nothing counted) when none is left."""
        now = self.clock.now_ns()
        self._trim(now)
        for window, limit, span in self._windows():
            used = self._used(now, span)
            if used >= limit:
                # the call that frees a slot is the oldest of the last `limit` in the window
                oldest = self._calls[len(self._calls) - used]
                wait = (oldest + span - now) / _NS
                raise ThrottledError(self.name, f"the client-side limit of {limit} calls per {window} "
                                f"is used up; next call in {wait:.0f} s", retry_after_s=wait)
        self._calls.append(now)

    def left(self) -> dict[str, int | None]:
        """Calls left now in the minute and the day windows (None: no limit)."""
        now = self.clock.now_ns()
        self._trim(now)
        return {"minute": None if self.per_minute is None
                else max(0, self.per_minute - self._used(now, _MINUTE_NS)),
                "day": None if self.per_day is None
                else max(0, self.per_day - self._used(now, _DAY_NS))}
