"""The circuit breaker's states, driven by a manual clock (no sleeping)."""

from __future__ import annotations

import pytest

from mcp_trading.adapters.providers.breaker import CircuitBreaker, CircuitState
from mcp_trading.clocks import ManualClock

S = 1_000_000_000


def breaker(clock: ManualClock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=threshold, cool_down_s=60, clock=clock)


def test_it_opens_after_n_consecutive_failures_only() -> None:
    clock = ManualClock()
    b = breaker(clock)
    b.record_failure("503")
    b.record_failure("503")
    b.record_success()  # the count restarts
    b.record_failure("503")
    b.record_failure("503")
    assert b.state is CircuitState.CLOSED and b.allow()
    b.record_failure("timeout")
    assert b.state is CircuitState.OPEN
    assert not b.allow()
    assert b.last_reason == "timeout"


def test_a_throttle_opens_it_at_once() -> None:
    b = breaker(ManualClock())
    b.record_throttle("Note: 5 calls per minute")
    assert b.state is CircuitState.OPEN


def test_after_the_cool_down_one_probe_passes_and_its_success_closes_it() -> None:
    clock = ManualClock()
    b = breaker(clock, threshold=1)
    b.record_failure("503")
    clock.advance(59 * S)
    assert b.state is CircuitState.OPEN and not b.allow()
    assert b.retry_in_s() == pytest.approx(1.0)
    clock.advance(1 * S)
    assert b.state is CircuitState.HALF_OPEN
    assert b.allow()  # the probe
    assert not b.allow()  # only one at a time
    b.record_success()
    assert b.state is CircuitState.CLOSED and b.allow()


def test_a_failed_probe_opens_it_again_for_a_full_cool_down() -> None:
    clock = ManualClock()
    b = breaker(clock, threshold=3)
    b.record_throttle("Note")
    clock.advance(60 * S)
    assert b.allow()
    b.record_failure("503")  # one failure is enough in half_open
    assert b.state is CircuitState.OPEN
    clock.advance(59 * S)
    assert b.state is CircuitState.OPEN
    clock.advance(1 * S)
    assert b.state is CircuitState.HALF_OPEN


def test_a_longer_retry_after_from_the_provider_extends_the_cool_down() -> None:
    clock = ManualClock()
    b = breaker(clock)
    b.record_throttle("daily limit", retry_after_s=3600)
    clock.advance(61 * S)
    assert b.state is CircuitState.OPEN
    clock.advance(3600 * S)
    assert b.state is CircuitState.HALF_OPEN


def test_an_abandoned_probe_lets_the_next_call_probe() -> None:
    clock = ManualClock()
    b = breaker(clock, threshold=1)
    b.record_failure("503")
    clock.advance(60 * S)
    assert b.allow()
    b.release()
    assert b.allow()


def test_bad_settings_are_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="failure_threshold was 0"):
        CircuitBreaker(failure_threshold=0, clock=ManualClock())
    with pytest.raises(ValueError, match="cool_down_s was 0"):
        CircuitBreaker(cool_down_s=0, clock=ManualClock())
