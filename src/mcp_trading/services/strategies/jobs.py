"""The backtest queue: runs off the event loop on worker threads, bounded, pollable.

A job's states:

    queued  --a worker takes it-------------------------> running
    running --the run returned, its result stored------> done      (result_id set)
    running --the run raised a refusal (InvalidError…)--> failed    (error: its body)
    running --the run raised anything else--------------> failed    (error INTERNAL; logged,
                                                                     the queue's last_error)
    queued / running --cancel() or close()--------------> cancelled (a running run is asked
                                                                     to stop: should_stop)

At most `workers` jobs run at once (one by default: a backtest is CPU-bound, and a second one
at the same time only halves the speed of both); at most `limit` wait or run — one more is
refused with a 503 `BACKTEST_QUEUE_FULL` saying how many are ahead, never queued unbounded.
Workers start on the first submit (no thread at import or construction) and stop at
`close()`. Finished jobs are kept in memory (the newest `keep`) so a poll after the run still
finds a failure; a done job's result is in the backtest store, which outlives the process.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mcp_trading.domain.errors import TradingError, UnavailableError, kind_of

__all__ = ["Job", "JobQueue", "JobState", "QueueFullError", "Runner"]

log = logging.getLogger("mcp_trading.strategies")


class JobState(StrEnum):
    QUEUED = "queued"  # accepted, waiting for a worker
    RUNNING = "running"  # a worker runs it
    DONE = "done"  # finished; the result is stored under result_id
    FAILED = "failed"  # the run raised; `error` says why
    CANCELLED = "cancelled"  # stopped before it finished


_FINAL = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})


class QueueFullError(UnavailableError):
    """The queue holds as many runs as it may: try again once one has finished."""

    code = "BACKTEST_QUEUE_FULL"


@dataclass(eq=False)
class Job:
    """One requested run; its fields change only under the queue's lock (or, for the
    progress figures, by plain assignment from its worker)."""

    id: str
    payload: Any  # what the runner needs (a BacktestSpec)
    created_ns: int
    state: JobState = JobState.QUEUED
    started_ns: int | None = None
    finished_ns: int | None = None
    bars_done: int = 0
    bars_total: int = 0
    result_id: str | None = None
    error: dict[str, Any] | None = None
    exception: Exception | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)
    _waiters: list[Callable[[], None]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.state in _FINAL

    def progress(self, done: int, total: int) -> None:
        """The runner's progress callback: bars processed of the run's total."""
        self.bars_done, self.bars_total = done, total

    def view(self) -> dict[str, Any]:
        """The job as a poll shows it."""
        return {"id": self.id, "status": self.state.value, "result_id": self.result_id,
                "progress": {"bars": self.bars_done, "total": self.bars_total},
                "error": self.error}


#: runner(job) -> the stored result's id; reads job.payload, reports job.progress, stops
#: when job.stop is set; raises to fail the job
Runner = Callable[[Job], str]


class JobQueue:
    """Backtests on `workers` threads, at most `limit` queued or running (module docstring)."""

    def __init__(self, runner: Runner, *, workers: int = 1, limit: int = 8, keep: int = 1000,
                 name: str = "backtest") -> None:
        if workers < 1 or limit < workers:
            raise ValueError(f"workers {workers}, limit {limit}: need 1 <= workers <= limit")
        self._runner = runner
        self._workers = workers
        self._limit = limit
        self._keep = keep
        self._name = name
        self._lock = threading.Condition()
        self._pending: deque[Job] = deque()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.last_error: str | None = None
        self.last_error_ns: int | None = None

    # ---- submitting and reading -----------------------------------------------------------
    def submit(self, job_id: str, payload: Any) -> Job:
        """Queue a run; QueueFullError when `limit` runs are queued or running."""
        with self._lock:
            if self._closed:
                raise UnavailableError("the backtest queue is stopping; try again once the "
                                       "service is back", code="BACKTEST_QUEUE_CLOSED")
            active = self.depth()
            if active >= self._limit:
                raise QueueFullError(f"the backtest queue is full: {active} runs are queued or "
                                     f"running (at most {self._limit}); try again once one has "
                                     "finished (GET /backtests lists them)",
                                     extra={"queue_depth": active, "queue_limit": self._limit})
            job = Job(job_id, payload, time.time_ns())
            self._jobs[job_id] = job
            self._pending.append(job)
            self._trim()
            self._start_workers()
            self._lock.notify()
            return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def active(self) -> list[Job]:
        """Queued and running jobs, oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if not j.finished]

    def depth(self) -> int:
        """How many runs are queued or running."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if not j.finished)

    def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job; False when it had already finished (or is unknown)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.finished:
                return False
            job.stop.set()
            if job.state is JobState.QUEUED:
                self._pending.remove(job)
                self._finish(job, JobState.CANCELLED)
            return True

    async def wait(self, job: Job, timeout: float) -> bool:
        """Wait (without blocking the event loop) until `job` finished or `timeout` passed;
        True when it finished."""
        if job.finished or timeout <= 0:
            return job.finished
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def settle() -> None:
            if not done.done():
                done.set_result(None)

        def wake() -> None:
            loop.call_soon_threadsafe(settle)

        with self._lock:
            if job.finished:
                return True
            job._waiters.append(wake)
        try:
            await asyncio.wait_for(done, timeout)
        except TimeoutError:
            with self._lock:
                if wake in job._waiters:
                    job._waiters.remove(wake)
        return job.finished

    def wait_blocking(self, job: Job, timeout: float | None = None) -> bool:
        """Block this thread until `job` finished (tests, the CLI); True when it finished."""
        return job._done.wait(timeout)

    # ---- the workers ----------------------------------------------------------------------
    def _start_workers(self) -> None:
        while len(self._threads) < self._workers:
            thread = threading.Thread(target=self._work, daemon=True,
                                      name=f"{self._name}-{len(self._threads) + 1}")
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._pending.popleft()
                job.state, job.started_ns = JobState.RUNNING, time.time_ns()
            self._run(job)

    def _run(self, job: Job) -> None:
        try:
            result_id = self._runner(job)
        except Exception as exc:  # the job fails; the worker and the service go on
            self._failed(job, exc)
            return
        with self._lock:
            job.result_id = result_id
            self._finish(job, JobState.CANCELLED if job.stop.is_set() and not result_id
                         else JobState.DONE)

    def _failed(self, job: Job, exc: Exception) -> None:
        if kind_of(exc) is not None:
            assert isinstance(exc, TradingError)
            error = exc.body()
        else:
            log.exception("backtest %s failed", job.id)
            error = {"code": "INTERNAL", "message": f"the backtest failed ({type(exc).__name__}); "
                                                    "the service's log has the details"}
        with self._lock:
            job.error, job.exception = error, exc
            if kind_of(exc) is None:
                self.last_error, self.last_error_ns = f"{job.id}: {error['message']}", time.time_ns()
            self._finish(job, JobState.FAILED)

    def _finish(self, job: Job, state: JobState) -> None:
        job.state, job.finished_ns = state, time.time_ns()
        job._done.set()
        waiters, job._waiters = job._waiters, []
        for wake in waiters:
            wake()

    def _trim(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.finished]
        for key in finished[:max(0, len(finished) - self._keep)]:
            del self._jobs[key]

    # ---- lifecycle ------------------------------------------------------------------------
    def close(self, timeout: float = 10.0) -> None:
        """Cancel what waits, ask what runs to stop, and join the workers."""
        with self._lock:
            self._closed = True
            for job in list(self._pending):
                job.stop.set()
                self._finish(job, JobState.CANCELLED)
            self._pending.clear()
            for job in self._jobs.values():
                if job.state is JobState.RUNNING:
                    job.stop.set()
            self._lock.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout)
