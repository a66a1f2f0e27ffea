"""trading-strategies service functions: list strategies, run and read backtests.

Framework-free: the REST routes and MCP tools call these with a Principal and plain values.
Roles: viewer reads (strategies, backtests, reports), trader runs a backtest, operator deletes
one. Backtests belong to no account (they trade a simulated one), so any reader sees all.

A run goes through the queue (jobs.py, off the event loop); `submit` waits up to the
request's `wait_s` and answers the finished run (201) or its id to poll (202). The engine is
`backtest.engine.run_backtest` — the same kernel as live trading with a simulated clock — and
its results go to the backtest store (the platform's database, its own table). The service
holds the settings only to hand them to the engine (the commission and slippage defaults),
the strategy registry (built-ins, `MCP_TRADING_STRATEGY_DIR`, entry points: loaded once, on
first use, off the event loop) and the platform's history store (read only).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mcp_trading.domain.errors import InvalidError, NotFoundError, TradingError, kind_of
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.strategies import views
from mcp_trading.services.strategies.jobs import Job, JobQueue, JobState
from mcp_trading.services.strategies.requests import parse_request
from mcp_trading.strategy.loader import StrategyRegistry, load_registry

if TYPE_CHECKING:
    from mcp_trading.backtest.result import BacktestResult
    from mcp_trading.backtest.spec import BacktestSpec
    from mcp_trading.backtest.store import BacktestStore
    from mcp_trading.config import Settings
    from mcp_trading.platform.history import PlatformHistory
    from mcp_trading.platform.platform import Platform

__all__ = ["MAX_OFFSET", "MAX_PAGE", "StrategiesService", "Submitted", "background", "open_backtest_store",
           "plain_row"]

MAX_PAGE = 1000
MAX_OFFSET = 10_000_000  # a page offset beyond this is a typo, not a page
_ID_LENGTH = 64


#: one service per platform: the REST face, the MCP tools and the task share its queue
_BY_PLATFORM: weakref.WeakKeyDictionary[Platform, StrategiesService] = weakref.WeakKeyDictionary()


class Submitted:
    """What `submit` answers: the HTTP status (201 done, 202 still running) and the body."""

    __slots__ = ("body", "status")

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body


class StrategiesService:
    """One per platform (`for_platform`): its queue is shared by the REST and MCP faces."""

    def __init__(self, *, settings: Settings, history: PlatformHistory,
                 store: Callable[[], BacktestStore], registry: StrategyRegistry | None = None,
                 workers: int = 1, queue_limit: int = 8,
                 live_limits: Callable[[], dict[str, object] | None] | None = None) -> None:
        self._settings = settings
        self._live = live_limits
        self._history = history
        self._store_factory = store
        self._store_obj: BacktestStore | None = None
        self._registry_obj = registry
        self._lock = threading.Lock()
        self.queue = JobQueue(self._execute, workers=workers, limit=queue_limit)

    @classmethod
    def for_platform(cls, platform: Platform, *, workers: int = 1,
                     queue_limit: int = 8) -> StrategiesService:
        """The platform's service (made on first use, with these options): results in its
        database."""
        svc = _BY_PLATFORM.get(platform)
        if svc is None:
            settings = platform.settings
            svc = cls(settings=settings, history=platform.history,
                      store=lambda: open_backtest_store(settings), workers=workers,
                      queue_limit=queue_limit,
                      live_limits=lambda: _account_limits(platform))
            _BY_PLATFORM[platform] = svc
        return svc

    # ---- what it holds (blocking: call from a worker thread) ------------------------------
    def registry(self) -> StrategyRegistry:
        with self._lock:
            if self._registry_obj is None:
                self._registry_obj = load_registry(self._settings.strategy_dir)
            return self._registry_obj

    def store(self) -> BacktestStore:
        with self._lock:
            if self._store_obj is None:
                self._store_obj = self._store_factory()
            return self._store_obj

    def _execute(self, job: Job) -> str:
        """The queue's runner: one backtest, stored under the job's id ("" when cancelled)."""
        from mcp_trading.backtest.engine import run_backtest

        result = run_backtest(job.payload, history=self._history.store(),
                              registry=self.registry(), settings=self._settings,
                              progress=job.progress, should_stop=job.stop.is_set,
                              live_limits=self._live_limits(), run_id=job.id)
        if job.stop.is_set() or result.status == "canceled":
            return ""
        self.store().save(result)
        return job.id

    def _live_limits(self) -> dict[str, object] | None:
        """The default account's live limits (what `limits: "live"` applies), None when the
        service has no kernel state to read them from."""
        return self._live() if self._live is not None else None

    # ---- strategies -----------------------------------------------------------------------
    async def strategies(self, principal: Principal | None) -> dict[str, Any]:
        """Every strategy with its docstring and parameter schema, and the load problems."""
        require(principal, Role.VIEWER)
        registry = await asyncio.to_thread(self.registry)
        return {"strategies": registry.describe(),
                "problems": [{"source": p.source, "error": p.error} for p in registry.problems]}

    async def strategy(self, principal: Principal | None, name: str) -> dict[str, Any]:
        require(principal, Role.VIEWER)
        registry = await asyncio.to_thread(self.registry)
        try:
            cls = registry.get(name)
        except InvalidError as exc:
            raise NotFoundError(exc.message, code="UNKNOWN_STRATEGY", field="name",
                                extra=exc.extra) from None
        return {**cls.describe(), "origin": registry.origin(cls.name)}

    # ---- running --------------------------------------------------------------------------
    async def submit(self, principal: Principal | None, body: Mapping[str, Any]) -> Submitted:
        """Queue a backtest and wait up to its `wait_s`: 201 with the summary when done,
        202 with the id to poll when not; a refusal (bad input, no data) raises its kind."""
        require(principal, Role.TRADER)
        registry = await asyncio.to_thread(self.registry)
        request = parse_request(body, registry)
        job = self.queue.submit(uuid.uuid4().hex, request.spec)
        await self.queue.wait(job, request.wait_s)
        if job.state is JobState.DONE:
            result = await asyncio.to_thread(self._result, job.id)
            return Submitted(201, {"id": job.id, "status": "done", "summary": result.summary()})
        if job.state is JobState.FAILED and job.exception is not None:
            raise _refusal(job)
        return Submitted(202, {**job.view(), "poll": f"/backtests/{job.id}"})

    async def run_now(self, principal: Principal | None, spec: BacktestSpec) -> BacktestResult:
        """Queue `spec` and wait for it without a bound (tests and embedded callers)."""
        require(principal, Role.TRADER)
        job = self.queue.submit(uuid.uuid4().hex, spec)
        while not await self.queue.wait(job, 3600):
            pass
        if job.state is not JobState.DONE:
            raise _refusal(job)
        return await asyncio.to_thread(self._result, job.id)

    # ---- reading --------------------------------------------------------------------------
    def _result(self, backtest_id: str) -> BacktestResult:
        _check_id(backtest_id)
        return self.store().get(backtest_id)

    async def get(self, principal: Principal | None, backtest_id: str) -> dict[str, Any]:
        """A run: queued/running (with progress), failed (with the error), or done."""
        require(principal, Role.VIEWER)
        job = self.queue.get(backtest_id)
        if job is not None and job.state is not JobState.DONE:
            return job.view()
        return views.backtest_view(await asyncio.to_thread(self._result, backtest_id))

    async def result(self, principal: Principal | None, backtest_id: str) -> BacktestResult:
        """A finished run's stored result; 409 while it still runs, 404 when unknown."""
        require(principal, Role.VIEWER)
        job = self.queue.get(backtest_id)
        if job is not None and not job.finished:
            raise _still_running(job)
        if job is not None and job.state is not JobState.DONE:
            raise NotFoundError(f"backtest {backtest_id} {job.state.value}: it has no result "
                                "(GET /backtests/{id} says why)", code="BACKTEST_NOT_FOUND",
                                field="id")
        return await asyncio.to_thread(self._result, backtest_id)

    async def list_backtests(self, principal: Principal | None, *, limit: int = 50,
                   offset: int = 0) -> dict[str, Any]:
        """Stored runs newest first (a page), and the queued or running ones."""
        require(principal, Role.VIEWER)
        _check_page(limit, offset)
        rows = await asyncio.to_thread(lambda: self.store().list(limit=limit, offset=offset))
        return {"backtests": [plain_row(r) for r in rows], "limit": limit, "offset": offset,
                "next_offset": offset + limit if len(rows) == limit else None,
                "active": [j.view() for j in self.queue.active()]}

    async def compare(self, principal: Principal | None, ids: str | list[str]
                      ) -> list[BacktestResult]:
        """The stored runs named (comma-separated), in that order; 2 to 10 of them."""
        require(principal, Role.VIEWER)  # the caller first: no answer about the ids before it
        names = [i.strip() for i in ids.split(",")] if isinstance(ids, str) else list(ids)
        names = [n for n in names if n]
        if not 2 <= len(names) <= views.MAX_COMPARE:
            raise InvalidError(f"ids: name 2 to {views.MAX_COMPARE} backtest ids, comma-separated "
                               f"(got {len(names)})", code="INVALID_QUERY", field="ids")
        if len(set(names)) != len(names):
            raise InvalidError("ids: a backtest is named twice", code="INVALID_QUERY", field="ids")
        return [await self.result(principal, n) for n in names]

    async def delete(self, principal: Principal | None, backtest_id: str) -> dict[str, Any]:
        """Delete a stored run, or cancel a queued or running one (operator)."""
        require(principal, Role.OPERATOR)
        _check_id(backtest_id)
        if self.queue.cancel(backtest_id):
            return {"id": backtest_id, "deleted": False, "cancelled": True}
        await asyncio.to_thread(lambda: self.store().delete(backtest_id))
        return {"id": backtest_id, "deleted": True, "cancelled": False}

    # ---- health ---------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """Healthy while the queue takes runs; its depth, and the last run that failed."""
        queue = self.queue
        running = [j.id for j in queue.active() if j.state is JobState.RUNNING]
        return {"status": "healthy", "queue_depth": queue.depth(), "running": running,
                "last_error": queue.last_error}

    def close(self) -> None:
        self.queue.close()
        with self._lock:
            store, self._store_obj = self._store_obj, None
        close = getattr(store, "close", None)
        if close is not None:
            close()


def open_backtest_store(settings: Settings, *, migrate: bool = False) -> BacktestStore:
    """The backtest store of the settings: its table in the platform's database (schema at
    head unless `migrate`: the platform migrates it when it opens, the offline CLI here)."""
    from mcp_trading.backtest.store import open_backtest_store as open_store

    return open_store(settings.resolved_database_url, migrate=migrate)


def _account_limits(platform: Platform) -> dict[str, object] | None:
    """The live limits of the platform's default account (RiskLimits wire form)."""
    runtime = platform.core.runtime
    if runtime is None:
        return None
    account = runtime.kernel.state.accounts.get(platform.core.default_account)
    return None if account is None else dict(account.limits.to_wire())


def plain_row(row: object) -> dict[str, Any]:
    """A listing row of the store as a JSON object."""
    if isinstance(row, dict):
        return row
    as_dict = getattr(row, "as_dict", None)
    return dict(as_dict()) if as_dict is not None else dict(vars(row))


def _check_id(backtest_id: str) -> None:
    if not backtest_id or len(backtest_id) > _ID_LENGTH or not backtest_id.isalnum():
        raise NotFoundError(f"backtest {backtest_id[:_ID_LENGTH]!r} does not exist (ids are the "
                            "hex strings POST /backtests answers)", code="BACKTEST_NOT_FOUND",
                            field="id")


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidError(f"limit: must be from 1 to {MAX_PAGE}, got {limit}",
                           code="INVALID_QUERY", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidError(f"offset: must be from 0 to {MAX_OFFSET}, got {offset}",
                           code="INVALID_QUERY", field="offset")


def _still_running(job: Job) -> TradingError:
    from mcp_trading.domain.errors import ConflictError

    return ConflictError(f"backtest {job.id} is {job.state.value} ({job.bars_done} of "
                         f"{job.bars_total} bars): poll GET /backtests/{job.id} until its status "
                         "is done", code="BACKTEST_RUNNING", field="id")


def _refusal(job: Job) -> Exception:
    """The error a failed job answers with: its refusal as it was, or a fault (500)."""
    exc = job.exception
    if exc is not None and kind_of(exc) is not None:
        return exc
    if job.state is JobState.CANCELLED:
        return NotFoundError(f"backtest {job.id} was cancelled", code="BACKTEST_CANCELLED",
                             field="id")
    error = job.error or {}
    return TradingError(str(error.get("message", "the backtest failed")))


class _Lifecycle:
    """The spec's task: nothing to do while the service runs; on stop, the queue's workers
    are stopped and the store closed."""

    def __init__(self, svc: StrategiesService) -> None:
        self._svc = svc
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()
        await asyncio.to_thread(self._svc.close)


def background(platform: Platform) -> _Lifecycle:
    return _Lifecycle(StrategiesService.for_platform(platform))
