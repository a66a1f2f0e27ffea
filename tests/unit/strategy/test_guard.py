"""A callback that raises or hangs stops its instance; the report has no traceback."""

from __future__ import annotations

import threading
import time

import pytest

from mcp_trading.strategy.guard import CallbackGuard, GuardState, StrategyStoppedError


def test_a_callback_that_returns_gives_its_result() -> None:
    guard = CallbackGuard("ok", timeout_s=5)
    assert guard.call("on_bar", lambda a, b: a + b, 2, 3) == 5
    assert guard.state is GuardState.RUNNING
    guard.close()
    assert guard.stopped


def test_a_callback_that_raises_stops_the_instance_with_type_and_message() -> None:
    guard = CallbackGuard("bad", timeout_s=5)

    def on_bar() -> None:
        raise ZeroDivisionError("division by zero in my strategy")

    with pytest.raises(StrategyStoppedError) as err:
        guard.call("on_bar", on_bar)
    assert guard.state is GuardState.FAILED
    assert err.value.fault.as_dict() == {"kind": "raised", "callback": "on_bar",
                                         "error_type": "ZeroDivisionError",
                                         "message": "division by zero in my strategy"}
    assert "Traceback" not in str(err.value.body())
    assert "Traceback" in guard.trace  # for the log
    with pytest.raises(StrategyStoppedError):  # stopped for good
        guard.call("on_bar", lambda: None)


def test_a_callback_that_loops_is_detected_and_abandoned() -> None:
    guard = CallbackGuard("loop", timeout_s=0.2)
    release = threading.Event()

    def on_bar() -> None:
        while not release.is_set():  # a strategy stuck in a loop
            pass

    started = time.monotonic()
    with pytest.raises(StrategyStoppedError) as err:
        guard.call("on_bar", on_bar)
    assert time.monotonic() - started < 2
    assert guard.state is GuardState.HUNG
    assert err.value.fault.kind == "hung"
    assert "did not return within 0.2 s" in err.value.fault.message
    with pytest.raises(StrategyStoppedError):
        guard.call("on_stop", lambda: None)
    release.set()  # let the abandoned worker end


def test_the_worker_is_a_daemon_so_a_hung_strategy_cannot_keep_the_process_alive() -> None:
    guard = CallbackGuard("daemon", timeout_s=1)
    assert guard._worker.daemon
    guard.close()
