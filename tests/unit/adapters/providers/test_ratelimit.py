"""The client-side rate limit: sliding minute and day windows, driven by a manual clock."""

from __future__ import annotations

import pytest

from mcp_trading.adapters.providers.errors import ThrottledError
from mcp_trading.adapters.providers.ratelimit import RateLimiter
from mcp_trading.clocks import ManualClock

S = 1_000_000_000


def test_the_sixth_call_in_a_minute_is_refused_and_says_when_the_next_one_is() -> None:
    clock = ManualClock()
    limiter = RateLimiter("alphavantage", per_minute=5, per_day=25, clock=clock)
    for _ in range(5):
        limiter.acquire()
        clock.advance(10 * S)
    assert limiter.left() == {"minute": 0, "day": 20}
    with pytest.raises(ThrottledError, match="5 calls per minute") as refused:
        limiter.acquire()
    assert refused.value.retry_after_s == pytest.approx(10.0)  # the first call was 50 s ago
    assert refused.value.provider == "alphavantage"
    assert limiter.left() == {"minute": 0, "day": 20}  # a refused call is not counted
    clock.advance(10 * S)
    limiter.acquire()
    assert limiter.left() == {"minute": 0, "day": 19}


def test_the_window_slides_it_does_not_reset_on_the_minute() -> None:
    clock = ManualClock()
    limiter = RateLimiter("av", per_minute=2, per_day=None, clock=clock)
    clock.advance(59 * S)
    limiter.acquire()
    limiter.acquire()
    clock.advance(2 * S)  # a fixed window would have reset here
    with pytest.raises(ThrottledError):
        limiter.acquire()
    clock.advance(58 * S)
    limiter.acquire()


def test_the_day_limit_holds_over_24_hours() -> None:
    clock = ManualClock()
    limiter = RateLimiter("av", per_minute=5, per_day=3, clock=clock)
    for _ in range(3):
        limiter.acquire()
        clock.advance(3600 * S)
    with pytest.raises(ThrottledError, match="3 calls per day") as refused:
        limiter.acquire()
    assert refused.value.retry_after_s == pytest.approx(21 * 3600)
    assert limiter.left() == {"minute": 5, "day": 0}
    clock.advance(21 * 3600 * S)
    limiter.acquire()


def test_no_limit_means_none_left_counts() -> None:
    limiter = RateLimiter("x", per_minute=None, per_day=None, clock=ManualClock())
    for _ in range(100):
        limiter.acquire()
    assert limiter.left() == {"minute": None, "day": None}


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="per_minute was 0"):
        RateLimiter("x", per_minute=0, per_day=None, clock=ManualClock())
