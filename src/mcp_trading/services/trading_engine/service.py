"""Trading service functions: orders, positions, account, the self-test and emergency controls.

Framework-free: REST routes and MCP tools call these with a Principal and plain values.
Every command runs on the event loop thread (the kernel's single writer) and returns only
once its events are durable.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from mcp_trading.domain.errors import (
    ConflictError,
    InvalidError,
    NotFoundError,
    OrderNotFoundError,
    OrderStateError,
    RefusedError,
    TradingError,
    UnavailableError,
    UnknownSymbolError,
    kind_of,
)
from mcp_trading.domain.numbers import PRICE, QUANTITY
from mcp_trading.domain.orders import (
    Order,
    OrderRequest,
    OrderStatus,
    TimeInForce,
    parse_number,
)
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.kernel.kernel import IdempotentRetryError, Kernel
from mcp_trading.platform.alert_center import Severity
from mcp_trading.security.access import require, resolve_account
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.core import ServiceCore
from mcp_trading.services.orders.service import closed_order_row, find_order_view
from mcp_trading.services.trading_engine.selftest import run_selftest
from mcp_trading.services.views import (
    account_view,
    iso,
    order_row_view,
    order_view,
    position_view,
)

__all__ = ["OrderRejectedError", "TradingService"]

MAX_BATCH = 500
_REPLACE_FIELDS = {"qty", "limit_price", "stop_price", "trail", "time_in_force", "client_order_id"}


class TradingService:
    def __init__(self, core: ServiceCore) -> None:
        self.core = core

    @property
    def kernel(self) -> Kernel:
        return self.core.kernel_runtime.kernel

    def _default_account(self) -> str:
        return self.core.default_account

    def _check_accepting(self) -> None:
        reason = self.core.unavailable_reason()
        if reason is not None:
            raise UnavailableError(reason, code="UNAVAILABLE")

    # ---- orders ---------------------------------------------------------------------------
    async def submit_order(self, principal: Principal | None, payload: Mapping[str, Any],
                           *, attribution: str | None = None) -> tuple[dict[str, Any], bool]:
        """Place an order. Returns (order view, accepted). A refused order is returned with
        accepted=False and its reason code; nothing is acknowledged before it is journaled."""
        caller = require(principal, Role.TRADER)
        self._check_accepting()
        fields = dict(payload)
        account_id = resolve_account(caller, fields.pop("account_id", None), self._default_account())
        request = OrderRequest.parse(**fields)
        started = time.perf_counter()
        try:
            order = self.kernel.submit(account_id, request, attribution=attribution or caller.actor)
        except IdempotentRetryError as retry:  # a retry of a closed order: answered as it is
            view = order_row_view(closed_order_row(self.core, retry.order_id, account_id))
            return view, view["status"] != OrderStatus.REJECTED.value
        except UnknownSymbolError as unknown:
            raise await self._unknown_symbol(unknown) from None
        await self.core.durable()
        metrics = self.core.metrics
        metrics.order_ack.observe(time.perf_counter() - started)
        accepted = order.status is not OrderStatus.REJECTED
        (metrics.orders_accepted if accepted else metrics.orders_rejected).inc()
        return order_view(order), accepted

    async def submit_orders(self, principal: Principal | None, payloads: list[Any],
                            *, attribution: str | None = None) -> list[BatchOutcome]:
        """Place up to MAX_BATCH independent orders with one acknowledgement (one group commit).

        Not atomic: each order is accepted (its view), rejected (an OrderRejectedError) or
        invalid (the error of its kind) on its own, in request order. All outcomes are
        returned only once all are journaled.
        """
        caller = require(principal, Role.TRADER)
        self._check_accepting()
        if not payloads:
            raise InvalidError("orders: must hold at least one order", code="INVALID_BODY", field="orders")
        if len(payloads) > MAX_BATCH:
            raise InvalidError(f"orders: at most {MAX_BATCH} per batch, got "
                               f"{len(payloads)}", code="INVALID_BODY", field="orders")
        kernel = self.kernel
        default = self._default_account()
        who = attribution or caller.actor
        results: list[BatchOutcome] = []
        placed: list[Order | None] = []
        for index, payload in enumerate(payloads):
            try:
                if not isinstance(payload, dict):
                    raise InvalidError(f"orders[{index}]: must be a JSON object", code="INVALID_ORDER",
                                       field=f"orders[{index}]")
                fields = dict(payload)
                account_id = resolve_account(caller, fields.pop("account_id", None), default)
                order = kernel.submit(account_id, OrderRequest.parse(**fields), attribution=who)
            except IdempotentRetryError as retry:  # a retry of a closed order, as it is
                view = order_row_view(closed_order_row(self.core, retry.order_id, account_id))
                rejected = view["status"] == OrderStatus.REJECTED.value
                results.append(OrderRejectedError(view) if rejected else view)
                placed.append(None)
                continue
            except TradingError as exc:
                if kind_of(exc) is None:  # a fault fails the whole batch, as before
                    raise
                if isinstance(exc, UnknownSymbolError):
                    exc = await self._unknown_symbol(exc)
                results.append(exc)
                placed.append(None)
                continue
            placed.append(order)
            results.append({})  # the order's view, once durable
        await self.core.durable()
        metrics = self.core.metrics
        for slot, done in enumerate(placed):
            if done is None:
                continue
            accepted = done.status is not OrderStatus.REJECTED
            (metrics.orders_accepted if accepted else metrics.orders_rejected).inc()
            view = order_view(done)
            results[slot] = view if accepted else OrderRejectedError(view)
        return results

    async def _unknown_symbol(self, unknown: UnknownSymbolError) -> TradingError:
        """The refusal of an order for a symbol the venue does not know: one known from
        stored history only is named as such (the venue trades what a live feed quotes)."""
        try:
            history = await self.core.history.symbols(refresh=True)
        except UnavailableError:
            return unknown
        if unknown.symbol not in history:
            return unknown
        return InvalidError(f"symbol: {unknown.symbol} has stored history but no live quotes; "
                            "the live venue trades only symbols a live feed quotes (use its "
                            "history for backtests and analytics, or replay it as the live "
                            "feed)", code="NO_LIVE_QUOTES", field="symbol",
                            extra={"symbol": unknown.symbol})

    def get_order(self, principal: Principal | None, order_id: str) -> dict[str, Any]:
        caller = require(principal, Role.VIEWER)
        return find_order_view(self.core, order_id, caller.account_id)

    def get_order_by_client_id(self, principal: Principal | None, client_order_id: str,
                               account_id: str | None = None) -> dict[str, Any]:
        caller = require(principal, Role.VIEWER)
        account = resolve_account(caller, account_id, self._default_account())
        try:
            return order_view(self.kernel.order_by_client_id(account, client_order_id))
        except IdempotentRetryError as closed:  # closed and released: the projections have it
            return order_row_view(closed_order_row(self.core, closed.order_id, account))

    async def cancel_order(self, principal: Principal | None, order_id: str) -> dict[str, Any]:
        caller = require(principal, Role.TRADER)
        self._check_accepting()
        try:
            order = self.kernel.cancel(order_id, account_id=caller.account_id,
                                       reason=f"canceled by {caller.actor}")
        except OrderNotFoundError:
            self._refuse_closed(order_id, caller.account_id, "canceled")
            raise
        await self.core.durable()
        return order_view(order)

    async def replace_order(self, principal: Principal | None, order_id: str,
                            changes: Mapping[str, Any], *, attribution: str | None = None
                            ) -> dict[str, Any]:
        caller = require(principal, Role.TRADER)
        self._check_accepting()
        unknown = sorted(set(changes) - _REPLACE_FIELDS)
        if unknown:
            raise InvalidError(f"{unknown[0]}: cannot be replaced; allowed: "
                               + ", ".join(sorted(_REPLACE_FIELDS)), code="INVALID_ORDER", field=unknown[0])
        tif = changes.get("time_in_force")
        if tif is not None and (not isinstance(tif, str)
                                or tif not in {t.value for t in TimeInForce}):
            raise InvalidError(f"time_in_force: {tif!r} is not allowed; use one "
                               "of: " + ", ".join(t.value for t in TimeInForce), code="INVALID_ORDER",
                               field="time_in_force")
        coid = changes.get("client_order_id")
        if coid is not None and not isinstance(coid, str):
            raise InvalidError("client_order_id: must be a string", code="INVALID_ORDER",
                               field="client_order_id")
        if order_id not in self.kernel.state.orders:
            self._refuse_closed(order_id, caller.account_id, "replaced")
        order = self.kernel.replace(
            order_id, account_id=caller.account_id,
            qty=parse_number("qty", changes.get("qty"), QUANTITY, allow_none=True),
            limit_price=parse_number("limit_price", changes.get("limit_price"), PRICE,
                                     allow_none=True),
            stop_price=parse_number("stop_price", changes.get("stop_price"), PRICE,
                                    allow_none=True),
            # a price or a percentage, by the order's kind: check_shape bounds percentages
            trail=parse_number("trail", changes.get("trail"), PRICE, allow_none=True),
            time_in_force=TimeInForce(tif) if tif is not None else None,
            client_order_id=coid, attribution=attribution or caller.actor)
        await self.core.durable()
        return order_view(order)

    def _refuse_closed(self, order_id: str, account_id: str | None, verb: str) -> None:
        """An order the kernel released is closed: refuse as the kernel does for closed
        orders it still holds (OrderStateError); an unknown one stays a 404."""
        try:
            row = closed_order_row(self.core, order_id, account_id)
        except OrderNotFoundError:
            return
        raise OrderStateError(f"order {order_id} is {row['status']}; only working orders can "
                              f"be {verb}")

    # ---- positions and account -------------------------------------------------------------
    def positions(self, principal: Principal | None, account_id: str | None = None
                  ) -> list[dict[str, Any]]:
        caller = require(principal, Role.VIEWER)
        account = self.kernel.state.accounts.get(
            resolve_account(caller, account_id, self._default_account()))
        if account is None:
            raise NotFoundError(f"account {account_id!r} does not exist", code="UNKNOWN_ACCOUNT")
        return [position_view(account, p) for p in account.positions.values() if p.qty]

    def account(self, principal: Principal | None, account_id: str | None = None
                ) -> dict[str, Any]:
        caller = require(principal, Role.VIEWER)
        resolved = resolve_account(caller, account_id, self._default_account())
        account = self.kernel.state.accounts.get(resolved)
        if account is None:
            raise NotFoundError(f"account {resolved!r} does not exist", code="UNKNOWN_ACCOUNT")
        return account_view(account)

    def trading_status(self) -> dict[str, Any]:
        state = self.kernel.state
        return {"trading_status": state.platform_state.value,
                "trading_status_reason": state.platform_reason,
                "maintenance": state.maintenance is not None,
                "maintenance_reason": state.maintenance}

    # ---- self-test ------------------------------------------------------------------------
    async def test_order(self, principal: Principal | None) -> dict[str, Any]:
        """Push a one-share order through the whole pipeline on the self-test account."""
        require(principal, Role.OPERATOR)
        self._check_accepting()
        return await run_selftest(self.kernel, self.core.durable)

    # ---- emergency ------------------------------------------------------------------------
    async def halt(self, principal: Principal | None, *, level: TradingState, reason: str | None,
                   close_positions: bool = False) -> dict[str, Any]:
        caller = require(principal, Role.OPERATOR)
        why = reason or f"{level.value} requested by {caller.actor}"
        kernel = self.kernel
        canceled = kernel.halt(level=level, reason=why, actor=caller.actor)
        halted_at = iso(kernel.clock.now_ns())  # every order after this is refused
        closed = kernel.close_all_positions(reason=why, actor=caller.actor) if close_positions else []
        await self.core.durable()
        self._record(f"halt:{level.value}", caller, why, canceled=len(canceled))
        result: dict[str, Any] = {"trading_status": kernel.state.platform_state.value,
                                  "halted_at": halted_at, "reason": why,
                  "canceled": [o.id for o in canceled], "canceled_count": len(canceled)}
        if close_positions:
            result["closing_orders"] = [_close_view(c) for c in closed]
        return result

    async def close_all_positions(self, principal: Principal | None, reason: str | None
                                  ) -> dict[str, Any]:
        caller = require(principal, Role.OPERATOR)
        why = reason or f"close all positions requested by {caller.actor}"
        results = self.kernel.close_all_positions(reason=why, actor=caller.actor)
        await self.core.durable()
        self._record("close-all-positions", caller, why, orders=len(results))
        return {"reason": why, "results": [_close_view(c) for c in results]}

    async def resume(self, principal: Principal | None, *, reason: str | None, force: bool,
                     failing_checks: list[str]) -> dict[str, Any]:
        """Back to ACTIVE, unless the health check fails (409; an admin may force it).

        On a platform that is already active this is a no-op answer (`status:
        already_active`): nothing is journaled, logged as an emergency action or alerted, so a
        repeated or scripted resume leaves no false trail of a state change.
        """
        caller = require(principal, Role.ADMIN if force else Role.OPERATOR)
        if force and not reason:
            raise InvalidError("a forced resume needs a reason", code="REASON_REQUIRED", field="reason")
        state = self.kernel.state
        if state.platform_state is TradingState.ACTIVE:
            return {"status": "already_active", "trading_status": state.platform_state.value,
                    "reason": state.platform_reason, "forced": False}
        if failing_checks and not force:
            raise ConflictError("trading stays halted: the comprehensive health check fails; fix it "
                                "or force the resume as admin with a reason", code="HEALTH_CHECK_FAILED",
                                extra={"failing_checks": failing_checks})
        why = reason or f"resume requested by {caller.actor}"
        self.kernel.resume(reason=why, actor=caller.actor)
        await self.core.durable()
        self._record("resume" + (":forced" if force else ""), caller, why,
                     failing_checks=failing_checks)
        return {"status": "resumed", "trading_status": self.kernel.state.platform_state.value,
                "reason": why, "forced": force}

    def _record(self, action: str, caller: Principal, reason: str, **details: Any) -> None:
        self.core.emergency_log.append(action, actor=caller.actor, reason=reason, **details)
        kind = action.partition(":")[0]
        severity = Severity.CRITICAL if kind == "halt" else Severity.WARNING
        self.core.alerts.raise_alert(kind, f"{action} by {caller.actor}: {reason}",
                                         severity=severity, source="trading-engine",
                                         details=details)
        self.core.metrics.alerts.labels(kind).inc()


def _close_view(result: Any) -> dict[str, Any]:
    return {"account_id": result.account_id, "symbol": result.symbol,
            "order": order_view(result.order) if result.order is not None else None,
            "refused": None if result.refusal is None else
            {"code": result.refusal.code, "message": result.refusal.message}}


class OrderRejectedError(RefusedError):
    """An order journaled as rejected (risk or the trading state refused it), with its view.

    The one place a rejected order becomes a refusal: the REST route, the batch results and
    the MCP tool all answer with it ({code, message, order}, a 403 on REST).
    """

    def __init__(self, view: Mapping[str, Any]) -> None:
        super().__init__(view["reject_reason"] or "", code=view["reject_code"] or "REJECTED",
                         extra={"order": view})
        self.view = view


#: one batch result: the order's view (accepted), or the refusal that answers it
BatchOutcome = dict[str, Any] | TradingError
