"""The backtest queue: one run at a time, bounded, pollable, and a failing run never stops it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mcp_trading.domain.errors import InvalidError, UnavailableError
from mcp_trading.platform.errors import http_status
from mcp_trading.services.strategies.jobs import Job, JobQueue, JobState, QueueFullError


class Gate:
    """A runner whose runs wait for `release()`; it records which ran at the same time."""

    def __init__(self) -> None:
        self.release_event = threading.Event()
        self.started = threading.Semaphore(0)
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def __call__(self, job: Job) -> str:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.started.release()
        try:
            while not self.release_event.wait(0.01):
                if job.stop.is_set():
                    return ""
            if isinstance(job.payload, Exception):
                raise job.payload
            job.progress(10, 10)
            return f"result-{job.id}"
        finally:
            with self._lock:
                self.running -= 1

    def release(self) -> None:
        self.release_event.set()


def test_a_run_finishes_with_its_result_and_progress() -> None:
    gate = Gate()
    gate.release()
    queue = JobQueue(gate)
    try:
        job = queue.submit("a", "spec")
        assert queue.wait_blocking(job, 5)
        assert (job.state, job.result_id) == (JobState.DONE, "result-a")
        assert job.view()["progress"] == {"bars": 10, "total": 10}
        assert queue.depth() == 0
    finally:
        queue.close()


def test_no_thread_starts_before_the_first_run() -> None:
    before = threading.active_count()
    queue = JobQueue(Gate())
    assert threading.active_count() == before
    queue.close()


def test_runs_go_one_at_a_time_and_the_queue_is_bounded() -> None:
    gate = Gate()
    queue = JobQueue(gate, workers=1, limit=3)
    try:
        jobs = [queue.submit(name, "spec") for name in ("a", "b", "c")]
        assert gate.started.acquire(timeout=5)
        assert [j.state for j in jobs] == [JobState.RUNNING, JobState.QUEUED, JobState.QUEUED]
        with pytest.raises(QueueFullError, match="3 runs are queued or running") as refused:
            queue.submit("d", "spec")
        assert http_status(refused.value) == 503
        assert refused.value.extra == {"queue_depth": 3, "queue_limit": 3}
        gate.release()
        for job in jobs:
            assert queue.wait_blocking(job, 5)
        assert gate.most == 1
        assert [j.state for j in jobs] == [JobState.DONE] * 3
        queue.submit("d", "spec")  # room again
    finally:
        queue.close()


def test_a_refused_run_fails_with_its_error_and_a_fault_is_the_last_error() -> None:
    gate = Gate()
    gate.release()
    queue = JobQueue(gate)
    try:
        refused = queue.submit("a", InvalidError("symbols: no stored data", field="symbols"))
        fault = queue.submit("b", ZeroDivisionError("boom"))
        fine = queue.submit("c", "spec")
        for job in (refused, fault, fine):
            assert queue.wait_blocking(job, 5)
        assert refused.state is JobState.FAILED
        assert refused.error == {"code": "INVALID", "message": "symbols: no stored data",
                                 "field": "symbols"}
        assert fault.state is JobState.FAILED and fault.error is not None
        assert fault.error["code"] == "INTERNAL" and "boom" not in fault.error["message"]
        assert queue.last_error is not None and queue.last_error.startswith("b: ")
        assert fine.state is JobState.DONE  # the worker went on
    finally:
        queue.close()


def test_cancel_stops_a_queued_and_a_running_run() -> None:
    gate = Gate()
    queue = JobQueue(gate, limit=2)
    try:
        running = queue.submit("a", "spec")
        queued = queue.submit("b", "spec")
        assert gate.started.acquire(timeout=5)
        assert queue.cancel("b") and queued.state is JobState.CANCELLED
        assert queue.cancel("a")
        assert queue.wait_blocking(running, 5)
        assert running.state is JobState.CANCELLED
        assert not queue.cancel("a") and not queue.cancel("nope")
    finally:
        queue.close()


def test_waiting_on_the_event_loop_times_out_then_sees_the_end() -> None:
    gate = Gate()
    queue = JobQueue(gate)

    async def body() -> None:
        job = queue.submit("a", "spec")
        assert await queue.wait(job, 0.05) is False
        assert job.state is JobState.RUNNING
        gate.release()
        assert await queue.wait(job, 5) is True
        assert job.state is JobState.DONE

    try:
        asyncio.run(body())
    finally:
        queue.close()


def test_a_closed_queue_refuses_new_runs_and_cancels_waiting_ones() -> None:
    gate = Gate()
    queue = JobQueue(gate, limit=2)
    queue.submit("a", "spec")
    waiting = queue.submit("b", "spec")
    assert gate.started.acquire(timeout=5)
    queue.close()
    assert waiting.state is JobState.CANCELLED
    with pytest.raises(UnavailableError, match="stopping"):
        queue.submit("c", "spec")
