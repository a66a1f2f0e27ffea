"""portfolio :8013 — valuations and P&L per account and in total, positions with marks."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from mcp_trading.domain.errors import InvalidError
from mcp_trading.faces.rest.app import FastJSON, create_app, json_body, principal_of
from mcp_trading.platform.platform import Platform
from mcp_trading.services.portfolio.reports import ReportsService
from mcp_trading.services.portfolio.sampler import equity_history
from mcp_trading.services.portfolio.service import PortfolioService

__all__ = ["build"]


def build(platform: Platform) -> FastAPI:
    svc = PortfolioService(platform.core)
    stored = ReportsService(platform.settings.resolved_database_url)
    router = APIRouter()

    @router.get("/portfolio/summary", tags=["portfolio"],
                summary="Equity, cash, market value, P&L and return per account and in total")
    async def summary(request: Request, account_id: str | None = Query(None, max_length=64)
                      ) -> Response:
        return FastJSON(svc.summary(principal_of(request), account_id))

    @router.get("/portfolio/positions", tags=["portfolio"],
                summary="Open positions per account at their latest marks")
    async def positions(request: Request, account_id: str | None = Query(None, max_length=64)
                        ) -> Response:
        return FastJSON(svc.positions(principal_of(request), account_id))

    @router.get("/portfolio/performance", tags=["portfolio"],
                summary="Performance so far: return since start, today's P&L and drawdown")
    async def performance(request: Request, account_id: str | None = Query(None, max_length=64)
                          ) -> Response:
        return FastJSON(svc.performance(principal_of(request), account_id))

    @router.get("/portfolio/reports", tags=["reports"],
                summary="The stored end-of-day reports (newest day first), optionally of one date")
    async def reports(request: Request, date: str | None = Query(
            None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")) -> Response:
        return FastJSON(stored.list(principal_of(request), date))

    @router.get("/portfolio/reports/{date}/{name}", tags=["reports"],
                summary="One stored report: JSON, or the HTML page (?format=html or NAME.html)")
    async def report(request: Request, date: str, name: str, format: str | None = Query(
            None, pattern="^(json|html|txt)$")) -> Response:
        text, media = stored.get(principal_of(request), date, name, format)
        return Response(text, media_type=media)

    _equity_routes(router, platform)
    return create_app(platform, "portfolio", routers=[router],
                      description="Portfolio valuations and P&L from the kernel's marked book.")


def _equity_routes(router: APIRouter, platform: Platform) -> None:
    equity = equity_history(platform)

    @router.get("/portfolio/equity", tags=["portfolio"],
                summary="Equity history: the end-of-day series (1Day) or the intraday samples")
    async def equity_series(request: Request,
                            account_id: str | None = Query(None, max_length=64),
                            since: str | None = Query(None, max_length=64, description=(
                                "a date (YYYY-MM-DD), an ISO time, or a duration: 12h, 7d")),
                            interval: str = Query("1Day", max_length=16, description=(
                                "1Day (journaled close snapshots) or intraday (samples)"))
                            ) -> Response:
        principal = principal_of(request)
        return FastJSON(await asyncio.to_thread(equity.history, principal, account_id=account_id,
                                                since=since, interval=interval))

    @router.post("/portfolio/equity/snapshot", tags=["portfolio"],
                 summary="Journal an equity snapshot now (operators); body: {account_id?}",
                 openapi_extra={"requestBody": {"required": False, "content": {
                     "application/json": {"schema": {
                         "type": "object", "additionalProperties": False,
                         "properties": {"account_id": {"type": "string"}}}}}}})
    async def snapshot(request: Request) -> Response:
        body = await json_body(request, allow_empty=True)
        unknown = sorted(set(body) - {"account_id"})
        if unknown:
            raise InvalidError(f"{unknown[0]}: not accepted here; allowed: account_id",
                               code="INVALID_BODY", field=unknown[0])
        account_id = body.get("account_id")
        if account_id is not None and (not isinstance(account_id, str) or not account_id):
            raise InvalidError("account_id: give an account id (text), or leave it out for "
                               "every account", code="INVALID_BODY", field="account_id")
        return FastJSON(await equity.snapshot(principal_of(request), account_id), status_code=201)
