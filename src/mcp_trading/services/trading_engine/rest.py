"""trading-engine :8010 — orders, positions, accounts, the self-test and emergency controls.

`build` composes one builder per route group; POST /orders and /orders/batch are also served by
FastRoutes in front of the app (faces/rest/fastpath.py), with the same handlers.
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from mcp_trading.domain.errors import InvalidError, TradingError
from mcp_trading.domain.trading_state import TradingState
from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.faces.rest.bodies import add_body_limit
from mcp_trading.faces.rest.fastpath import Handler, ItemHandler, add_fast_item_route, add_fast_route
from mcp_trading.faces.rest.responses import ORDER_RESPONSES, SELFTEST_RESPONSES, BatchResults
from mcp_trading.faces.rest.schemas import (
    BatchBody,
    EmergencyBody,
    OrderBody,
    ReplaceBody,
    ResumeBody,
    schema_of,
)
from mcp_trading.platform.errors import http_error
from mcp_trading.platform.health import FailingChecks
from mcp_trading.platform.health import failing_checks as platform_failing_checks
from mcp_trading.platform.platform import Platform
from mcp_trading.security.access import require
from mcp_trading.security.principal import Principal, Role
from mcp_trading.services.orders.rest import MAX_OFFSET
from mcp_trading.services.orders.service import MAX_PAGE, OrdersService
from mcp_trading.services.trading_engine.accounts import AccountsService
from mcp_trading.services.trading_engine.service import BatchOutcome, OrderRejectedError, TradingService

__all__ = ["build"]

_REASON_ONLY = frozenset({"reason"})
_RESUME_FIELDS = frozenset({"reason", "force"})
_ACCOUNT_FIELDS = frozenset({"account_id", "cash"})


def build(platform: Platform, *, failing_checks: FailingChecks | None = None) -> FastAPI:
    """`failing_checks()` returns the failing comprehensive health checks (default: the
    platform's, with the services its runner reports up)."""
    if failing_checks is None:
        failing_checks = functools.partial(platform_failing_checks, platform)
    svc = TradingService(platform.core)
    router = APIRouter()
    submit_order, submit_batch = _submit_routes(router, svc)
    get_one, cancel_one = _order_routes(router, svc)
    _account_routes(router, svc, AccountsService(platform.core))
    _emergency_routes(router, svc, failing_checks)
    app = create_app(platform, "trading-engine", routers=[router],
                     description="The trading kernel's face: orders, positions, account, "
                                 "emergency controls.")
    add_fast_route(app, method="POST", path="/orders", handler=submit_order, acks=True)
    add_fast_route(app, method="POST", path="/orders/batch", handler=submit_batch)
    # reads and cancels by id are a third of the soak's requests; FastAPI's routing and
    # dependency solving cost more than the read itself (profiled)
    static = frozenset({"batch", "test"})
    add_fast_item_route(app, method="GET", prefix="/orders/", handler=get_one, static=static)
    add_fast_item_route(app, method="DELETE", prefix="/orders/", handler=cancel_one,
                        static=static)
    # up to MAX_BATCH (500) orders of ~2 KiB each, well over the 64 KiB default
    add_body_limit(app, "POST", "/orders/batch", 1024 * 1024)
    return app


def _submit_routes(router: APIRouter, svc: TradingService) -> tuple[Handler, Handler]:
    """POST /orders and /orders/batch; returns their handlers for the FastRoutes in front."""

    async def submit_order(principal: Principal | None, body: dict[str, Any] | None
                           ) -> tuple[int, Any]:
        view, accepted = await svc.submit_order(principal, body or {})
        if accepted:
            return 200, view
        raise OrderRejectedError(view)  # answered 403 {code, message, order} by the one mapping

    @router.post("/orders", tags=["orders"], summary="Submit an order (acknowledged = journaled)",
                 openapi_extra=schema_of(OrderBody), responses=ORDER_RESPONSES)
    async def submit(request: Request) -> Response:
        # served by the FastRoute in front of this app; kept for OpenAPI and as a fallback
        status, body = await submit_order(principal_of(request), await json_body(request))
        return FastJSON(body, status_code=status)

    async def submit_batch(principal: Principal | None, body: dict[str, Any] | None
                           ) -> tuple[int, Any]:
        require(principal, Role.TRADER)  # the caller first: no answer about the body before it
        orders = (body or {}).get("orders")
        if not isinstance(orders, list):
            raise InvalidError("orders: must be a list of order objects", code="INVALID_BODY", field="orders")
        return 200, {"results": [_batch_result(outcome)
                                 for outcome in await svc.submit_orders(principal, orders)]}

    @router.post("/orders/batch", tags=["orders"],
                 summary="Submit up to 500 independent orders, acknowledged together",
                 openapi_extra=schema_of(BatchBody),
                 responses={200: {"model": BatchResults, "description": "One per order"}})
    async def batch(request: Request) -> Response:
        # served by a FastRoute in front of this app; kept for OpenAPI and as a fallback
        status, body = await submit_batch(principal_of(request), await json_body(request))
        return FastJSON(body, status_code=status)

    return submit_order, submit_batch


def _order_routes(router: APIRouter, svc: TradingService) -> tuple[ItemHandler, ItemHandler]:
    """Find, read, cancel and replace an order; the self-test. Returns the read and cancel
    handlers for the FastItemRoutes in front."""

    async def get_one(principal: Principal | None, order_id: str) -> tuple[int, Any]:
        return 200, svc.get_order(principal, order_id)

    async def cancel_one(principal: Principal | None, order_id: str) -> tuple[int, Any]:
        return 200, await svc.cancel_order(principal, order_id)

    _find_route(router, svc)

    @router.get("/orders/{order_id}", tags=["orders"], summary="One order",
                responses=ORDER_RESPONSES)
    async def get(request: Request, order_id: str) -> Response:
        # served by a FastItemRoute in front of this app; kept for OpenAPI and as a fallback
        return FastJSON((await get_one(principal_of(request), order_id))[1])

    @router.delete("/orders/{order_id}", tags=["orders"], summary="Cancel a working order",
                   responses=ORDER_RESPONSES)
    async def cancel(request: Request, order_id: str) -> Response:
        # served by a FastItemRoute in front of this app; kept for OpenAPI and as a fallback
        return FastJSON((await cancel_one(principal_of(request), order_id))[1])

    @router.patch("/orders/{order_id}", tags=["orders"], summary="Replace (cancel/replace)",
                  openapi_extra=schema_of(ReplaceBody), responses=ORDER_RESPONSES)
    async def replace(request: Request, order_id: str) -> Response:
        return FastJSON(await svc.replace_order(principal_of(request), order_id,
                                                await json_body(request)))

    @router.post("/orders/test", tags=["operations"],
                 summary="Self-test: one order through the whole pipeline on a test account",
                 responses=SELFTEST_RESPONSES)
    async def test_order(request: Request) -> Response:
        report = await svc.test_order(principal_of(request))
        return FastJSON(report, status_code=200 if report["result"] == "pass" else 503)

    return get_one, cancel_one


def _find_route(router: APIRouter, svc: TradingService) -> None:
    """GET /orders: one order by client_order_id, else the orders service's listing."""
    listing = OrdersService(svc.core)

    @router.get("/orders", tags=["orders"],
                summary="One order by client_order_id; without it, list orders as orders :8011")
    async def find(
        request: Request,
        *,
        client_order_id: str | None = Query(None, max_length=48,
                                            description="Answer this one order (no listing)"),
        account_id: str | None = Query(None, max_length=64),
        status: str | None = Query(None, description="open (default) | closed | all | a status"),
        symbol: str | None = Query(None, max_length=32),
        after: str | None = Query(None, description="Created at or after (ISO 8601)"),
        until: str | None = Query(None, description="Created at or before (ISO 8601)"),
        limit: int | None = Query(None, ge=1, le=MAX_PAGE, description="Default 100"),
        cursor: str | None = Query(None, description="next_cursor of the previous page"),
        offset: int | None = Query(None, ge=0, le=MAX_OFFSET),
    ) -> Response:
        principal = principal_of(request)
        filters = {"status": status, "symbol": symbol, "after": after, "until": until,
                   "limit": limit, "cursor": cursor, "offset": offset}
        if client_order_id is None:  # the same listing as GET :8011/orders, same scope
            return FastJSON(listing.list_orders(
                principal, status=status, symbol=symbol, account_id=account_id, after=after,
                until=until, limit=100 if limit is None else limit, cursor=cursor, offset=offset))
        extra = sorted(k for k, v in filters.items() if v is not None)
        if extra:
            raise InvalidError(f"{extra[0]}: lists orders, but client_order_id names one; send "
                               "one or the other", code="INVALID_QUERY", field=extra[0])
        return FastJSON(svc.get_order_by_client_id(principal, client_order_id, account_id))


def _account_routes(router: APIRouter, svc: TradingService, accounts: AccountsService) -> None:
    """Positions and account of the caller; list, read and open accounts."""

    @router.get("/positions", tags=["account"], summary="Open positions")
    async def positions(request: Request, account_id: str | None = None) -> Response:
        return FastJSON(svc.positions(principal_of(request), account_id))

    @router.get("/account", tags=["account"], summary="Cash, equity, buying power, state")
    async def account(request: Request, account_id: str | None = None) -> Response:
        return FastJSON(svc.account(principal_of(request), account_id))

    @router.get("/accounts", tags=["account"],
                summary="Accounts you may see (a key bound to an account: that one)")
    async def list_accounts(request: Request) -> Response:
        return FastJSON(accounts.list_accounts(principal_of(request)))

    @router.get("/accounts/{account_id}", tags=["account"], summary="One account")
    async def get_account(request: Request, account_id: str) -> Response:
        return FastJSON(accounts.get_account(principal_of(request), account_id))

    @router.post("/accounts", tags=["account"], status_code=201,
                 summary="Open an account (operators; journaled; 409 if the id is taken)",
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": {
                         "type": "object", "required": ["account_id", "cash"],
                         "additionalProperties": False, "properties": {
                             "account_id": {"type": "string",
                                            "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"},
                             "cash": {"type": "string", "description": "> 0, <= 1e12, cents"},
                         }}}}}})
    async def create_account(request: Request) -> Response:
        caller = require(principal_of(request), Role.OPERATOR)  # before the body is judged
        body = await json_body(request)
        unknown = sorted(set(body) - _ACCOUNT_FIELDS)
        if unknown:
            raise InvalidError(f"{unknown[0]}: not accepted here; allowed: "
                               + ", ".join(sorted(_ACCOUNT_FIELDS)), code="INVALID_BODY", field=unknown[0])
        missing = sorted(_ACCOUNT_FIELDS - set(body))
        if missing:
            raise InvalidError(f"{missing[0]}: required (e.g. "
                               '{"account_id": "swing-1", "cash": "250000"})', code="INVALID_BODY",
                               field=missing[0])
        view = await accounts.create_account(caller, body["account_id"],
                                             body["cash"])
        return FastJSON(view, status_code=201)


def _emergency_routes(router: APIRouter, svc: TradingService,
                      failing_checks: FailingChecks) -> None:
    """Halt (new orders only, or with every working order cancelled), close all, resume."""

    @router.post("/emergency/halt-new-orders", tags=["emergency"],
                 summary="Refuse new orders and replaces; cancels still allowed",
                 openapi_extra=schema_of(EmergencyBody, required=False))
    async def halt_new(request: Request) -> Response:
        return FastJSON(await svc.halt(principal_of(request), level=TradingState.HALTED_NEW_ORDERS,
                                       reason=await _reason(request)))

    @router.post("/emergency/halt", tags=["emergency"],
                 summary="Halt and cancel every working order, atomically",
                 openapi_extra=schema_of(EmergencyBody, required=False))
    async def halt(request: Request) -> Response:
        return FastJSON(await svc.halt(principal_of(request), level=TradingState.HALTED,
                                       reason=await _reason(request)))

    @router.post("/emergency/close-all-positions", tags=["emergency"],
                 summary="Flatten every position with market orders (allowed while halted)",
                 openapi_extra=schema_of(EmergencyBody, required=False))
    async def close_all(request: Request) -> Response:
        return FastJSON(await svc.close_all_positions(principal_of(request),
                                                      await _reason(request)))

    @router.post("/emergency/resume-trading", tags=["emergency"],
                 summary="Resume; refused (409) unless the comprehensive health check passes",
                 openapi_extra=schema_of(ResumeBody, required=False))
    async def resume(request: Request) -> Response:
        body = await _emergency_body(request, _RESUME_FIELDS)
        reason = body.get("reason")
        return FastJSON(await svc.resume(principal_of(request),
                                         reason=reason.strip() or None if reason else None,
                                         force=body.get("force", False),
                                         failing_checks=failing_checks()))


async def _emergency_body(request: Request, allowed: frozenset[str]) -> dict[str, Any]:
    """An empty body is fine (the runbook sends none); anything sent must be valid."""
    body = await json_body(request, allow_empty=True)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidError(f"{unknown[0]}: not accepted here; allowed: "
                           + ", ".join(sorted(allowed)), code="INVALID_BODY", field=unknown[0])
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InvalidError("reason: must be a string", code="INVALID_BODY", field="reason")
    if "force" in body and not isinstance(body["force"], bool):
        raise InvalidError("force: must be true or false", code="INVALID_BODY", field="force")
    return body


async def _reason(request: Request) -> str | None:
    reason = (await _emergency_body(request, _REASON_ONLY)).get("reason")
    return reason.strip() or None if isinstance(reason, str) else None


def _batch_result(outcome: BatchOutcome) -> dict[str, Any]:
    """One entry of a batch answer: {status, order} or {status, code, message, field?, ...}."""
    if isinstance(outcome, TradingError):
        answer = http_error(outcome)
        assert answer is not None  # the service keeps refusals only; a fault fails the batch
        status, body = answer
        return {"status": status, **body}
    return {"status": 200, "order": outcome}
