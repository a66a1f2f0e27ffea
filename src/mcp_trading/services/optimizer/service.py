"""ml-portfolio-optimizer service functions: optimize, frontier, evaluate, the methods, the
stored runs and their reports. Rebalances are in rebalance.py.

Framework-free: the REST routes, MCP tools and CLI call these with a Principal and plain
values. Roles: viewer optimises and reads (an optimisation changes nothing but its own
stored run); trader places a rebalance. The numeric work (history reads, estimation,
solving) runs in a worker thread, never on the event loop. Every run is stored with its
request and the prices it used, so `GET /runs/{id}` shows what reproduces it.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mcp_trading.domain.errors import InvalidError, NotFoundError
from mcp_trading.optimizer.estimators import COVARIANCE, EXPECTED_RETURNS
from mcp_trading.optimizer.methods import METHODS
from mcp_trading.security.access import require, resolve_account
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.optimizer import compute
from mcp_trading.services.optimizer.inputs import FrontierBody, OptimizeBody, parse_body
from mcp_trading.services.optimizer.prices import Closes, inline_table, stored_closes
from mcp_trading.services.optimizer.runs import OptimizerStore, open_optimizer_store

if TYPE_CHECKING:
    from mcp_trading.kernel.kernel import Kernel
    from mcp_trading.platform.history import PlatformHistory
    from mcp_trading.platform.platform import Platform
    from mcp_trading.services.core import ServiceCore

__all__ = ["MAX_STORED_VALUES", "OptimizerService", "background"]

#: the most price values a run stores with itself (500 assets x 1,000 days); beyond, the
#: stored request (symbols, dates) is what reproduces it
MAX_STORED_VALUES = 500_000
_ID_LENGTH = 64
_BY_PLATFORM: weakref.WeakKeyDictionary[Platform, OptimizerService] = weakref.WeakKeyDictionary()

UNITS = {"expected_return": "annual, fraction (0.08 = 8 %)",
         "volatility": "annual standard deviation, fraction",
         "sharpe": "(expected_return - risk_free_rate) / volatility, annual",
         "risk_free_rate": "annual, fraction", "frequency": "periods per year",
         "weights": "fractions of the portfolio's value, decimal strings",
         "risk_contributions": "fractions of the portfolio's variance, summing to 1"}


class OptimizerService:
    """One per platform (`for_platform`): the REST face, the MCP tools and the task share it."""

    def __init__(self, *, history: PlatformHistory, store: Callable[[], OptimizerStore],
                 core: ServiceCore | None = None, default_account: str = "paper") -> None:
        self._history = history
        self._store_factory = store
        self._store_obj: OptimizerStore | None = None
        self.core = core
        self.default_account = core.default_account if core is not None else default_account
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @classmethod
    def for_platform(cls, platform: Platform) -> OptimizerService:
        svc = _BY_PLATFORM.get(platform)
        if svc is None:
            url = platform.settings.resolved_database_url
            svc = cls(history=platform.history, store=lambda: open_optimizer_store(url),
                      core=platform.core)
            _BY_PLATFORM[platform] = svc
        return svc

    def store(self) -> OptimizerStore:
        """The runs store, opened on first use (blocking: call from a worker thread)."""
        with self._lock:
            if self._store_obj is None:
                self._store_obj = self._store_factory()
            return self._store_obj

    def kernel(self) -> Kernel:
        from mcp_trading.domain.errors import UnavailableError

        runtime = self.core.runtime if self.core is not None else None
        if runtime is None:
            raise UnavailableError("the kernel's state is not loaded (the platform is not "
                                   "running here): accounts and rebalances need it",
                                   code="UNAVAILABLE")
        return runtime.kernel

    # ---- the methods ----------------------------------------------------------------------
    async def methods(self, principal: Principal | None) -> dict[str, Any]:
        """Every method and estimator with its options (and their units)."""
        require(principal, Role.VIEWER)
        return {
            "methods": [{"name": s.name, "title": s.title, "options": dict(s.options),
                         "needs_expected_returns": s.needs_mu} for s in METHODS.values()],
            "expected_returns": [{"name": e.name, "title": e.title, "options": dict(e.options)}
                                 for e in EXPECTED_RETURNS.values()],
            "covariance": [{"name": e.name, "title": e.title, "options": dict(e.options)}
                           for e in COVARIANCE.values()],
            "units": UNITS, "rounding": compute.ROUNDING_RULE}

    # ---- optimize -------------------------------------------------------------------------
    def current_weights(self, caller: Principal, account: str | None) -> dict[str, float]:
        """The account's weights now: position value / equity (on the event loop)."""
        kernel = self.kernel()
        account_id = resolve_account(caller, account, self.default_account)
        found = kernel.state.accounts.get(account_id)
        if found is None:
            raise InvalidError(f"account: {account_id!r} does not exist", code="UNKNOWN_ACCOUNT",
                               field="account")
        equity = found.equity
        if equity <= 0:
            raise InvalidError(f"account: {account_id} has equity {equity}; weights need a "
                               "positive equity", code="INVALID_OPTIMIZATION", field="account")
        return {s: float(p.market_value / equity) for s, p in found.positions.items()
                if p.qty != 0}

    def closes(self, body: OptimizeBody | Any) -> Closes:
        """The request's prices (blocking)."""
        given = [name for name in ("symbols", "prices", "returns") if getattr(body, name)]
        if len(given) != 1:
            raise InvalidError("give exactly one of symbols (with start and end), prices or "
                               f"returns; got {', '.join(given) or 'none'}",
                               code="INVALID_OPTIMIZATION", field=given[-1] if given else "symbols")
        if body.prices:
            return inline_table("prices", body.prices)
        if body.returns:
            return inline_table("returns", body.returns)
        if body.start is None or body.end is None:
            missing = "start" if body.start is None else "end"
            raise InvalidError(f"{missing}: is required with symbols (YYYY-MM-DD)",
                               code="INVALID_OPTIMIZATION", field=missing)
        return stored_closes(self._history.store(), list(body.symbols or []), body.start,
                             body.end,
                             source=body.source, benchmark=body.benchmark)

    def _solve(self, body: OptimizeBody, current: Mapping[str, float] | None
               ) -> tuple[Closes, Any, Any, dict[str, Any]]:
        """(closes, estimates, problem, answer without run_id) of one request (blocking)."""
        spec = compute.method_spec(body.method)
        closes = self.closes(body)
        estimates = compute.estimates_of(body, closes)
        constraints = compute.build_constraints(body.constraints, estimates.symbols, current)
        problem = compute.problem_of(spec, estimates, constraints, body.options)
        solution = compute.solve(spec, problem)
        budget = Decimal(1) - Decimal(repr(body.constraints.cash_buffer))
        d = solution.diagnostics
        notes = [*closes.notes, *d.notes]
        if body.constraints.cash_buffer:
            notes.append(f"cash buffer {body.constraints.cash_buffer:g}: the weights sum to "
                         f"{budget}, the rest is held as cash")
        answer = {
            "method": spec.name, "symbols": list(estimates.symbols),
            "weights": compute.round_weights(solution.weights, estimates.symbols, budget),
            "weights_sum": str(budget), "cash_buffer": str(Decimal(repr(
                body.constraints.cash_buffer))), "rounding": compute.ROUNDING_RULE,
            **compute.figures(estimates, solution),
            "risk_free_rate": estimates.risk_free_rate, "frequency": estimates.frequency,
            "estimators": {"expected_returns": estimates.expected_returns_estimator,
                           "covariance": estimates.covariance_estimator},
            "diagnostics": {"solver": d.solver, "status": d.status, "iterations": d.iterations,
                            "seconds": round(d.seconds, 6), "notes": list(d.notes)},
            "data": {"periods": int(closes.table.shape[0]),
                     "first": closes.days[0] if closes.days else None,
                     "last": closes.days[-1] if closes.days else None,
                     "sources": closes.sources},
            "notes": notes, "units": UNITS}
        return closes, estimates, problem, answer

    async def current_weights_of(self, caller: Principal, body: OptimizeBody
                                 ) -> dict[str, float] | None:
        if body.account is not None and body.current_weights is not None:
            raise InvalidError("account: give current_weights or an account, not both",
                               code="INVALID_OPTIMIZATION", field="account")
        if body.current_weights is not None:
            return {k.strip().upper(): v for k, v in body.current_weights.items()}
        if body.account is not None:
            return self.current_weights(caller, body.account)
        return None

    async def optimize(self, principal: Principal | None, raw: Mapping[str, Any]
                       ) -> dict[str, Any]:
        """Optimise, store the run, answer the weights and figures with the run's id."""
        caller = require(principal, Role.VIEWER)
        body = parse_body(OptimizeBody, raw)
        current = await self.current_weights_of(caller, body)
        return await asyncio.to_thread(self.optimize_now, body, current)

    def optimize_now(self, body: OptimizeBody, current: Mapping[str, float] | None = None
                     ) -> dict[str, Any]:
        """`optimize` of a parsed body, in this thread (the CLI, rebalance)."""
        closes, _, _, answer = self._solve(body, current)
        return self.save_run("optimize", body, closes, answer)

    def save_run(self, kind: str, body: Any, closes: Closes, answer: dict[str, Any]
              ) -> dict[str, Any]:
        run_id = uuid.uuid4().hex
        created = time.time_ns()
        answer = _finite({"run_id": run_id, "kind": kind, **answer})
        summary = {"run_id": run_id, "kind": kind, "created_at": _iso(created),
                   "method": answer.get("method") or ",".join(answer.get("methods", [])),
                   "symbols": list(closes.symbols), "expected_return":
                   answer.get("expected_return"), "volatility": answer.get("volatility"),
                   "sharpe": answer.get("sharpe")}
        inputs: dict[str, Any] = {"symbols": list(closes.symbols), "days": list(closes.days),
                                  "is_returns": closes.is_returns}
        if closes.table.size <= MAX_STORED_VALUES:
            inputs["table"] = closes.table.tolist()
            if closes.benchmark is not None:
                inputs["benchmark"] = closes.benchmark.tolist()
        payload = {"request": body.model_dump(mode="json", exclude_none=True),
                   "inputs": inputs, "result": answer}
        self.store().save_run({"id": run_id, "created_ns": created, "kind": kind,
                               "method": summary["method"], "symbols": list(closes.symbols),
                               "summary": summary}, payload)
        return answer

    # ---- frontier -------------------------------------------------------------------------
    async def frontier(self, principal: Principal | None, raw: Mapping[str, Any]
                       ) -> dict[str, Any]:
        """The efficient frontier (N points) and the method's portfolio marked on it."""
        caller = require(principal, Role.VIEWER)
        body = parse_body(FrontierBody, raw)
        current = await self.current_weights_of(caller, body)
        return await asyncio.to_thread(self.frontier_now, body, current)

    def frontier_now(self, body: FrontierBody, current: Mapping[str, float] | None = None
                     ) -> dict[str, Any]:
        from mcp_trading.services.optimizer.charts import frontier_points

        closes, estimates, problem, answer = self._solve(body, current)
        answer["points"] = frontier_points(problem, body.points)
        answer["assets"] = [{"symbol": s, "expected_return": float(estimates.mu[i]),
                             "volatility": float(estimates.cov[i, i] ** 0.5)}
                            for i, s in enumerate(estimates.symbols)]
        return self.save_run("frontier", body, closes, answer)

    # ---- evaluate -------------------------------------------------------------------------
    async def evaluate(self, principal: Principal | None, raw: Mapping[str, Any]
                       ) -> dict[str, Any]:
        """Walk-forward: each method (and estimator) out of sample, side by side."""
        from mcp_trading.services.optimizer.evaluation import evaluate_now

        require(principal, Role.VIEWER)
        return await asyncio.to_thread(evaluate_now, self, raw)

    # ---- rebalance ------------------------------------------------------------------------
    async def rebalance_preview(self, principal: Principal | None, raw: Mapping[str, Any]
                                ) -> dict[str, Any]:
        from mcp_trading.services.optimizer.rebalance import preview

        return await preview(self, principal, raw)

    async def rebalance_confirm(self, principal: Principal | None, preview_id: str,
                                raw: Mapping[str, Any]) -> dict[str, Any]:
        from mcp_trading.services.optimizer.rebalance import confirm

        require(principal, Role.TRADER)  # the caller first: no answer about the id before it
        _check_id(preview_id, "preview_id")
        return await confirm(self, principal, preview_id, raw)

    # ---- runs -----------------------------------------------------------------------------
    async def runs(self, principal: Principal | None, *, limit: int = 50, offset: int = 0
                   ) -> dict[str, Any]:
        require(principal, Role.VIEWER)
        rows = await asyncio.to_thread(lambda: self.store().list_runs(limit, offset))
        return {"runs": rows, "limit": limit, "offset": offset,
                "next_offset": offset + limit if len(rows) == limit else None}

    async def run(self, principal: Principal | None, run_id: str) -> dict[str, Any]:
        """A stored run: its summary, the request and prices that reproduce it, its answer."""
        require(principal, Role.VIEWER)
        _check_id(run_id)
        return await asyncio.to_thread(lambda: self.store().get_run(run_id))

    async def report(self, principal: Principal | None, run_id: str) -> str:
        """The run's HTML report: the weights and frontier charts, figures and notes."""
        from mcp_trading.services.optimizer.charts import run_report

        stored = await self.run(principal, run_id)
        return await asyncio.to_thread(run_report, stored)

    # ---- health ---------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return {"status": "healthy", "methods": len(METHODS), "last_error": self.last_error}

    def close(self) -> None:
        with self._lock:
            store, self._store_obj = self._store_obj, None
        if store is not None:
            store.close()


def _finite(value: Any) -> Any:
    """The answer with every non-finite float as null (JSON has no NaN; an undefined figure,
    e.g. a Sharpe ratio without variance, is null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _iso(ns: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")


def _check_id(run_id: str, field: str = "run_id") -> None:
    if not run_id or len(run_id) > _ID_LENGTH or not run_id.isalnum():
        what = "run" if field == "run_id" else "preview"
        raise NotFoundError(f"{what} {run_id[:_ID_LENGTH]!r} does not exist (ids are the hex "
                            "strings POST /optimize and POST /rebalance answer)",
                            code=f"{what.upper()}_NOT_FOUND", field=field)


class _Lifecycle:
    """The spec's task: nothing to do while the service runs; on stop, the store is closed."""

    def __init__(self, svc: OptimizerService) -> None:
        self._svc = svc
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()
        await asyncio.to_thread(self._svc.close)


def background(platform: Platform) -> _Lifecycle:
    return _Lifecycle(OptimizerService.for_platform(platform))
